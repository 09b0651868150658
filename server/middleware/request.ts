/**
 * The outermost middleware, one for every request: `ctx.log`, then the route, then the answer for any
 * failure in the API's error format (errors.ts), then the request's log line (logging.ts). One
 * middleware rather than two: each layer is a promise and a hop more on every request.
 */
import type Koa from 'koa';
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { answerError, answerNotFound } from './errors.ts';
import { logRequest } from './logging.ts';

export function handleRequests(app: Koa, log: Logger) {
  app.context.log = log;
  return async (ctx: Context, next: Next): Promise<void> => {
    const started = performance.now();
    try {
      await next();
      answerNotFound(ctx);
    } catch (error) {
      answerError(ctx, error);
    } finally {
      logRequest(ctx, log, started);
    }
  };
}
