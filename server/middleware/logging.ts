/**
 * One structured log line per request (pino): method, path (a callId is not a secret), status, time.
 * Never the query string, headers or bodies, which carry tokens and keys. Answers below 400 are logged
 * at debug level, so at the default level (info) a successful request builds no log entry at all.
 */
import type Koa from 'koa';
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';

declare module 'koa' {
  interface DefaultContext {
    log: Logger;
  }
}

/** `ctx.log` for every request, set once on the app's context prototype; then the request log. */
export function requestLogging(app: Koa, log: Logger) {
  app.context.log = log;
  return async (ctx: Context, next: Next): Promise<void> => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const level = ctx.status >= 500 ? 'error' : ctx.status >= 400 ? 'info' : 'debug';
      if (log.isLevelEnabled(level)) {
        const ms = Math.round((performance.now() - started) * 10) / 10;
        const code = (ctx.body as { error?: { code?: string } } | undefined)?.error?.code;
        log[level]({ method: ctx.method, path: ctx.path, status: ctx.status, ms, ...(code ? { code } : {}) }, 'request');
      }
    }
  };
}
