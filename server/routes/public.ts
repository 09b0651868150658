/** Routes anyone may call: liveness, the oracle's public facts, the API description. */
import { API_ROUTES } from '../../protocol/api/index.ts';
import type { HealthAnswer, OracleAnswer } from '../../protocol/api/index.ts';
import type { Router } from '../router.ts';
import type { ServerConfig } from '../config.ts';
import { openApiDocument } from '../openapi.ts';

export function publicRoutes(router: Router, config: ServerConfig, oracleMatrixUserId: string): void {
  const oracle: OracleAnswer = {
    oracleDid: config.oracleDid,
    publicKey: config.oraclePublicKey,
    livekitUrl: config.livekit.url,
    matrixUserId: oracleMatrixUserId,
    voices: [...config.voices],
    languages: [...config.languages],
  };
  const health: HealthAnswer = { status: 'ok' };
  router.serve(API_ROUTES.health, (ctx) => {
    ctx.body = health;
  });
  router.serve(API_ROUTES.oracle, (ctx) => {
    ctx.body = oracle;
  });
  router.serve(API_ROUTES.openApi, (ctx) => {
    ctx.body = openApiDocument;
  });
}
