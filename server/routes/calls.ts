/** The call routes: sync (user), key (agent), update (user or agent), list (user). */
import type { Router } from '../router.ts';
import type { CallService } from '../call-service.ts';
import type { ServerConfig } from '../config.ts';
import { ApiError } from '../errors.ts';
import { requireAgent, requireUser, requireUserOrAgent } from '../middleware/auth.ts';
import { rateLimit } from '../middleware/rate-limit.ts';
import type { Sessions } from '../session.ts';
import type { CallStore, ListPage } from '../store/call-store.ts';
import { InvalidCursorError } from '../store/lowdb-store.ts';
import { listQuery, parseBody, parseQuery, syncBody, updateBody } from '../validation.ts';
import { EncodedBodies, JSON_CONTENT_TYPE, keyAnswerJson, pageJson, samePage } from './call-json.ts';

export function callRoutes(router: Router, config: ServerConfig, sessions: Sessions, calls: CallService, store: CallStore): void {
  const user = requireUser(sessions);
  // A key answer stays a string (Node sends a short string body and the headers in one piece); a page
  // is kept as bytes (no encoding of some 10 kB per request).
  const pages = new EncodedBodies<ListPage>((page) => Buffer.from(pageJson(page), 'utf8'), samePage);

  router.post('/calls/:callId/sync', user, async (ctx) => {
    const body = parseBody(ctx, syncBody);
    ctx.body = await calls.sync(ctx.state.userId!, ctx.params.callId!, body);
  });

  router.get('/calls/:callId/key', { browsers: false }, rateLimit(config.rateLimits.keyPerMinute, false), requireAgent(config.agentApiKey), async (ctx) => {
    ctx.set('cache-control', 'no-store');
    const call = await calls.callForKey(ctx.params.callId!);
    ctx.set('Content-Type', JSON_CONTENT_TYPE);
    ctx.body = keyAnswerJson(call);
  });

  router.post('/calls/:callId/update', requireUserOrAgent(sessions, config.agentApiKey), async (ctx) => {
    const body = parseBody(ctx, updateBody);
    const actor = ctx.state.agent ? ({ kind: 'agent' } as const) : ({ kind: 'user', userId: ctx.state.userId! } as const);
    if (actor.kind === 'user' && body.reason !== undefined) {
      throw ApiError.badRequest('invalid_body', 'reason: only the agent gives a reason');
    }
    ctx.body = await calls.update(actor, ctx.params.callId!, body);
  });

  router.get('/calls', user, async (ctx) => {
    const query = parseQuery(ctx, listQuery);
    try {
      const userId = ctx.state.userId!;
      const page = await store.list({ userId, ...query });
      ctx.set('Content-Type', JSON_CONTENT_TYPE);
      ctx.body = pages.body(`${userId}\n${query.sessionId ?? ''}\n${query.status ?? ''}\n${query.limit}\n${query.cursor ?? ''}`, page);
    } catch (error) {
      if (error instanceof InvalidCursorError) throw ApiError.badRequest('invalid_cursor', error.message);
      throw error;
    }
  });

}
