/**
 * The backend's rate limits, one per kind of request, counted where `counters` keeps them: in memory
 * by default, in PostgreSQL when backends share a database (see middleware/rate-limit.ts). Anonymous
 * requests count per client address, signed-in ones per user, and the agent's routes count only
 * requests without the right API key: the agent is never limited.
 */
import type { ServerConfig } from './config.ts';
import { limit, limitPerUserInProcess, memoryCounters } from './middleware/rate-limit.ts';
import type { Limit, LimitCounters } from './middleware/rate-limit.ts';
import type { RouteMiddleware } from './router.ts';

export interface Limits {
  readonly signIn: Limit;
  readonly apiKeyFailures: Limit;
  /** Counted in each process, also with a database (see limitPerUserInProcess): the list is the hot route. */
  readonly list: RouteMiddleware;
  readonly sync: Limit;
}

export function createLimits(config: ServerConfig, counters: LimitCounters = memoryCounters): Limits {
  const perMinute = config.rateLimits;
  return {
    signIn: limit(
      counters,
      'sign_in',
      perMinute.authPerMinute,
      60,
      'rate_limited',
      'Too many sign-in attempts from this address: try again after Retry-After seconds',
    ),
    apiKeyFailures: limit(
      counters,
      'api_key_failures',
      perMinute.apiKeyFailuresPerMinute,
      60,
      'rate_limited',
      'Too many requests without a valid API key from this address: try again after Retry-After seconds',
    ),
    list: limitPerUserInProcess(perMinute.listPerMinute, 'rate_limited', 'Too many list requests for this user: try again after Retry-After seconds'),
    sync: limit(
      counters,
      'sync',
      perMinute.syncsPerMinute,
      60,
      'too_many_syncs',
      `At most ${perMinute.syncsPerMinute} syncs a minute per user: try again after Retry-After seconds`,
    ),
  };
}
