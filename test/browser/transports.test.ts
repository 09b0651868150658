/// <reference types="mocha" />
import { expect } from '@open-wc/testing';
import { CALL_EVENT_TYPE, callEventContentSchema } from '../../protocol/index.ts';
import { BackendError, HttpBackendClient } from '../../widget/backend-client.ts';
import { LiveKitMediaSessionFactory, isOracleParticipant } from '../../widget/livekit-media-session.ts';
import { backoffDelay, withRetry } from '../../widget/retry.ts';
import { ElementServices } from '../../widget/services.ts';
import { MatrixClientTransport } from '../../widget/transport/matrix-client-transport.ts';
import type { MatrixClientLike } from '../../widget/transport/matrix-client-transport.ts';
import { MatrixTransportError, matrixUserDid } from '../../widget/transport/matrix-transport.ts';
import { WidgetApiTransport, widgetParamsFrom } from '../../widget/transport/widget-api-transport.ts';
import type { WidgetApiLike } from '../../widget/transport/widget-api-transport.ts';
import { fakeEventId } from './fakes/fake-transport.ts';

const ROOM = '!room:example.org';
const CONTENT = {
  callType: 'audio' as const,
  callStartedAt: new Date().toISOString(),
  encryptionKey: '3mJr7AoUXx2Wqd',
  sessionId: 's-1',
  roomId: 'call-abcdefgh',
  userDid: 'did:ixo:ixo1user',
  oracleDid: 'did:ixo:ixo1oracle',
  callStatus: 'pending' as const,
};

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('MatrixClientTransport (the page supplies a matrix-js-sdk client)', () => {
  function client(overrides: Partial<MatrixClientLike> = {}) {
    const sends: unknown[][] = [];
    const fake: MatrixClientLike = {
      getUserId: () => '@alice:example.org',
      getOpenIdToken: async () => ({ access_token: 'tok', matrix_server_name: 'example.org', token_type: 'Bearer', expires_in: 3600 }),
      sendEvent: async (...args) => {
        sends.push(args);
        return { event_id: '$abc:example.org' };
      },
      getRoom: (roomId) => (roomId === ROOM ? { hasEncryptionStateEvent: () => true } : null),
      getCrypto: () => ({}),
      ...overrides,
    };
    return { fake, sends };
  }

  it('sends the call event type to the room with the transaction ID, and answers the event ID', async () => {
    const { fake, sends } = client();
    const transport = new MatrixClientTransport(fake);
    expect(transport.userId).to.equal('@alice:example.org');
    expect(await transport.sendCallEvent(ROOM, CONTENT, { txnId: 'txn-1' })).to.equal('$abc:example.org');
    expect(sends).to.deep.equal([[ROOM, CALL_EVENT_TYPE, CONTENT, 'txn-1']]);
    expect(await transport.getOpenIdToken()).to.deep.equal({ access_token: 'tok', matrix_server_name: 'example.org', token_type: 'Bearer', expires_in: 3600 });
  });

  it('says which failures are worth retrying (network, 429 with its delay, 5xx) and which are not (403)', async () => {
    const failing = (error: unknown) => new MatrixClientTransport(client({ sendEvent: async () => Promise.reject(error) }).fake);
    const limited = await rejection(failing({ httpStatus: 429, errcode: 'M_LIMIT_EXCEEDED', data: { retry_after_ms: 1200 } }).sendCallEvent(ROOM, CONTENT));
    expect(limited).to.be.instanceOf(MatrixTransportError).and.include({ retryable: true, retryAfterMs: 1200 });
    expect(await rejection(failing({ httpStatus: 403, errcode: 'M_FORBIDDEN' }).sendCallEvent(ROOM, CONTENT))).to.include({ retryable: false });
    expect(await rejection(failing({ httpStatus: 502 }).sendCallEvent(ROOM, CONTENT))).to.include({ retryable: true });
    expect(await rejection(failing(new TypeError('Failed to fetch')).sendCallEvent(ROOM, CONTENT))).to.include({ retryable: true });
  });

  it('sends only into a room the client has synced, and into an encrypted one only with encryption on', async () => {
    const unknown = client({ getRoom: () => null });
    const notSynced = await rejection(new MatrixClientTransport(unknown.fake).sendCallEvent(ROOM, CONTENT));
    expect(notSynced).to.be.instanceOf(MatrixTransportError).and.include({ retryable: true });
    expect(notSynced.message).to.match(/does not know the room/);
    const noCrypto = client({ getCrypto: () => undefined });
    const refused = await rejection(new MatrixClientTransport(noCrypto.fake).sendCallEvent(ROOM, CONTENT));
    expect(refused).to.include({ retryable: false });
    expect(refused.message).to.match(/encrypted/);
    expect([...unknown.sends, ...noCrypto.sends]).to.deep.equal([], 'nothing was sent in clear');
    const plain = client({ getCrypto: () => undefined, getRoom: () => ({ hasEncryptionStateEvent: () => false }) });
    expect(await new MatrixClientTransport(plain.fake).sendCallEvent(ROOM, CONTENT)).to.equal('$abc:example.org');
  });

  it('refuses an incomplete OpenID token', async () => {
    const transport = new MatrixClientTransport(client({ getOpenIdToken: async () => ({ access_token: '', matrix_server_name: 'example.org' }) }).fake);
    expect(await rejection(transport.getOpenIdToken())).to.be.instanceOf(MatrixTransportError);
  });
});

describe("ElementServices (the element's backend and transport)", () => {
  it('one backend client per backend-url and one transport per Matrix client, so a session is kept only for them', async () => {
    const matrixClient: MatrixClientLike = {
      getUserId: () => '@alice:example.org',
      getOpenIdToken: async () => ({ access_token: 'tok', matrix_server_name: 'example.org' }),
      sendEvent: async () => ({ event_id: '$abc:example.org' }),
      getRoom: () => null,
      getCrypto: () => ({}),
    };
    const settings = {
      backendUrl: 'https://oracle.example',
      matrixRoomId: ROOM,
      backendClient: undefined,
      mediaSessions: undefined,
      e2eeWorker: undefined,
      transport: undefined,
      matrixClient,
    };
    const services = new ElementServices(settings);
    const backend = services.backend();
    expect(services.backend(), 'the same backend-url').to.equal(backend);
    const transport = await services.transport();
    expect(await services.transport(), 'the same Matrix client').to.equal(transport);
    settings.backendUrl = 'https://other.example';
    settings.matrixClient = { ...matrixClient, getUserId: () => '@bob:example.org' };
    expect(services.backend(), 'another backend-url').not.to.equal(backend);
    const other = await services.transport();
    expect(other, 'another Matrix client').not.to.equal(transport);
    expect(other.userId).to.equal('@bob:example.org');
  });
});

describe('WidgetApiTransport (inside Element or another ClientWidgetApi host)', () => {
  function widgetApi(options: { ready?: boolean } = {}) {
    const log: string[] = [];
    const sends: unknown[][] = [];
    let onReady: (() => void) | undefined;
    const api: WidgetApiLike = {
      requestCapabilityToSendEvent: (type) => log.push(`send:${type}`),
      requestCapabilityToReceiveEvent: (type) => log.push(`receive:${type}`),
      requestCapabilityForRoomTimeline: (roomId) => log.push(`timeline:${roomId}`),
      requestOpenIDConnectToken: async () => ({ access_token: 'tok', matrix_server_name: 'example.org', token_type: 'Bearer', expires_in: 300 }),
      sendRoomEvent: async (...args) => {
        sends.push(args);
        return { event_id: '$evt:example.org', room_id: ROOM };
      },
      start: () => {
        log.push('start');
        if (options.ready !== false) setTimeout(() => onReady?.(), 1);
      },
      once: (_event, listener) => (onReady = listener),
    };
    return { api, log, sends };
  }

  it('asks for its capabilities before starting, waits for ready, then sends to the named room', async () => {
    const { api, log, sends } = widgetApi();
    const transport = await WidgetApiTransport.start(api, { userId: '@alice:example.org', roomId: ROOM });
    expect(log).to.deep.equal([`send:${CALL_EVENT_TYPE}`, `receive:${CALL_EVENT_TYPE}`, `timeline:${ROOM}`, 'start']);
    expect(transport.userId).to.equal('@alice:example.org');
    expect(await transport.sendCallEvent(ROOM, CONTENT)).to.equal('$evt:example.org');
    expect(sends).to.deep.equal([[CALL_EVENT_TYPE, CONTENT, ROOM]]);
    expect((await transport.getOpenIdToken()).access_token).to.equal('tok');
  });

  it('waits as long as the host takes to approve (no time limit), and says it is waiting', async () => {
    const { api } = widgetApi({ ready: false });
    const listeners = new Map<string, (event: { detail: { action: string; data?: Record<string, unknown> }; preventDefault(): void }) => void>();
    let ready: (() => void) | undefined;
    api.on = (event, listener) => listeners.set(event, listener);
    api.once = (_event, listener) => (ready = listener);
    const statuses: string[] = [];
    let done = false;
    const started = WidgetApiTransport.start(api, { roomId: ROOM, onStatus: (status) => statuses.push(status) }).then((t) => ((done = true), t));
    listeners.get('action:capabilities')!({ detail: { action: 'capabilities' }, preventDefault() {} });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(done).to.equal(false);
    expect(statuses).to.deep.equal(['connecting', 'awaiting-approval']);
    listeners.get('action:notify_capabilities')!({
      detail: { action: 'notify_capabilities', data: { approved: [`org.matrix.msc2762.send.event:${CALL_EVENT_TYPE}`] } },
      preventDefault() {},
    });
    ready!();
    const transport = await started;
    expect(statuses.at(-1)).to.equal('ready');
    expect(await transport.sendCallEvent(ROOM, CONTENT)).to.equal('$evt:example.org');
  });

  it('asks the host again when the person declined, and sends once they approve', async () => {
    const { api, sends } = widgetApi({ ready: false });
    const listeners = new Map<string, (event: { detail: { action: string; data?: Record<string, unknown> }; preventDefault(): void }) => void>();
    let ready: (() => void) | undefined;
    api.on = (event, listener) => listeners.set(event, listener);
    api.once = (_event, listener) => (ready = listener);
    const notify = (approved: string[]) =>
      listeners.get('action:notify_capabilities')!({ detail: { action: 'notify_capabilities', data: { approved } }, preventDefault() {} });
    let asked = 0;
    api.updateRequestedCapabilities = async () => {
      asked += 1;
      setTimeout(() => notify([`org.matrix.msc2762.send.event:${CALL_EVENT_TYPE}`]), 50);
    };
    const statuses: string[] = [];
    const started = WidgetApiTransport.start(api, { onStatus: (status) => statuses.push(status) });
    notify([]);
    ready!();
    const transport = await started;
    expect(statuses.at(-1)).to.equal('refused');
    expect(await transport.sendCallEvent(ROOM, CONTENT)).to.equal('$evt:example.org');
    expect(asked).to.equal(1);
    expect(sends).to.have.length(1);
    expect(statuses.slice(-2)).to.deep.equal(['awaiting-approval', 'ready']);
  });

  it("acknowledges the host's theme_change (passing the theme on) and send_event", async () => {
    const { api } = widgetApi();
    const listeners = new Map<string, (event: { detail: { action: string; data?: Record<string, unknown> }; preventDefault(): void }) => void>();
    const replies: unknown[] = [];
    api.on = (event, listener) => listeners.set(event, listener);
    Object.assign(api, { transport: { reply: (request: unknown, response: unknown) => replies.push([request, response]) } });
    const themes: string[] = [];
    await WidgetApiTransport.start(api, { onThemeChange: (name) => themes.push(name) });
    let prevented = false;
    const detail = { action: 'theme_change', data: { name: 'light' } };
    listeners.get('action:theme_change')!({ detail, preventDefault: () => (prevented = true) });
    expect(prevented).to.equal(true);
    expect(replies).to.deep.equal([[detail, {}]]);
    expect(themes).to.deep.equal(['light']);
    // The room's call events the host feeds the widget are acknowledged too.
    const fed = { action: 'send_event', data: { type: CALL_EVENT_TYPE } };
    listeners.get('action:send_event')!({ detail: fed, preventDefault() {} });
    expect(replies).to.deep.equal([
      [detail, {}],
      [fed, {}],
    ]);
  });

  it('maps host refusals and homeserver errors', async () => {
    const { api } = widgetApi();
    const transport = await WidgetApiTransport.start(api);
    api.sendRoomEvent = async () => Promise.reject(Object.assign(new Error('Cannot send event of type m.ixo.oracles_call'), { data: {} }));
    expect(await rejection(transport.sendCallEvent(ROOM, CONTENT))).to.include({ retryable: false });
    api.sendRoomEvent = async () =>
      Promise.reject(Object.assign(new Error('limited'), { data: { matrix_api_error: { http_status: 429, response: { retry_after_ms: 500 } } } }));
    expect(await rejection(transport.sendCallEvent(ROOM, CONTENT))).to.include({ retryable: true, retryAfterMs: 500 });
  });

  it('reads the widget parameters Element puts in the URL', () => {
    const params = widgetParamsFrom({
      search: '?widgetId=w1&parentUrl=https%3A%2F%2Fapp.element.io%2F&userId=%40alice%3Aexample.org&roomId=%21room%3Aexample.org',
      hash: '',
    });
    expect(params).to.deep.equal({ widgetId: 'w1', parentUrl: 'https://app.element.io/', userId: '@alice:example.org', roomId: ROOM });
    expect(widgetParamsFrom({ search: '', hash: '#?widgetId=w2&parentUrl=https%3A%2F%2Fx.org' })).to.deep.equal({ widgetId: 'w2', parentUrl: 'https://x.org' });
    expect(widgetParamsFrom({ search: '?foo=1', hash: '' })).to.equal(undefined);
    // The fragment wins over the query.
    expect(
      widgetParamsFrom({ search: '?widgetId=fromQuery&parentUrl=https%3A%2F%2Fq.org', hash: '#widgetId=fromFragment&parentUrl=https%3A%2F%2Ff.org' }),
    ).to.deep.equal({ widgetId: 'fromFragment', parentUrl: 'https://f.org' });
  });
});

describe('matrixUserDid', () => {
  it('makes a DID the call event schema accepts from a Matrix user ID', () => {
    for (const userId of ['@alice:example.org', '@bob=2/x+y:matrix.example.com:8448']) {
      const did = matrixUserDid(userId);
      expect(did.startsWith('did:matrix:')).to.equal(true);
      expect(decodeURIComponent(did.slice('did:matrix:'.length))).to.equal(userId);
      expect(callEventContentSchema.safeParse({ ...CONTENT, userDid: did }).success, did).to.equal(true);
    }
    expect(matrixUserDid('@alice:example.org')).to.equal('did:matrix:%40alice:example.org');
  });
});

describe('HttpBackendClient', () => {
  function backend(answer: (url: string, init: RequestInit) => Response | Promise<Response>) {
    const requests: { url: string; init: RequestInit }[] = [];
    const client = new HttpBackendClient('https://oracle.example/api/', async (input, init = {}) => {
      requests.push({ url: String(input), init });
      return answer(String(input), init);
    });
    return { client, requests };
  }
  const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  const session = { token: 'sess', userId: '@alice:example.org', expiresAt: '' };
  const apiCall = (callId: string, status: 'active' | 'ended') => ({
    callId,
    eventId: callId.split('@')[0],
    roomName: 'call-abcdefgh',
    matrixRoomId: ROOM,
    userId: '@alice:example.org',
    userDid: 'did:matrix:alice',
    oracleDid: 'did:ixo:o',
    sessionId: 's-1',
    callType: 'audio',
    status,
    callStartedAt: '2026-01-01T00:00:00.000Z',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
  });

  it('calls the routes of server/openapi.ts with the session as a bearer token', async () => {
    const callId = `${fakeEventId()}@call-abcdefgh`;
    const { client, requests } = backend((url) => {
      if (url.endsWith('/oracle')) return json({ oracleDid: 'did:ixo:o', publicKey: 'pk', livekitUrl: 'ws://lk', matrixUserId: '@o:x' });
      if (url.endsWith('/auth/matrix-openid')) return json({ token: 'sess', userId: '@alice:example.org', expiresAt: 'soon' });
      if (url.endsWith('/sync')) return json({ call: apiCall(callId, 'active'), livekit: { url: 'ws://lk', token: 'jwt' } });
      return json({ call: apiCall(callId, 'ended'), mirrored: true });
    });
    expect(await client.getOracle()).to.deep.equal({
      oracleDid: 'did:ixo:o',
      publicKey: 'pk',
      livekitUrl: 'ws://lk',
      matrixUserId: '@o:x',
      voices: [],
      languages: [],
    });
    expect(await client.signIn({ access_token: 'tok', matrix_server_name: 'example.org' })).to.deep.equal({
      token: 'sess',
      userId: '@alice:example.org',
      expiresAt: 'soon',
    });
    const synced = await client.syncCall(session, callId, { matrixRoomId: ROOM, sessionId: 's-1' });
    expect(synced.livekit).to.deep.equal({ url: 'ws://lk', token: 'jwt' });
    await client.endCall(session, callId);

    expect(requests.map((r) => `${r.init.method} ${r.url}`)).to.deep.equal([
      'GET https://oracle.example/api/oracle',
      'POST https://oracle.example/api/auth/matrix-openid',
      `POST https://oracle.example/api/calls/${encodeURIComponent(callId)}/sync`,
      `POST https://oracle.example/api/calls/${encodeURIComponent(callId)}/update`,
    ]);
    expect(JSON.parse(String(requests[2]!.init.body))).to.deep.equal({ matrixRoomId: ROOM, sessionId: 's-1' });
    expect((requests[2]!.init.headers as Record<string, string>).authorization).to.equal('Bearer sess');
    expect(JSON.parse(String(requests[3]!.init.body))).to.deep.equal({ status: 'ended' });
    expect((requests[0]!.init.headers as Record<string, string>).authorization).to.equal(undefined);
  });

  it('turns error answers into BackendError with the API code, and no answer into status 0', async () => {
    const refused = await rejection(
      backend(() => json({ error: { code: 'key_reused', message: 'every call needs a new key' } }, 409)).client.syncCall(session, 'x', {
        matrixRoomId: ROOM,
        sessionId: 's',
      }),
    );
    expect(refused).to.be.instanceOf(BackendError).and.include({ status: 409, code: 'key_reused', isUnavailable: false });
    const down = await rejection(backend(() => Promise.reject(new TypeError('Failed to fetch'))).client.getOracle());
    expect(down).to.be.instanceOf(BackendError).and.include({ status: 0, isUnavailable: true });
    const incomplete = await rejection(backend(() => json({ oracleDid: 'did:ixo:o' })).client.getOracle());
    expect(incomplete.message).to.contain('publicKey');
  });

  it('parses answers with the API schemas: a mismatch is invalid_response naming the route and the field', async () => {
    const callId = `${fakeEventId()}@call-abcdefgh`;
    const wrong = { call: { ...apiCall(callId, 'active'), callType: 'phone' }, livekit: { url: 'ws://lk', token: 'jwt' } };
    const refused = await rejection(backend(() => json(wrong)).client.syncCall(session, callId, { matrixRoomId: ROOM, sessionId: 's-1' }));
    expect(refused).to.be.instanceOf(BackendError).and.include({ status: 200, code: 'invalid_response' });
    expect(refused.message).to.contain('POST /calls/:callId/sync').and.contain('"call.callType"');
    const missing = await rejection(
      backend(() => json({ call: apiCall(callId, 'active') })).client.syncCall(session, callId, { matrixRoomId: ROOM, sessionId: 's-1' }),
    );
    expect(missing.message).to.contain('"livekit"').and.contain('missing');
    const unknownCode = await rejection(backend(() => json({ error: { code: 'from_the_future', message: 'new' } }, 418)).client.getOracle());
    expect(unknownCode).to.include({ status: 418, code: 'http_418' });
    expect(unknownCode.message).to.contain('from_the_future');
  });
});

describe('retry', () => {
  it('backs off exponentially within its bounds', () => {
    const policy = { attempts: 5, baseDelayMs: 100, maxDelayMs: 400 };
    for (let i = 0; i < 20; i += 1) {
      expect(backoffDelay(policy, 1)).to.be.within(50, 100);
      expect(backoffDelay(policy, 2)).to.be.within(100, 200);
      expect(backoffDelay(policy, 6)).to.be.within(200, 400);
    }
    expect(backoffDelay(policy, 1, { retryAfterMs: 300 })).to.equal(300);
  });

  it('stops at once on an error that says it is not retryable', async () => {
    let attempts = 0;
    const error = await rejection(
      withRetry(
        async () => {
          attempts += 1;
          throw new MatrixTransportError('forbidden', { retryable: false });
        },
        { attempts: 5, baseDelayMs: 1, maxDelayMs: 1 },
      ),
    );
    expect(error.message).to.equal('forbidden');
    expect(attempts).to.equal(1);
  });
});

describe('LiveKitMediaSession in Chromium (no server)', () => {
  it('E2EE is supported here, and the oracle is recognised by its agent identity', () => {
    const factory = new LiveKitMediaSessionFactory();
    expect(factory.isE2EESupported()).to.equal(true);
    expect(isOracleParticipant({ identity: 'agent-AJ_x1', kind: 0 } as never)).to.equal(true);
    expect(isOracleParticipant({ identity: '@alice:example.org', kind: 0 } as never)).to.equal(false);
  });

  it('opens the (fake) microphone and camera, lists devices, mutes, and stops everything on close', async () => {
    const session = new LiveKitMediaSessionFactory().create();
    await session.prepare({ callType: 'video' });
    const { localVideo, devices, microphoneEnabled, cameraEnabled, encryption } = session.snapshot;
    expect(localVideo?.readyState).to.equal('live');
    expect(microphoneEnabled && cameraEnabled).to.equal(true);
    expect(encryption, 'not encrypted before any room').to.equal('pending');
    expect(devices.audioinput.length).to.be.greaterThan(0);
    expect(devices.videoinput.length).to.be.greaterThan(0);
    await session.setMicrophoneEnabled(false);
    expect(session.snapshot.microphoneEnabled).to.equal(false);
    await session.close();
    expect(localVideo!.readyState).to.equal('ended');
    expect(session.snapshot.localVideo).to.equal(null);
  });
});

describe('the widget page accepts messages only from its parent', () => {
  it('drops messages from another origin or window before any other listener sees them', async () => {
    const { acceptMessagesOnlyFrom } = await import('../../widget/transport/widget-api-transport.ts');
    acceptMessagesOnlyFrom('https://parent.example');
    const seen: unknown[] = [];
    const listener = (event: MessageEvent) => seen.push(event.data);
    window.addEventListener('message', listener);
    // This test page is its own parent, but its origin is not the parent's: the message must not pass.
    window.postMessage({ api: 'toWidget', action: 'capabilities' }, '*');
    await new Promise((resolve) => setTimeout(resolve, 50));
    window.removeEventListener('message', listener);
    expect(seen).to.deep.equal([]);
  });
});
