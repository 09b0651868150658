/**
 * Per-client rate limits (koa-ratelimit, in memory) for the endpoints worth guessing at. `headers`
 * adds the X-RateLimit-* headers to every answer (for browsers); a 429 always says Retry-After.
 */
import ratelimit from 'koa-ratelimit';
import type { Context, Next } from 'koa';

export function rateLimit(name: string, perMinute: number, headers = true) {
  const limiter = ratelimit({
    driver: 'memory',
    db: new Map(),
    duration: 60_000,
    max: perMinute,
    id: (ctx: Context) => `${name}:${ctx.ip}`,
    errorMessage: 'rate_limited',
    throw: true,
    disableHeader: !headers,
  });
  return async (ctx: Context, next: Next): Promise<void> => {
    try {
      await limiter(ctx, next);
    } catch (error) {
      if ((error as { status?: number }).status === 429) {
        ctx.status = 429;
        ctx.body = { error: { code: 'rate_limited', message: 'Too many requests: slow down and try again in a minute' } };
        return;
      }
      throw error;
    }
  };
}
