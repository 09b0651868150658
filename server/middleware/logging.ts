/**
 * One structured log line per request (pino): method, path (a callId is not a secret), status, time.
 * Never the query string, headers or bodies, which carry tokens and keys. Answers below 400 are logged
 * at debug level, so at the default level (info) a successful request builds no log entry at all.
 */
import type { Context } from 'koa';
import type { Logger } from 'pino';

declare module 'koa' {
  interface DefaultContext {
    log: Logger;
  }
}

/** The request's log line, once it is answered; `started` is its `performance.now()` on arrival. */
export function logRequest(ctx: Context, log: Logger, started: number): void {
  const level = ctx.status >= 500 ? 'error' : ctx.status >= 400 ? 'info' : 'debug';
  if (!log.isLevelEnabled(level)) return;
  const ms = Math.round((performance.now() - started) * 10) / 10;
  const code = (ctx.body as { error?: { code?: string } } | undefined)?.error?.code;
  log[level]({ method: ctx.method, path: ctx.path, status: ctx.status, ms, ...(code ? { code } : {}) }, 'request');
}
