/**
 * The backend's rate limits, one per kind of request, in memory (see middleware/rate-limit.ts for the
 * shared stores). Anonymous requests count per client address, signed-in ones per user, and the
 * agent's routes count only requests without the right API key: the agent is never limited.
 */
import type { ServerConfig } from './config.ts';
import { limitPerUserInProcess, memoryLimit } from './middleware/rate-limit.ts';
import type { Limit } from './middleware/rate-limit.ts';
import type { RouteMiddleware } from './router.ts';

export interface Limits {
  readonly signIn: Limit;
  readonly apiKeyFailures: Limit;
  /** Counted in process (see limitPerUserInProcess): the list is the hot route. */
  readonly list: RouteMiddleware;
  readonly sync: Limit;
}

export function createLimits(config: ServerConfig): Limits {
  const perMinute = config.rateLimits;
  return {
    signIn: memoryLimit(perMinute.authPerMinute, 60, 'rate_limited', 'Too many sign-in attempts from this address: try again after Retry-After seconds'),
    apiKeyFailures: memoryLimit(
      perMinute.apiKeyFailuresPerMinute,
      60,
      'rate_limited',
      'Too many requests without a valid API key from this address: try again after Retry-After seconds',
    ),
    list: limitPerUserInProcess(perMinute.listPerMinute, 'rate_limited', 'Too many list requests for this user: try again after Retry-After seconds'),
    sync: memoryLimit(
      perMinute.syncsPerMinute,
      60,
      'too_many_syncs',
      `At most ${perMinute.syncsPerMinute} syncs a minute per user: try again after Retry-After seconds`,
    ),
  };
}
