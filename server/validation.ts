/**
 * Request validation with the API's own schemas (`protocol/api/`): bodies and queries are strict
 * (unknown fields are refused), and a refusal names each bad field.
 */
import type { Context } from 'koa';
import type * as z from '../protocol/schema.ts';
import { ApiError } from './errors.ts';

function describe(error: z.core.$ZodError): string {
  return error.issues
    .map((issue) => {
      const where = issue.path.length > 0 ? issue.path.join('.') : 'body';
      return issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : `${where}: ${issue.message}`;
    })
    .join('; ');
}

export function parseBody<T extends z.ZodMiniType>(ctx: Context, schema: T): z.infer<T> {
  if (!ctx.is('application/json')) {
    throw new ApiError(415, 'unsupported_media_type', 'Send a JSON body with "Content-Type: application/json"');
  }
  const result = schema.safeParse(ctx.request.body);
  if (!result.success) throw ApiError.badRequest('invalid_body', describe(result.error));
  return result.data;
}

export function parseQuery<T extends z.ZodMiniType>(ctx: Context, schema: T): z.infer<T> {
  const result = schema.safeParse(ctx.query);
  if (!result.success) throw ApiError.badRequest('invalid_query', describe(result.error));
  return result.data;
}
