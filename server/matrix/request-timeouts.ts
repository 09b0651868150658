/**
 * Every request to the homeserver ends: a homeserver that accepts a connection and never answers
 * would otherwise hold a sync (and its per-call lock) for ever. The client is created with
 * `localTimeoutMs` (MATRIX_REQUEST_TIMEOUT_SECONDS); the long-poll /sync sets its own, longer one.
 *
 * matrix-js-sdk (37 to 43) times a request out with a `setTimeout` that it never clears (80 s for each /sync
 * long poll, 60 s for each crypto request), so a stopped client keeps Node running for up to 80 s.
 * This gives the client's HTTP layer the same timeout as an `AbortSignal.timeout`, whose timer is
 * cleared by the runtime and does not hold the process open, and tells a timeout apart from other
 * network failures ({@link MatrixTimeoutError}: answered 504, not retried).
 */
import { ConnectionError } from 'matrix-js-sdk';
import type { MatrixClient } from 'matrix-js-sdk';

type RequestOtherUrl = MatrixClient['http']['requestOtherUrl'];

/**
 * The homeserver did not answer within the request timeout. A ConnectionError to the SDK (its sync
 * loop treats it as any network failure), and its own class to this backend.
 */
export class MatrixTimeoutError extends ConnectionError {
  constructor(
    readonly method: string,
    readonly timeoutMs: number,
  ) {
    super(`the homeserver did not answer ${method} within ${Math.round(timeoutMs / 1000)} s`);
  }
}

export function useReleasableTimeouts(client: MatrixClient): void {
  const http = client.http;
  const original: RequestOtherUrl = http.requestOtherUrl.bind(http);
  http.requestOtherUrl = (async (method, url, body, opts) => {
    const timeoutMs = opts?.localTimeoutMs ?? http.opts.localTimeoutMs;
    if (timeoutMs === undefined) return original(method, url, body, opts);
    const timeout = AbortSignal.timeout(timeoutMs);
    const signals = [timeout, ...(opts?.abortSignal ? [opts.abortSignal] : [])];
    const { localTimeoutMs: _dropped, ...rest } = opts ?? {};
    try {
      // The cast: the SDK types its options with the DOM's `RequestInit['priority']`, which Node's types lack.
      return await original(method, url, body, { ...rest, abortSignal: AbortSignal.any(signals) } as Parameters<RequestOtherUrl>[3]);
    } catch (error) {
      if (timeout.aborted && !opts?.abortSignal?.aborted) throw new MatrixTimeoutError(method, timeoutMs);
      throw error;
    }
  }) as RequestOtherUrl;
}
