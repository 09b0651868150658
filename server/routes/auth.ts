/** `POST /auth/matrix-openid`: a Matrix OpenID token in, a short-lived session token out. */
import { API_ROUTES } from '../../protocol/api/index.ts';
import type { SessionAnswer } from '../../protocol/api/index.ts';
import type { Router } from '../router.ts';
import type { ServerConfig } from '../config.ts';
import { verifyOpenIdToken } from '../matrix/openid.ts';
import type { Limits } from '../limits.ts';
import { limitPerAddress } from '../middleware/rate-limit.ts';
import type { Sessions } from '../session.ts';
import { parseBody } from '../validation.ts';

export function authRoutes(router: Router, config: ServerConfig, sessions: Sessions, limits: Limits): void {
  const route = API_ROUTES.signIn;
  router.serve(route, limitPerAddress(limits.signIn), async (ctx) => {
    const token = parseBody(ctx, route.body);
    const userId = await verifyOpenIdToken(config.matrix.openIdServers, token);
    const session: SessionAnswer = await sessions.issue(userId);
    ctx.log.info({ userId }, 'session issued');
    ctx.body = session;
  });
}
