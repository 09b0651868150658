/**
 * The element's retries: the project's one retry helper (`protocol/retry.ts`), the Matrix sends'
 * policy, and a timeout that rejects with a chosen error.
 */
import { abortError } from '../protocol/index.ts';
import type { RetryPolicy } from '../protocol/index.ts';

export { abortError, backoffDelay, sleep, withRetry } from '../protocol/index.ts';
export type { RetryHint, RetryPolicy } from '../protocol/index.ts';

export const DEFAULT_SEND_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 500, maxDelayMs: 4000 };

/** `promise`, or `onTimeout()` thrown after `ms`; an abort rejects at once. */
export function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => unknown, signal?: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(onTimeout());
    }, ms);
    const onAbort = () => {
      cleanup();
      reject(abortError(signal));
    };
    const cleanup = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        cleanup();
        resolve(value);
      },
      (error: unknown) => {
        cleanup();
        reject(error);
      },
    );
  });
}
