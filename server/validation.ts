/** Request validation with zod: bodies and queries are strict (unknown fields are refused). */
import type { Context } from 'koa';
import { z } from 'zod';
import { CALL_STATUSES } from '../protocol/index.ts';
import { ApiError } from './errors.ts';

function describe(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const where = issue.path.length > 0 ? issue.path.join('.') : 'body';
      return issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : `${where}: ${issue.message}`;
    })
    .join('; ');
}

export function parseBody<T extends z.ZodType>(ctx: Context, schema: T): z.infer<T> {
  if (!ctx.is('application/json')) {
    throw new ApiError(415, 'unsupported_media_type', 'Send a JSON body with "Content-Type: application/json"');
  }
  const result = schema.safeParse(ctx.request.body);
  if (!result.success) throw ApiError.badRequest('invalid_body', describe(result.error));
  return result.data;
}

export function parseQuery<T extends z.ZodType>(ctx: Context, schema: T): z.infer<T> {
  const result = schema.safeParse(ctx.query);
  if (!result.success) throw ApiError.badRequest('invalid_query', describe(result.error));
  return result.data;
}

/** `!opaque:server`, or (room version 12 and later) `!` and the room's hash with no server part. */
const matrixRoomId = z.string().max(255).regex(/^![A-Za-z0-9._=\-/+]+(:[A-Za-z0-9.-]+(:\d{1,5})?)?$/, 'expected a Matrix room ID ("!…")');

export const openIdBody = z.strictObject({
  access_token: z.string().min(1).max(512),
  matrix_server_name: z.string().min(1).max(255),
  token_type: z.literal('Bearer').optional(),
  expires_in: z.number().int().nonnegative().optional(),
});

export const syncBody = z.strictObject({
  matrixRoomId,
  sessionId: z.string().min(1).max(256),
});

export const updateBody = z.strictObject({
  status: z.enum(CALL_STATUSES),
  /** Why the agent ended a call it could not join (e.g. `key_decryption_failed`). */
  reason: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/, 'expected a snake_case reason').optional(),
});

export const listQuery = z.strictObject({
  sessionId: z.string().min(1).max(256).optional(),
  status: z.enum(CALL_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().min(1).max(512).optional(),
});
