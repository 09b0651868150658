/** Polls `probe` every 100 ms until it gives a value; fails naming `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * Polls `probe` every 200 ms until it gives a value other than undefined or false; fails naming `what`
 * after `timeoutMs`. A probe that throws (a room key still on its way to the reading device, a page
 * between two states) is asked again; its last error is in the failure's message.
 */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let failure = '';
  for (;;) {
    const value = await probe().catch((error: Error) => ((failure = `: ${error.message}`), undefined));
    if (value !== undefined && value !== false) return value as T;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${failure}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
