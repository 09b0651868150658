/**
 * The DID a Matrix user has without any registry: `did:matrix:` and the user ID, each byte outside
 * `[A-Za-z0-9._:-]` percent-encoded (`@alice:example.org` → `did:matrix:%40alice:example.org`). The
 * element announces it when the page names no DID, and the backend takes it as proven for the user
 * whose session made the sync: the homeserver vouched for that user ID.
 */
export function matrixUserDid(userId: string): string {
  const encoded = Array.from(new TextEncoder().encode(userId), (byte) => {
    const char = String.fromCharCode(byte);
    return /[A-Za-z0-9._:-]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }).join('');
  return `did:matrix:${encoded}`;
}
