/** Bounded retries with exponential backoff and full jitter, for calls to Matrix. */

export class RetryableError extends Error {
  override readonly name = 'RetryableError';

  constructor(
    message: string,
    /** The server's own hint (Matrix `retry_after_ms`), used instead of the backoff when given. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

export interface RetryOptions {
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly onRetry?: (attempt: number, error: Error, delayMs: number) => void;
}

export const DEFAULT_RETRY: RetryOptions = { attempts: 5, baseDelayMs: 200, maxDelayMs: 4000 };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `task` until it succeeds, throws something other than {@link RetryableError}, or has failed
 * `attempts` times; then throws the last error.
 */
export async function withRetry<T>(task: () => Promise<T>, options: RetryOptions = DEFAULT_RETRY): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await task();
    } catch (error) {
      if (!(error instanceof RetryableError) || attempt >= options.attempts) throw error;
      const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
      const delay = error.retryAfterMs ?? Math.round(Math.random() * ceiling);
      options.onRetry?.(attempt, error, delay);
      await sleep(Math.min(delay, options.maxDelayMs));
    }
  }
}
