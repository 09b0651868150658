/** `POST /auth/matrix-openid`: a Matrix OpenID token in, a short-lived session token out. */
import type { Router } from '../router.ts';
import type { ServerConfig } from '../config.ts';
import { verifyOpenIdToken } from '../matrix/openid.ts';
import { rateLimit } from '../middleware/rate-limit.ts';
import type { Sessions } from '../session.ts';
import { openIdBody, parseBody } from '../validation.ts';

export function authRoutes(router: Router, config: ServerConfig, sessions: Sessions): void {
  router.post('/auth/matrix-openid', rateLimit(config.rateLimits.authPerMinute), async (ctx) => {
    const token = parseBody(ctx, openIdBody);
    const userId = await verifyOpenIdToken(config.matrix.openIdServers, token);
    const session = await sessions.issue(userId);
    ctx.log.info({ userId }, 'session issued');
    ctx.body = session;
  });
}
