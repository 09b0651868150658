/**
 * Bounded retries for calls to Matrix, on the project's one retry helper (`protocol/retry.ts`: equal
 * jitter, the server's `retry_after_ms` honoured, every wait capped): only a {@link RetryableError}
 * is retried.
 */
import { withRetry as retry } from '../../protocol/index.ts';

export class RetryableError extends Error {
  override readonly name = 'RetryableError';

  constructor(
    message: string,
    /** The server's own hint (Matrix `retry_after_ms`): the wait is at least this, within `maxDelayMs`. */
    readonly retryAfterMs?: number,
    /** The homeserver's HTTP status, when it answered (429, 5xx). */
    readonly status?: number,
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

/**
 * Runs `task` until it succeeds, throws something other than {@link RetryableError}, or has failed
 * `attempts` times; then throws the last error.
 */
export function withRetry<T>(task: () => Promise<T>, options: RetryOptions = DEFAULT_RETRY): Promise<T> {
  const { onRetry } = options;
  return retry(() => task(), options, {
    isRetryable: (error) => error instanceof RetryableError,
    ...(onRetry ? { onRetry: (attempt: number, error: unknown, delayMs: number) => onRetry(attempt, error as Error, delayMs) } : {}),
  });
}
