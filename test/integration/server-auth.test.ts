import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { registerUser } from '../../scripts/services/matrix-admin.ts';
import { MatrixRestClient } from '../../scripts/stack/matrix-client.ts';
import { assertRefused, useStack } from '../helpers/use-stack.ts';

describe('sign-in, CORS, rate limits and the API description (real Synapse, HTTP)', () => {
  const stack = useStack({ RATE_LIMIT_AUTH_PER_MINUTE: '12' });

  it('GET /health and GET /oracle answer without credentials', async () => {
    const s = stack();
    assert.deepEqual((await s.api('GET', '/health')).body, { status: 'ok' });
    assert.deepEqual((await s.api('GET', '/oracle')).body, {
      oracleDid: s.config.oracleDid,
      publicKey: s.oracleKeys.publicKey,
      livekitUrl: s.livekit.url,
      matrixUserId: s.oracle.userId,
      voices: [],
      languages: [],
    });
  });

  it('POST /auth/matrix-openid turns a real OpenID token into a session for that user', async () => {
    const s = stack();
    const account = await registerUser(s.synapse.baseUrl, s.synapse.registrationSharedSecret, 'grace');
    const matrix = new MatrixRestClient(s.synapse.baseUrl, account.userId, account.accessToken);
    const response = await s.api('POST', '/auth/matrix-openid', { body: await matrix.openIdToken() });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.equal(response.body.userId, '@grace:localhost');
    const expiresIn = Date.parse(response.body.expiresAt) - Date.now();
    assert.ok(expiresIn > 3500_000 && expiresIn <= 3600_000, `session lives an hour (${expiresIn} ms)`);
    const list = await s.api('GET', '/calls', { session: response.body.token });
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.calls, []);
  });

  it('refuses an unconfigured server name, an unknown token and malformed bodies', async () => {
    const s = stack();
    const account = await registerUser(s.synapse.baseUrl, s.synapse.registrationSharedSecret, 'heidi');
    const token = await new MatrixRestClient(s.synapse.baseUrl, account.userId, account.accessToken).openIdToken();
    await assertRefused(s, () => s.api('POST', '/auth/matrix-openid', { body: { ...token, matrix_server_name: 'evil.example' } }), 403, 'server_not_allowed');
    await assertRefused(s, () => s.api('POST', '/auth/matrix-openid', { body: { ...token, matrix_server_name: '127.0.0.1:1' } }), 403, 'server_not_allowed');
    await assertRefused(s, () => s.api('POST', '/auth/matrix-openid', { body: { ...token, access_token: 'made-up-token' } }), 401, 'invalid_openid_token');
    await assertRefused(s, () => s.api('POST', '/auth/matrix-openid', { body: { ...token, extra: 1 } }), 400, 'invalid_body');
    await assertRefused(s, () => s.api('POST', '/auth/matrix-openid', { body: { matrix_server_name: 'localhost' } }), 400, 'invalid_body');
    await assertRefused(
      s,
      () => s.api('POST', '/auth/matrix-openid', { rawBody: '[1,', headers: { 'content-type': 'application/json' } }),
      400,
      'malformed_json',
    );
  });

  it('answers CORS only for the configured embedding origins', async () => {
    const s = stack();
    const allowed = await s.api('OPTIONS', '/auth/matrix-openid', {
      headers: { origin: 'http://127.0.0.1:5173', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    assert.equal(allowed.status, 204);
    assert.equal(allowed.headers.get('access-control-allow-origin'), 'http://127.0.0.1:5173');
    const other = await s.api('GET', '/oracle', { headers: { origin: 'https://evil.example' } });
    assert.equal(other.headers.get('access-control-allow-origin'), null);
    // Refusals on a browser route are readable by the page too (401, and 405 on a known path).
    const origin = { origin: 'http://127.0.0.1:5173' };
    const unauthorized = await s.api('GET', '/calls', { headers: origin });
    assert.equal(unauthorized.status, 401);
    assert.equal(unauthorized.headers.get('access-control-allow-origin'), origin.origin);
    const wrongMethod = await s.api('PUT', '/calls', { headers: origin });
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get('access-control-allow-origin'), origin.origin);
  });

  it('gives the server-only routes (the agent key, the LiveKit webhook) no CORS, even for a configured origin', async () => {
    const s = stack();
    const origin = 'http://127.0.0.1:5173';
    for (const [path, method] of [
      ['/calls/%24x%40call-room1234/key', 'GET'],
      ['/livekit/webhook', 'POST'],
    ] as const) {
      const preflight = await s.api('OPTIONS', path, { headers: { origin, 'access-control-request-method': method } });
      assert.equal(preflight.status, 204, path);
      assert.equal(preflight.headers.get('allow'), method === 'GET' ? 'GET, HEAD' : 'POST', path);
      assert.equal(preflight.headers.get('access-control-allow-origin'), null, path);
      assert.equal(preflight.headers.get('access-control-allow-methods'), null, path);
    }
    const key = await s.api('GET', '/calls/%24x%40call-room1234/key', { headers: { origin } });
    assert.equal(key.status, 401);
    assert.equal(key.body.error.code, 'missing_api_key');
    assert.equal(key.headers.get('access-control-allow-origin'), null);
    assert.equal(key.headers.get('vary'), null);
  });

  it('unknown routes answer 404 with a code', async () => {
    const s = stack();
    const response = await s.api('GET', '/admin');
    assert.equal(response.status, 404);
    assert.equal(response.body.error.code, 'not_found');
  });

  it('serves an OpenAPI description that lists exactly the routes the app has', async () => {
    const s = stack();
    const response = await s.api('GET', '/openapi.json');
    assert.equal(response.status, 200);
    assert.equal(response.body.openapi, '3.1.0');
    const documented = Object.entries(response.body.paths as Record<string, Record<string, unknown>>)
      .flatMap(([p, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${p}`))
      .sort();
    const served = s.backend.routes.map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`).sort();
    assert.deepEqual(documented, served);
    for (const [p, methods] of Object.entries(response.body.paths as Record<string, Record<string, { responses: object; requestBody?: unknown }>>)) {
      for (const [m, op] of Object.entries(methods)) {
        assert.ok(Object.keys(op.responses).length > 0, `${m} ${p} documents its responses`);
        if (m === 'post') assert.ok(op.requestBody, `${m} ${p} documents its body`);
      }
    }
    const syncSchema = response.body.components.schemas.SyncRequest;
    assert.deepEqual(Object.keys(syncSchema.properties).sort(), ['matrixRoomId', 'sessionId']);
    assert.equal(syncSchema.additionalProperties, false);
  });

  it('rate-limits sign-in attempts per client', async () => {
    const s = stack();
    let limited: { status: number; body: any } | undefined;
    for (let i = 0; i < 20 && !limited; i += 1) {
      const response = await s.api('POST', '/auth/matrix-openid', { body: { access_token: 'x', matrix_server_name: 'nowhere.example' } });
      if (response.status === 429) limited = response;
    }
    assert.ok(limited, 'no 429 within 20 attempts');
    assert.equal(limited.body.error.code, 'rate_limited');
  });
});
