/**
 * Rate limits on `rate-limiter-flexible`: counted in memory for one backend, or in PostgreSQL's
 * `rate_limits` table when several backends share a database (so that together they enforce one
 * limit). Each limit counts per key (the client's address after `TRUST_PROXY_HOPS` proxies, or the
 * signed-in user) within a fixed window; a refusal is 429 with a code and Retry-After.
 */
import type { Context, Next } from 'koa';
import type pg from 'pg';
import { RateLimiterMemory, RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import type { ApiErrorCode } from '../../protocol/api/index.ts';
import { ApiError } from '../errors.ts';

/** A limit: at most `points` per `seconds`, refused with `code`. */
export interface Limit {
  readonly limiter: RateLimiterAbstract;
  readonly code: ApiErrorCode;
  readonly message: string;
}

/** Where a limit's counters live: makes the limiter named `name` (unique per limit) for `points` per `seconds`. */
export type LimitCounters = (name: string, points: number, seconds: number) => RateLimiterAbstract;

/** Counters in this process: the default, right for one backend. */
export const memoryCounters: LimitCounters = (_name, points, seconds) => new RateLimiterMemory({ points, duration: seconds });

/**
 * Counters in PostgreSQL (the table of migration 004), shared by every backend on the database. Should
 * the database fail, each backend counts in memory meanwhile (rate-limiter-flexible's insurance
 * limiter) rather than failing every limited request.
 */
export function postgresCounters(pool: pg.Pool): LimitCounters {
  return (name, points, seconds) =>
    new RateLimiterPostgres({
      storeClient: pool,
      storeType: 'pool',
      tableName: 'rate_limits',
      tableCreated: true,
      keyPrefix: name,
      points,
      duration: seconds,
      insuranceLimiter: new RateLimiterMemory({ points, duration: seconds }),
    });
}

export function limit(counters: LimitCounters, name: string, points: number, seconds: number, code: ApiErrorCode, message: string): Limit {
  return { limiter: counters(name, points, seconds), code, message };
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

/**
 * A per-user limit counted in this process without a promise of its own, for the one route where
 * `rate-limiter-flexible`'s promise per request shows: the call list, the most asked-for route
 * (bench:server measured 0.55 of the bare app with it, 0.63 without). A fixed one-minute window per
 * user; windows that have ended are swept once a minute. With several backends each counts its own
 * share, which for a list (a cheap read) is enough.
 */
export function limitPerUserInProcess(perMinute: number, code: ApiErrorCode, message: string) {
  const windows = new Map<string, { readonly resetAt: number; used: number }>();
  let nextSweep = 0;
  return (ctx: Context, next: Next): Promise<void> => {
    const now = Date.now();
    if (now >= nextSweep) {
      for (const [user, window] of windows) if (window.resetAt <= now) windows.delete(user);
      nextSweep = now + 60_000;
    }
    const user = ctx.state.userId!;
    let window = windows.get(user);
    if (window === undefined || window.resetAt <= now) windows.set(user, (window = { resetAt: now + 60_000, used: 0 }));
    window.used += 1;
    if (window.used > perMinute) throw ApiError.tooManyRequests(code, message, Math.max(1, Math.ceil((window.resetAt - now) / 1000)));
    return next();
  };
}
