/** Who is calling: a user's session (Bearer token) or the agent (x-api-key, compared in constant time). */
import { timingSafeEqual } from 'node:crypto';
import type { Context, Next } from 'koa';
import { ApiError } from '../errors.ts';
import type { Sessions } from '../session.ts';
import { consume } from './rate-limit.ts';
import type { Limit } from './rate-limit.ts';

declare module 'koa' {
  interface DefaultState {
    userId?: string;
    agent?: boolean;
  }
}

/**
 * A secret compared in constant time: `timingSafeEqual` over the secret's length whatever is given.
 * A given value of another length is told apart only after the same comparison (the secret against
 * itself), so the time taken says nothing about the secret's length or bytes. No hash per request.
 */
export function secretMatcher(secret: string): (given: string) => boolean {
  const expected = Buffer.from(secret, 'utf8');
  return (given) => {
    const bytes = Buffer.from(given, 'utf8');
    const sameLength = bytes.length === expected.length;
    return timingSafeEqual(sameLength ? bytes : expected, expected) && sameLength;
  };
}

/** What a session token may hold (a JWT: base64url parts and dots), checked before verifying one. */
const TOKEN_PATTERN = /^[A-Za-z0-9._~+/=-]+$/;

/** The token of an `Authorization: Bearer <token>` header, unchecked (see requireUser). */
function bearer(ctx: Context): string | undefined {
  const header = ctx.get('authorization');
  return header.startsWith('Bearer ') ? header.slice(7) : undefined;
}

function apiKeyMatches(ctx: Context, matches: (given: string) => boolean): boolean | undefined {
  const given = ctx.get('x-api-key');
  if (!given) return undefined;
  return matches(given);
}

/**
 * A user's session; a session verified before costs a Map lookup and no promise of its own. Only a
 * token not verified before has its form checked, then its signature.
 */
export function requireUser(sessions: Sessions) {
  return (ctx: Context, next: Next): Promise<void> => {
    const token = bearer(ctx);
    const known = token === undefined ? undefined : sessions.known(token);
    if (known !== undefined) {
      ctx.state.userId = known;
      return next();
    }
    if (token === undefined || !TOKEN_PATTERN.test(token)) {
      throw ApiError.unauthorized('missing_session', 'Send the session token as "Authorization: Bearer <token>"');
    }
    return sessions.verify(token).then((userId) => {
      ctx.state.userId = userId;
      return next();
    });
  };
}

/**
 * The agent, by its API key. Only requests without the right key count against `failures` (per client
 * address): the agent itself is never limited, however many strangers knock; a stranger's failed tries
 * beyond the limit are answered 429 instead of 401.
 */
export function requireAgent(apiKey: string, failures: Limit) {
  const isApiKey = secretMatcher(apiKey);
  const refuse = async (ctx: Context, error: ApiError): Promise<never> => {
    await consume(failures, ctx.ip);
    throw error;
  };
  return (ctx: Context, next: Next): Promise<void> => {
    const matches = apiKeyMatches(ctx, isApiKey);
    if (matches === undefined) return refuse(ctx, ApiError.unauthorized('missing_api_key', 'Send the agent API key in the x-api-key header'));
    if (!matches) return refuse(ctx, ApiError.unauthorized('invalid_api_key', 'The API key is not valid'));
    ctx.state.agent = true;
    return next();
  };
}

/** The agent (x-api-key) or a user (session); an x-api-key header, when present, must be right. */
export function requireUserOrAgent(sessions: Sessions, apiKey: string, failures: Limit) {
  const user = requireUser(sessions);
  const agent = requireAgent(apiKey, failures);
  return (ctx: Context, next: Next): Promise<void> => (ctx.headers['x-api-key'] !== undefined ? agent(ctx, next) : user(ctx, next));
}
