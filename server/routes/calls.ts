/** The call routes: sync (user), key (agent), update (user or agent), list (user). */
import { API_ROUTES } from '../../protocol/api/index.ts';
import { USER_END_REASONS, isUserEndReason } from '../../protocol/index.ts';
import type { Router } from '../router.ts';
import type { CallService } from '../call-service.ts';
import type { ServerConfig } from '../config.ts';
import { ApiError } from '../errors.ts';
import { requireAgent, requireUser, requireUserOrAgent } from '../middleware/auth.ts';
import { rateLimit } from '../middleware/rate-limit.ts';
import type { Sessions } from '../session.ts';
import { parseBody, parseQuery } from '../validation.ts';
import { JSON_CONTENT_TYPE, keyAnswerJson, pageBody } from './call-json.ts';

export function callRoutes(router: Router, config: ServerConfig, sessions: Sessions, calls: CallService): void {
  const user = requireUser(sessions);
  const { syncCall, callKey, updateCall, listCalls } = API_ROUTES;

  router.serve(syncCall, user, async (ctx) => {
    const body = parseBody(ctx, syncCall.body);
    ctx.body = await calls.sync(ctx.state.userId!, ctx.params.callId!, body);
  });

  router.serve(callKey, rateLimit(config.rateLimits.keyPerMinute, false), requireAgent(config.agentApiKey), async (ctx) => {
    ctx.set('cache-control', 'no-store');
    const call = await calls.callForKey(ctx.params.callId!);
    ctx.set('Content-Type', JSON_CONTENT_TYPE);
    ctx.body = keyAnswerJson(call);
  });

  router.serve(updateCall, requireUserOrAgent(sessions, config.agentApiKey), async (ctx) => {
    const body = parseBody(ctx, updateCall.body);
    const actor = ctx.state.agent ? ({ kind: 'agent' } as const) : ({ kind: 'user', userId: ctx.state.userId! } as const);
    if (actor.kind === 'user' && body.reason !== undefined && !isUserEndReason(body.reason)) {
      throw ApiError.badRequest('invalid_body', `reason: a user gives only ${USER_END_REASONS.join(', ')}`);
    }
    ctx.body = await calls.update(actor, ctx.params.callId!, body);
  });

  // The first page with the defaults, the most asked for, needs no validation.
  const firstPage = listCalls.query.parse({});
  router.serve(listCalls, user, async (ctx) => {
    const query = ctx.querystring === '' ? firstPage : parseQuery(ctx, listCalls.query);
    const page = await calls.list({ userId: ctx.state.userId!, ...query });
    ctx.set('Content-Type', JSON_CONTENT_TYPE);
    ctx.body = pageBody(page);
  });
}
