/** Routes anyone may call: liveness, the oracle's public facts, the API description. */
import type { Router } from '../router.ts';
import type { ServerConfig } from '../config.ts';
import { openApiDocument } from '../openapi.ts';

export function publicRoutes(router: Router, config: ServerConfig, oracleMatrixUserId: string): void {
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
}
