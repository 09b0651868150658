/**
 * matrix-js-sdk (37 to 43) times a request out with a `setTimeout` that it never clears (80 s for each /sync
 * long poll, 60 s for each crypto request), so a stopped client keeps Node running for up to 80 s.
 * This gives the client's HTTP layer the same timeout as an `AbortSignal.timeout`, whose timer is
 * cleared by the runtime and does not hold the process open.
 */
import type { MatrixClient } from 'matrix-js-sdk';

type RequestOtherUrl = MatrixClient['http']['requestOtherUrl'];

export function useReleasableTimeouts(client: MatrixClient): void {
  const http = client.http;
  const original: RequestOtherUrl = http.requestOtherUrl.bind(http);
  http.requestOtherUrl = ((method, url, body, opts) => {
    const timeoutMs = opts?.localTimeoutMs ?? http.opts.localTimeoutMs;
    if (timeoutMs === undefined) return original(method, url, body, opts);
    const signals = [AbortSignal.timeout(timeoutMs), ...(opts?.abortSignal ? [opts.abortSignal] : [])];
    const { localTimeoutMs: _dropped, ...rest } = opts ?? {};
    // The cast: the SDK types its options with the DOM's `RequestInit['priority']`, which Node's types lack.
    return original(method, url, body, { ...rest, abortSignal: AbortSignal.any(signals) } as Parameters<RequestOtherUrl>[3]);
  }) as RequestOtherUrl;
}
