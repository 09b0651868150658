/**
 * Verifying a Matrix OpenID token: only at the federation `openid/userinfo` endpoint of a homeserver
 * the configuration names. The request says which server name it claims; the URL comes from config.
 */
import { ApiError } from '../errors.ts';

export interface OpenIdToken {
  readonly access_token: string;
  readonly matrix_server_name: string;
}

export async function verifyOpenIdToken(servers: ReadonlyMap<string, string>, token: OpenIdToken): Promise<string> {
  const baseUrl = servers.get(token.matrix_server_name);
  if (!baseUrl) {
    throw ApiError.forbidden('server_not_allowed', `OpenID tokens from "${token.matrix_server_name}" are not accepted by this oracle`);
  }
  let response: Response;
  try {
    response = await fetch(`${baseUrl}/_matrix/federation/v1/openid/userinfo?access_token=${encodeURIComponent(token.access_token)}`, {
      signal: AbortSignal.timeout(10_000),
    });
  } catch {
    throw ApiError.upstream('homeserver_unreachable', `The homeserver of ${token.matrix_server_name} could not be reached to verify the token`);
  }
  if (response.status === 401 || response.status === 403 || response.status === 404) {
    throw ApiError.unauthorized('invalid_openid_token', 'The homeserver does not know this OpenID token (expired or wrong)');
  }
  if (!response.ok) {
    throw ApiError.upstream('homeserver_error', `The homeserver answered ${response.status} while verifying the token`);
  }
  const body = (await response.json().catch(() => ({}))) as { sub?: unknown };
  const sub = typeof body.sub === 'string' ? body.sub : '';
  if (!sub.startsWith('@') || !sub.endsWith(`:${token.matrix_server_name}`)) {
    throw ApiError.unauthorized('invalid_openid_token', 'The homeserver answered with a user of another server');
  }
  return sub;
}
