/**
 * The one retry helper of the project, for the element, the backend and the agent alike: bounded
 * attempts, exponential backoff with one jitter rule (equal jitter), a server's own hint honoured,
 * every wait capped. Only web-platform timers and `AbortSignal`, which browsers and Node both have.
 */

export interface RetryPolicy {
  /** Attempts in all, the first included (at least 1). */
  readonly attempts: number;
  /** Delay before the second attempt; each later one doubles, up to `maxDelayMs`. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

/** What a failed attempt may say about retrying (errors carry these as properties). */
export interface RetryHint {
  /** `false`: asking again cannot help. */
  readonly retryable?: boolean;
  /** The server's own wait (Matrix `retry_after_ms`, HTTP `Retry-After`). */
  readonly retryAfterMs?: number;
}

/**
 * The wait after the `failedAttempt`-th attempt. Equal jitter: half of the exponential step fixed, half
 * random, so that many clients spread out but none retries at once; a server's hint lengthens it; never
 * more than `maxDelayMs`.
 */
export function backoffDelay(policy: RetryPolicy, failedAttempt: number, hint?: RetryHint): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (failedAttempt - 1));
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

export interface RetryOptions {
  readonly signal?: AbortSignal;
  /** Whether a failure is worth another attempt; by default, any error but one that says `retryable: false`. */
  readonly isRetryable?: (error: unknown) => boolean;
  /** Told before each wait, with the wait. */
  readonly onRetry?: (failedAttempt: number, error: unknown, delayMs: number) => void;
}

/**
 * Runs `attempt` until it succeeds, the policy's attempts are spent, or a failure is not retryable;
 * then throws the last error. An abort stops the waiting at once.
 */
export async function withRetry<T>(attempt: (n: number) => Promise<T>, policy: RetryPolicy, options: RetryOptions = {}): Promise<T> {
  const attempts = Math.max(1, Math.floor(policy.attempts));
  const isRetryable = options.isRetryable ?? ((error: unknown) => hintOf(error).retryable !== false);
  for (let n = 1; ; n += 1) {
    if (options.signal?.aborted) throw abortError(options.signal);
    try {
      return await attempt(n);
    } catch (error) {
      if (n >= attempts || !isRetryable(error) || options.signal?.aborted) throw error;
      const delay = backoffDelay(policy, n, hintOf(error));
      options.onRetry?.(n, error, delay);
      await sleep(delay, options.signal);
    }
  }
}
