/**
 * Every failure as `{"error": {"code", "message"}}` with the right status. An unexpected error is logged
 * and answered as a plain 500 that never shows its internal message.
 */
import type { Context } from 'koa';
import type { ApiErrorCode, ErrorAnswer } from '../../protocol/api/index.ts';
import { toApiError } from '../errors.ts';

function failure(code: ApiErrorCode, message: string): ErrorAnswer {
  return { error: { code, message } };
}

/** A path no route has: 404 with a code, like every other refusal. */
export function answerNotFound(ctx: Context): void {
  if (ctx.status === 404 && ctx.body === undefined) {
    ctx.status = 404;
    ctx.body = failure('not_found', `No route for ${ctx.method} ${ctx.path}`);
  }
}

/** The answer for an error thrown while handling the request. */
export function answerError(ctx: Context, error: unknown): void {
  const api = toApiError(error);
  if (api) {
    ctx.status = api.status;
    ctx.set(api.headers);
    ctx.body = failure(api.code, api.message);
    return;
  }
  const httpError = error as { status?: number; expose?: boolean; message?: string };
  if (typeof httpError.status === 'number' && httpError.status >= 400 && httpError.status < 500) {
    // Other client errors raised by Koa itself.
    ctx.status = httpError.status;
    ctx.body = failure('bad_request', httpError.expose && httpError.message ? httpError.message : 'Bad request');
    return;
  }
  ctx.log.error({ err: error }, 'unexpected error');
  ctx.status = 500;
  ctx.body = failure('internal_error', 'Something went wrong on the server');
}
