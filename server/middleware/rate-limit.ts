/**
 * Rate limits on `rate-limiter-flexible`: in memory for one backend; its Redis or PostgreSQL limiters
 * implement the same `RateLimiterAbstract`, so several backends can share counters without a change
 * here. Each limit counts per key (the client's address after `TRUST_PROXY_HOPS` proxies, or the
 * signed-in user) within a fixed window; a refusal is 429 with a code and Retry-After.
 */
import type { Context, Next } from 'koa';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { ApiErrorCode } from '../../protocol/api/index.ts';
import { ApiError } from '../errors.ts';

/** A limit: at most `points` per `seconds`, refused with `code`. */
export interface Limit {
  readonly limiter: RateLimiterAbstract;
  readonly code: ApiErrorCode;
  readonly message: string;
}

export function memoryLimit(points: number, seconds: number, code: ApiErrorCode, message: string): Limit {
  return { limiter: new RateLimiterMemory({ points, duration: seconds }), code, message };
}

function retryAfterSeconds(res: RateLimiterRes): number {
  return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
}

function setHeaders(ctx: Context, limit: Limit, res: RateLimiterRes): void {
  ctx.set('X-RateLimit-Limit', String(limit.limiter.points));
  ctx.set('X-RateLimit-Remaining', String(res.remainingPoints));
  ctx.set('X-RateLimit-Reset', String(Math.ceil((Date.now() + res.msBeforeNext) / 1000)));
}

/**
 * Counts one request for `key`; throws the 429 when the key is over its limit. A store that fails
 * (a shared one out of reach) is not the client's fault and goes on as an error of the server.
 */
export async function consume(limit: Limit, key: string, ctx?: Context): Promise<void> {
  let res: RateLimiterRes;
  try {
    res = await limit.limiter.consume(key);
  } catch (error) {
    if (!(error instanceof RateLimiterRes)) throw error;
    if (ctx) setHeaders(ctx, limit, error);
    throw ApiError.tooManyRequests(limit.code, limit.message, retryAfterSeconds(error));
  }
  if (ctx) setHeaders(ctx, limit, res);
}

/** Per client address (`ctx.ip`, see TRUST_PROXY_HOPS); with `headers`, X-RateLimit-* on every answer (for browsers). */
export function limitPerAddress(limit: Limit, headers = true) {
  return async (ctx: Context, next: Next): Promise<void> => {
    await consume(limit, ctx.ip, headers ? ctx : undefined);
    return next();
  };
}

/** Per signed-in user (after requireUser). */
export function limitPerUser(limit: Limit) {
  return async (ctx: Context, next: Next): Promise<void> => {
    await consume(limit, ctx.state.userId!, ctx);
    return next();
  };
}
