/**
 * The API contract (`protocol/api/`) holds on every side: the routes the router serves are exactly the
 * ones `/openapi.json` documents, each documented answer's schema is the route table's, and the element's
 * and the agent's clients, run against the real app (Koa, routes, call service, lowdb store; Matrix,
 * LiveKit and the OpenID homeserver faked in-process), read the server's answers with those schemas and
 * refuse an answer that does not match, naming the route and the field.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { WebhookEvent } from 'livekit-server-sdk';
import pino from 'pino';
import { HandoffError, assertSameCall, fetchKeyAnswer, obtainCallKey, openCallKey } from '../../agent/key-handoff.ts';
import type { AgentConfig } from '../../agent/config.ts';
import { API_ERROR_CODES, API_ROUTES, routeErrors } from '../../protocol/api/index.ts';
import { readDispatchMetadata } from '../../protocol/api/dispatch-metadata.ts';
import type { ApiRoute } from '../../protocol/api/index.ts';
import { CALL_EVENT_TYPE, decryptCallKey, encryptCallKey, formatCallId, generateCallKey, generateOracleKeyPair, matrixUserDid } from '../../protocol/index.ts';
import { UserDidPolicy } from '../../server/user-did.ts';
import { createApp } from '../../server/app.ts';
import { loadConfig } from '../../server/config.ts';
import type { LiveKitGateway } from '../../server/livekit.ts';
import type { OracleMatrix, RoomEvent } from '../../server/matrix/client.ts';
import { jsonSchema, openApiDocument, openApiPath } from '../../server/openapi.ts';
import { LowdbCallStore } from '../../server/store/lowdb-store.ts';
import { BackendError, HttpBackendClient } from '../../widget/backend-client.ts';
import { ORACLE_DID, USER_DID, newCallContent } from '../fixtures/call-events.ts';
import { tempDir } from '../../scripts/stack/temp-dir.ts';

const USER = '@alice:example.org';
const ROOM = '!room:example.org';
const API_KEY = 'agent-key-7f3a9c2e5b8d1f4a6c0e9b2d7f5a3c8e';

type Doc = { paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>> };
const doc = openApiDocument as unknown as Doc;
const routes = Object.values(API_ROUTES) as ApiRoute[];

function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })));
}

describe('the API contract', () => {
  const oracleKeys = generateOracleKeyPair();
  const events = new Map<string, RoomEvent>();
  const dispatches: string[] = [];
  const matrix: OracleMatrix = {
    userId: '@oracle:example.org',
    deviceId: 'ORACLEDEVICE',
    getEvent: async (_room, eventId) => events.get(eventId),
    isJoined: async () => true,
    isRoomEncrypted: async () => false,
    getEdits: async () => [],
    sendCallEvent: async () => '$edit',
    start: async () => {},
    stop: async () => {},
  };
  const livekit = {
    url: 'ws://127.0.0.1:7880',
    userToken: async () => 'livekit-token',
    dispatchAgent: async (_room: string, metadata: string) => {
      dispatches.push(metadata);
      return 'AD_1';
    },
    receiveWebhook: async (): Promise<WebhookEvent> => ({ event: 'room_started' }) as WebhookEvent,
  } as unknown as LiveKitGateway;
  let store: LowdbCallStore;
  let backend: { server: Server; url: string };
  let homeserver: { server: Server; url: string };
  let app: ReturnType<typeof createApp>;

  before(async () => {
    // The homeserver's OpenID check: any token is Alice's.
    homeserver = await listen((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ sub: USER }));
    });
    const dataDir = tempDir('oracle-call-contract-');
    const config = loadConfig({
      DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
      ORACLE_DID,
      ORACLE_PUBLIC_KEY: oracleKeys.publicKey,
      AGENT_API_KEY: API_KEY,
      LIVEKIT_URL: 'ws://127.0.0.1:7880',
      LIVEKIT_API_KEY: 'devkey',
      LIVEKIT_API_SECRET: 'secret',
      MATRIX_BASE_URL: homeserver.url,
      MATRIX_ACCESS_TOKEN: 'token',
      MATRIX_OPENID_SERVERS: `example.org=${homeserver.url}`,
      MATRIX_REQUIRE_ENCRYPTION: 'false',
    });
    store = await LowdbCallStore.open(dataDir);
    app = createApp(config, { store, matrix, livekit, log: pino({ level: 'silent' }), userDids: new UserDidPolicy(config.userDidPolicy) });
    backend = await listen(app.koa.callback());
  });

  after(async () => {
    backend.server.closeAllConnections();
    homeserver.server.closeAllConnections();
    await Promise.all([new Promise((r) => backend.server.close(r)), new Promise((r) => homeserver.server.close(r))]);
    await store.close();
  });

  it('every route the router serves is in /openapi.json, and nothing else', () => {
    const served = app.routes.map((r) => `${r.method} ${openApiPath(r.path)}`).sort();
    const documented = Object.entries(doc.paths)
      .flatMap(([p, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${p}`))
      .sort();
    assert.deepEqual(documented, served);
    assert.deepEqual(served, routes.map((r) => `${r.method} ${openApiPath(r.path)}`).sort(), 'the router serves the route table');
  });

  it("every documented answer's schema is the route table's, the one the clients parse", () => {
    for (const route of routes) {
      const documented = doc.paths[openApiPath(route.path)]![route.method.toLowerCase()]!.responses['200']!.content!['application/json']!.schema;
      assert.deepEqual(documented, jsonSchema(route.answer, 'output'), `${route.method} ${route.path}`);
    }
    const key = doc.paths['/calls/{callId}/key']!.get!.responses['200']!.content!['application/json']!.schema as { required: string[] };
    // userDid only when proven for the user (USER_DID_POLICY), claimedUserDid only under `claim`.
    assert.deepEqual([...key.required].sort(), ['callType', 'encryptionKey', 'oracleDid', 'userId']);
  });

  it('documents the error codes of each route, and every code is answered by some route', () => {
    const listed = new Set<string>();
    for (const route of routes) {
      for (const [status, codes] of Object.entries(routeErrors(route))) {
        const response = doc.paths[openApiPath(route.path)]![route.method.toLowerCase()]!.responses[status]!;
        const schema = response.content!['application/json']!.schema as { properties: { error: { properties: { code: { enum: string[] } } } } };
        assert.deepEqual(schema.properties.error.properties.code.enum, codes, `${route.method} ${route.path} ${status}`);
        for (const code of codes) listed.add(code);
      }
    }
    const unlisted = API_ERROR_CODES.filter((code) => !listed.has(code));
    // `not_found` is the answer for a path no route has; the private-key and decryption reasons are the agent's own.
    assert.deepEqual(unlisted, ['not_found', 'invalid_call_key', 'invalid_public_key', 'invalid_private_key', 'decryption_failed']);
  });

  it("the element's client reads the real server's answers with the route table's schemas", async () => {
    const client = new HttpBackendClient(backend.url);
    assert.deepEqual(await client.getOracle(), {
      oracleDid: ORACLE_DID,
      publicKey: oracleKeys.publicKey,
      livekitUrl: 'ws://127.0.0.1:7880',
      matrixUserId: '@oracle:example.org',
      voices: [],
      languages: [],
    });
    const session = await client.signIn({ access_token: 'openid-token', matrix_server_name: 'example.org' });
    assert.equal(session.userId, USER);
    // The DID the element derives from the user's Matrix ID, which the backend takes as proven.
    const content = newCallContent({ userDid: matrixUserDid(USER), oracleDid: ORACLE_DID }, oracleKeys.publicKey);
    const eventId = `$${'C'.repeat(43)}`;
    events.set(eventId, { event_id: eventId, type: CALL_EVENT_TYPE, sender: USER, origin_server_ts: Date.now(), content, encrypted: false } as RoomEvent);
    const callId = formatCallId({ eventId, roomName: content.roomId });
    const synced = await client.syncCall(session, callId, { matrixRoomId: ROOM, sessionId: content.sessionId });
    assert.equal(synced.call.callId, callId);
    assert.equal(synced.call.callType, content.callType);
    assert.deepEqual(synced.livekit, { url: 'ws://127.0.0.1:7880', token: 'livekit-token' });
    assert.equal('encryptionKey' in synced.call, false, 'the call as the API shows it has no key');

    // The agent's client reads the key answer, userId included, with the same table.
    const agent = { backendUrl: backend.url, agentApiKey: API_KEY, oraclePrivateKey: oracleKeys.privateKey, keyFetchAttempts: 1 } as AgentConfig;
    const key = await obtainCallKey(agent, callId);
    assert.deepEqual(
      { userId: key.userId, userDid: key.userDid, oracleDid: key.oracleDid, callType: key.callType },
      { userId: USER, userDid: matrixUserDid(USER), oracleDid: ORACLE_DID, callType: content.callType },
    );
    assert.equal(key.callKey, decryptCallKey(content.encryptionKey, oracleKeys.privateKey));

    // The dispatch carried the same key answer, read with the protocol's schema, and it opens to the same key.
    const dispatched = readDispatchMetadata(dispatches.at(-1)!);
    assert.equal(dispatched.callId, callId);
    const confirmed = await fetchKeyAnswer(agent, callId);
    assert.deepEqual(dispatched.answer, confirmed);
    assertSameCall(dispatched.answer!, confirmed);
    assert.equal(openCallKey(agent, dispatched.answer!).callKey, key.callKey);

    const list = await fetch(`${backend.url}/calls`, { headers: { authorization: `Bearer ${session.token}` } });
    API_ROUTES.listCalls.answer.parse(await list.json());
    await client.endCall(session, callId);
    const refused = await client.endCall(session, `${eventId}@not-a-room!`).catch((error: unknown) => error);
    assert.ok(refused instanceof BackendError);
    assert.equal(refused.code, 'invalid_call_id', 'an error code read as ApiErrorCode');
  });

  it('both clients refuse an answer that does not match, naming the route and the field', async () => {
    const wrong = await listen((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url?.endsWith('/key')) {
        res.end(
          JSON.stringify({
            encryptionKey: encryptCallKey(generateCallKey(), oracleKeys.publicKey),
            userDid: USER_DID,
            oracleDid: ORACLE_DID,
            callType: 'audio',
          }),
        );
      } else {
        res.end(JSON.stringify({ oracleDid: ORACLE_DID, publicKey: 7 }));
      }
    });
    try {
      const agent = { backendUrl: wrong.url, agentApiKey: API_KEY, oraclePrivateKey: oracleKeys.privateKey, keyFetchAttempts: 3 } as AgentConfig;
      let attempts = 0;
      const failure = await obtainCallKey(agent, '$x@room-name', () => (attempts += 1)).catch((error: unknown) => error);
      assert.ok(failure instanceof HandoffError);
      assert.equal(failure.reason, 'backend_error');
      assert.match(failure.message, /GET \/calls\/:callId\/key: .*"userId": missing/);
      assert.equal(attempts, 0, 'an answer that does not match is not asked for again');

      const oracle = await new HttpBackendClient(wrong.url).getOracle().catch((error: unknown) => error);
      assert.ok(oracle instanceof BackendError);
      assert.equal(oracle.code, 'invalid_response');
      assert.match(oracle.message, /GET \/oracle: .*"publicKey"/);
    } finally {
      wrong.server.closeAllConnections();
      await new Promise((r) => wrong.server.close(r));
    }
  });
});
