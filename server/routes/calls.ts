/** The call routes: sync (user), key (agent), update (user or agent), list (user). */
import { USER_END_REASONS, isUserEndReason } from '../../protocol/index.ts';
import type { Router } from '../router.ts';
import type { CallService } from '../call-service.ts';
import type { ServerConfig } from '../config.ts';
import { ApiError } from '../errors.ts';
import { requireAgent, requireUser, requireUserOrAgent } from '../middleware/auth.ts';
import { rateLimit } from '../middleware/rate-limit.ts';
import type { Sessions } from '../session.ts';
import type { CallStore } from '../store/call-store.ts';
import { InvalidCursorError } from '../store/lowdb-store.ts';
import { listQuery, parseBody, parseQuery, syncBody, updateBody } from '../validation.ts';
import { JSON_CONTENT_TYPE, keyAnswerJson, pageBody } from './call-json.ts';

export function callRoutes(router: Router, config: ServerConfig, sessions: Sessions, calls: CallService, store: CallStore): void {
  const user = requireUser(sessions);

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
    if (actor.kind === 'user' && body.reason !== undefined && !isUserEndReason(body.reason)) {
      throw ApiError.badRequest('invalid_body', `reason: a user gives only ${USER_END_REASONS.join(', ')}`);
    }
    ctx.body = await calls.update(actor, ctx.params.callId!, body);
  });

  // The first page with the defaults, the most asked for, needs no validation.
  const firstPage = listQuery.parse({});
  router.get('/calls', user, async (ctx) => {
    const query = ctx.querystring === '' ? firstPage : parseQuery(ctx, listQuery);
    try {
      const page = await store.list({ userId: ctx.state.userId!, ...query });
      ctx.set('Content-Type', JSON_CONTENT_TYPE);
      ctx.body = pageBody(page);
    } catch (error) {
      if (error instanceof InvalidCursorError) throw ApiError.badRequest('invalid_cursor', error.message);
      throw error;
    }
  });

}
