/** `createApp(config, deps)`: the Koa app, its middleware in order, and its routes. */
import { bodyParser } from '@koa/bodyparser';
import cors from '@koa/cors';
import Koa from 'koa';
import type { Logger } from 'pino';
import '../protocol/schema-messages.ts';
import { CallService } from './call-service.ts';
import type { ServerConfig } from './config.ts';
import type { LiveKitGateway } from './livekit.ts';
import type { OracleMatrix } from './matrix/client.ts';
import { elementFiles } from './element-files.ts';
import { ApiError } from './errors.ts';
import { createLimits } from './limits.ts';
import type { LimitCounters } from './middleware/rate-limit.ts';
import { handleRequests } from './middleware/request.ts';
import { authRoutes } from './routes/auth.ts';
import { callRoutes } from './routes/calls.ts';
import { livekitWebhookRoutes } from './routes/livekit-webhook.ts';
import { publicRoutes } from './routes/public.ts';
import { Router } from './router.ts';
import { Sessions } from './session.ts';
import type { CallStore } from './store/call-store.ts';
import type { UserDidPolicy } from './user-did.ts';

export interface AppDeps {
  readonly store: CallStore;
  readonly matrix: OracleMatrix;
  readonly livekit: LiveKitGateway;
  readonly log: Logger;
  readonly userDids: UserDidPolicy;
  /** Where the rate limits count (default: in this process). */
  readonly limitCounters?: LimitCounters;
}

export interface App {
  readonly koa: Koa;
  readonly calls: CallService;
  readonly routes: readonly { method: string; path: string }[];
}

export function createApp(config: ServerConfig, deps: AppDeps): App {
  // Behind N reverse proxies the client's address is the Nth from the right in X-Forwarded-For (each
  // proxy appends the address it saw); anything further left was written by the client and is ignored.
  // With no proxy the header is not read at all. Every per-client decision uses ctx.ip.
  const koa = new Koa({ proxy: config.trustProxyHops > 0, maxIpsCount: config.trustProxyHops });
  const sessions = new Sessions(config.sessionSecret, config.sessionTtlSeconds);
  const calls = new CallService(config, deps.store, deps.matrix, deps.livekit, deps.log, deps.userDids);
  // Only POST requests carry a body here: the routes parse it first (see Router), nothing else does.
  const parseJson = bodyParser({
    parsedMethods: ['POST'],
    enableTypes: ['json'],
    extendTypes: { json: ['application/json', 'application/webhook+json'] },
    jsonLimit: config.bodyLimit,
    jsonStrict: true,
    onError: (error: Error & { status?: number }) => {
      if (error.status === 413) throw new ApiError(413, 'body_too_large', `The body is larger than ${config.bodyLimit}`);
      if (error.status === 415) throw new ApiError(415, 'unsupported_media_type', 'Send a JSON body');
      throw ApiError.badRequest('malformed_json', 'The body is not valid JSON (an object or an array)');
    },
  });
  const allowed = new Set(config.corsOrigins);
  const browserCors = cors({
    origin: (ctx) => (allowed.has(ctx.get('origin')) ? ctx.get('origin') : ''),
    allowMethods: ['GET', 'POST'],
    allowHeaders: ['authorization', 'content-type'],
    maxAge: 600,
  });
  const router = new Router({ cors: browserCors, body: parseJson });
  publicRoutes(router, config, deps.matrix.userId);
  const limits = createLimits(config, deps.limitCounters);
  authRoutes(router, config, sessions, limits);
  callRoutes(router, config, sessions, calls, limits);
  livekitWebhookRoutes(router, calls);

  // Every failure answered and every request logged (first to see them all), then the built element's
  // files (their own paths only), then the routes (each browser route with CORS; see Router).
  koa.use(handleRequests(koa, deps.log));
  if (config.elementDir) {
    koa.use(elementFiles({ root: config.elementDir, livekitUrl: config.livekit.url, frameAncestors: config.widgetFrameAncestors }));
  }
  koa.use(router.routes());
  return { koa, calls, routes: router.list };
}
