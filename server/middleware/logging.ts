/**
 * One structured log line per request (pino): method, path (a callId is not a secret), status, time.
 * Never the query string, headers or bodies, which carry tokens and keys.
 */
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';

declare module 'koa' {
  interface DefaultContext {
    log: Logger;
  }
}

export function requestLogging(log: Logger) {
  return async (ctx: Context, next: Next): Promise<void> => {
    ctx.log = log;
    const started = performance.now();
    try {
      await next();
    } finally {
      const ms = Math.round((performance.now() - started) * 10) / 10;
      const level = ctx.status >= 500 ? 'error' : ctx.status >= 400 ? 'info' : 'debug';
      const code = (ctx.body as { error?: { code?: string } } | undefined)?.error?.code;
      ctx.log[level]({ method: ctx.method, path: ctx.path, status: ctx.status, ms, ...(code ? { code } : {}) }, 'request');
    }
  };
}
