import { ProtocolError } from './errors.ts';

/** The call key: 32 random bytes written as 64 lowercase hex characters. */
export const CALL_KEY_PATTERN = /^[0-9a-f]{64}$/;

export function isCallKey(value: unknown): value is string {
  return typeof value === 'string' && CALL_KEY_PATTERN.test(value);
}

export function assertCallKey(value: unknown): asserts value is string {
  if (!isCallKey(value)) throw ProtocolError.invalidCallKey();
}

/** A new call key from the platform's CSPRNG (`crypto.getRandomValues`, in browsers and Node). */
export function generateCallKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
