/**
 * Per-client rate limits, in memory, for the endpoints worth guessing at: at most `perMinute` requests
 * per client (its IP) in each fixed one-minute window. `headers` adds the X-RateLimit-* headers to every
 * answer (for browsers); a 429 always says Retry-After. One counter update per request, no promise of
 * its own; windows that have ended are swept once a minute, so idle clients cost no memory.
 */
import type { Context, Next } from 'koa';
import type { ErrorAnswer } from '../../protocol/api/index.ts';

const WINDOW_MS = 60_000;

interface Window {
  readonly resetAt: number;
  /** Requests used in this window, the current one included. */
  used: number;
}

export function rateLimit(perMinute: number, headers = true) {
  const windows = new Map<string, Window>();
  const limit = String(perMinute);
  let nextSweep = 0;

  return (ctx: Context, next: Next): Promise<void> => {
    const now = Date.now();
    if (now >= nextSweep) {
      for (const [client, window] of windows) if (window.resetAt <= now) windows.delete(client);
      nextSweep = now + WINDOW_MS;
    }
    const client = ctx.ip;
    let window = windows.get(client);
    if (window === undefined || window.resetAt <= now) {
      window = { resetAt: now + WINDOW_MS, used: 0 };
      windows.set(client, window);
    }
    window.used += 1;
    if (headers) {
      ctx.set('X-RateLimit-Limit', limit);
      ctx.set('X-RateLimit-Remaining', String(Math.max(0, perMinute - window.used)));
      ctx.set('X-RateLimit-Reset', String(Math.ceil(window.resetAt / 1000)));
    }
    if (window.used <= perMinute) return next();
    ctx.set('Retry-After', String(Math.max(1, Math.ceil((window.resetAt - now) / 1000))));
    ctx.status = 429;
    ctx.body = { error: { code: 'rate_limited', message: 'Too many requests: slow down and try again in a minute' } } satisfies ErrorAnswer;
    return Promise.resolve();
  };
}
