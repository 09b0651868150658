/** Bounded exponential backoff for the Matrix sends, and a timeout that rejects with a chosen error. */

export interface RetryPolicy {
  /** Attempts in all, the first included (at least 1). */
  readonly attempts: number;
  /** Delay before the second attempt; each later one doubles, up to `maxDelayMs`. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_SEND_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 500, maxDelayMs: 4000 };

/** What a failed attempt may say about retrying (transports set these on their errors). */
export interface RetryHint {
  readonly retryable?: boolean;
  readonly retryAfterMs?: number;
}

export function backoffDelay(policy: RetryPolicy, failedAttempt: number, hint?: RetryHint): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (failedAttempt - 1));
  // Equal jitter: half fixed, half random, so retries from many clients spread out.
  const delay = exponential / 2 + Math.random() * (exponential / 2);
  return Math.min(policy.maxDelayMs, Math.max(delay, hint?.retryAfterMs ?? 0));
}

export function abortError(signal?: AbortSignal): unknown {
  return signal?.reason ?? new DOMException('Aborted', 'AbortError');
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function hintOf(error: unknown): RetryHint {
  return typeof error === 'object' && error !== null ? (error as RetryHint) : {};
}

/**
 * Runs `attempt` until it succeeds, the policy's attempts are spent, or an error says it is not
 * retryable (`retryable: false`); then throws the last error. An abort stops the waiting at once.
 */
export async function withRetry<T>(
  attempt: (n: number) => Promise<T>,
  policy: RetryPolicy,
  options: { signal?: AbortSignal; onRetry?: (n: number, error: unknown, delayMs: number) => void } = {},
): Promise<T> {
  const attempts = Math.max(1, Math.floor(policy.attempts));
  for (let n = 1; ; n += 1) {
    if (options.signal?.aborted) throw abortError(options.signal);
    try {
      return await attempt(n);
    } catch (error) {
      const hint = hintOf(error);
      if (n >= attempts || hint.retryable === false || options.signal?.aborted) throw error;
      const delay = backoffDelay(policy, n, hint);
      options.onRetry?.(n, error, delay);
      await sleep(delay, options.signal);
    }
  }
}

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
