/** Routes anyone may call: liveness, the oracle's public facts, the API description. */
import Router from '@koa/router';
import type { ServerConfig } from '../config.ts';
import { openApiDocument } from '../openapi.ts';

export function publicRoutes(config: ServerConfig, oracleMatrixUserId: string): Router {
  const router = new Router();
  const oracle = {
    oracleDid: config.oracleDid,
    publicKey: config.oraclePublicKey,
    livekitUrl: config.livekit.url,
    matrixUserId: oracleMatrixUserId,
  };
  router.get('/health', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/oracle', (ctx) => {
    ctx.body = oracle;
  });
  router.get('/openapi.json', (ctx) => {
    ctx.body = openApiDocument;
  });
  return router;
}
