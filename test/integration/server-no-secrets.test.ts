/**
 * No secret at rest or in the logs: a whole call flow against real Synapse, LiveKit and HTTP (OpenID
 * sign-in, announce + sync, the agent fetching the key, the user ending the call, a signed LiveKit
 * webhook, and a few requests that carry secrets where a careless server would log them), then every
 * file in the data folder and every log line is searched for each secret the flow touched.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { AccessToken } from 'livekit-server-sdk';
import { decryptCallKey } from '../../protocol/index.ts';
import { registerUser } from '../../scripts/services/matrix-admin.ts';
import { AGENT_API_KEY, announceCall } from '../../scripts/stack/stack.ts';
import { useStack } from '../helpers/use-stack.ts';
import type { ApiOptions, ApiResponse, StartedCall, Stack } from '../../scripts/stack/stack.ts';
import { runBackendToExit, spawnBackend, stopAllBackends } from '../../scripts/stack/backend-process.ts';
import { MatrixRestClient } from '../../scripts/stack/matrix-client.ts';

type Api = (method: string, pathname: string, options?: ApiOptions) => Promise<ApiResponse>;

const enc = encodeURIComponent;

interface FlowResult {
  readonly calls: readonly StartedCall[];
  readonly userId: string;
  /** name → secret value */
  readonly secrets: Readonly<Record<string, string>>;
}

/** The forms a secret could be written in: as is, URL-encoded; a hex key also in upper case and base64. */
function formsOf(secret: string): string[] {
  const forms = new Set([secret, encodeURIComponent(secret)]);
  if (/^[0-9a-f]{64}$/i.test(secret)) {
    const bytes = Buffer.from(secret, 'hex');
    forms.add(secret.toUpperCase());
    forms.add(bytes.toString('base64'));
    forms.add(bytes.toString('base64url'));
  }
  return [...forms];
}

/** Every regular file under `dir`, with its text. */
function filesUnder(dir: string): { name: string; text: string }[] {
  return (readdirSync(dir, { recursive: true }) as string[])
    .map((name) => path.join(dir, name))
    .filter((file) => statSync(file).isFile())
    .map((file) => ({ name: path.relative(dir, file), text: readFileSync(file, 'latin1') }));
}

/** Fails naming the secret and where it was found, without printing the secret. */
function assertNoSecrets(secrets: Readonly<Record<string, string>>, places: readonly { name: string; text: string }[]): void {
  const allForms = Object.values(secrets).flatMap(formsOf);
  const masked = (text: string) => allForms.reduce((out, form) => out.split(form).join('<secret>'), text);
  const found: string[] = [];
  for (const [secretName, secret] of Object.entries(secrets)) {
    assert.ok(secret.length >= 16, `the test's ${secretName} is a real value`);
    for (const form of formsOf(secret)) {
      for (const place of places) {
        const at = place.text.indexOf(form);
        if (at >= 0) found.push(`${secretName} in ${place.name} (…${masked(place.text.slice(Math.max(0, at - 80), at)).replace(/\s+/g, ' ')}<here>)`);
      }
    }
  }
  assert.deepEqual(found, [], 'secrets found at rest or in the logs');
}

/** A LiveKit webhook signed as the LiveKit server signs it (a JWT carrying the body's SHA-256). */
async function signedWebhook(s: Stack, body: string): Promise<string> {
  const token = new AccessToken(s.livekit.apiKey, s.livekit.apiSecret);
  token.sha256 = createHash('sha256').update(body).digest('base64');
  return token.toJwt();
}

async function fullFlow(s: Stack, api: Api): Promise<FlowResult> {
  const account = await registerUser(s.synapse.baseUrl, s.synapse.registrationSharedSecret, `nosecrets${crypto.randomUUID().slice(0, 8)}`);
  const matrix = new MatrixRestClient(s.synapse.baseUrl, account.userId, account.accessToken);
  const roomId = await matrix.createRoom({ invite: [s.oracle.userId] });
  await s.oracle.joinRoom(roomId);
  const user = { matrix, roomId };

  // Sign in with a real OpenID token.
  const openId = await matrix.openIdToken();
  const signIn = await api('POST', '/auth/matrix-openid', { body: openId });
  assert.equal(signIn.status, 200, JSON.stringify(signIn.body));
  const session = signIn.body.token as string;
  assert.equal(signIn.body.userId, account.userId);

  // Announce and sync a call; the agent fetches its (encrypted) key.
  const first = await announceCall(s, user);
  const sync = await api('POST', `/calls/${enc(first.callId)}/sync`, { session, body: { matrixRoomId: roomId, sessionId: first.content.sessionId } });
  assert.equal(sync.status, 200, JSON.stringify(sync.body));
  const key = await api('GET', `/calls/${enc(first.callId)}/key`, { apiKey: AGENT_API_KEY });
  assert.equal(key.status, 200, JSON.stringify(key.body));
  assert.equal(decryptCallKey(key.body.encryptionKey, s.oracleKeys.privateKey), first.callKey);

  // Requests that carry secrets where they do not belong: refused, and not to be logged.
  const inQuery = await api('GET', `/calls?access_token=${enc(account.accessToken)}&session=${enc(session)}`, { session });
  assert.equal(inQuery.status, 400, JSON.stringify(inQuery.body));
  const inBody = await api('POST', `/calls/${enc(first.callId)}/update`, { session, body: { status: 'ended', accessToken: openId.access_token } });
  assert.equal(inBody.status, 400, JSON.stringify(inBody.body));
  const malformed = await api('POST', `/calls/${enc(first.callId)}/update`, {
    session,
    rawBody: `{"status":"ended","token":"${session}"`,
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(malformed.status, 400, JSON.stringify(malformed.body));
  const wrongKey = await api('GET', `/calls/${enc(first.callId)}/key`, { apiKey: `${AGENT_API_KEY.slice(0, -4)}0000` });
  assert.equal(wrongKey.status, 401);

  // The user ends the call; the agent can no longer fetch the key.
  const end = await api('POST', `/calls/${enc(first.callId)}/update`, { session, body: { status: 'ended' } });
  assert.equal(end.status, 200, JSON.stringify(end.body));
  assert.equal(end.body.call.status, 'ended');
  assert.equal((await api('GET', `/calls/${enc(first.callId)}/key`, { apiKey: AGENT_API_KEY })).status, 410);

  // A second call, ended by a signed LiveKit webhook.
  const second = await announceCall(s, user);
  const sync2 = await api('POST', `/calls/${enc(second.callId)}/sync`, { session, body: { matrixRoomId: roomId, sessionId: second.content.sessionId } });
  assert.equal(sync2.status, 200, JSON.stringify(sync2.body));
  const webhookBody = JSON.stringify({
    event: 'room_finished',
    room: { sid: `RM_${crypto.randomUUID().slice(0, 12)}`, name: second.content.roomId },
    id: `EV_${crypto.randomUUID().slice(0, 12)}`,
    createdAt: String(Math.floor(Date.now() / 1000)),
  });
  const webhook = await api('POST', '/livekit/webhook', {
    rawBody: webhookBody,
    headers: { 'content-type': 'application/webhook+json', authorization: await signedWebhook(s, webhookBody) },
  });
  assert.equal(webhook.status, 200, JSON.stringify(webhook.body));
  const listed = await api('GET', '/calls', { session });
  assert.equal(listed.status, 200);
  const byId = new Map((listed.body.calls as any[]).map((call) => [call.callId, call]));
  assert.equal(byId.get(first.callId)?.status, 'ended');
  assert.equal(byId.get(second.callId)?.status, 'ended');
  assert.equal(byId.get(second.callId)?.endReason, 'livekit');

  return {
    calls: [first, second],
    userId: account.userId,
    secrets: {
      'the first plaintext call key': first.callKey,
      'the second plaintext call key': second.callKey,
      "the user's Matrix access token": account.accessToken,
      "the oracle's Matrix access token": s.env.MATRIX_ACCESS_TOKEN!,
      'the session token': session,
      'the OpenID access token': openId.access_token,
      'the agent API key': s.env.AGENT_API_KEY!,
      'the LiveKit API secret': s.env.LIVEKIT_API_SECRET!,
      'the session signing secret': s.env.SESSION_SECRET!,
      'the first LiveKit room token': sync.body.livekit.token,
      'the second LiveKit room token': sync2.body.livekit.token,
      "the oracle's private key": s.oracleKeys.privateKey,
    },
  };
}

/** The store file is the right one: it holds both calls, with their encrypted keys. */
function assertStoreHoldsFlow(dataDir: string, flow: FlowResult): void {
  const text = readFileSync(path.join(dataDir, 'calls.json'), 'utf8');
  const data = JSON.parse(text) as { calls: { callId: string; encryptionKey: string; userId: string }[] };
  for (const call of flow.calls) {
    const record = data.calls.find((stored) => stored.callId === call.callId);
    assert.ok(record, `calls.json holds ${call.callId}`);
    assert.equal(record.encryptionKey, call.content.encryptionKey, 'calls.json holds the encrypted key');
    assert.equal(record.userId, flow.userId);
    assert.ok(text.includes(call.content.encryptionKey));
  }
}

describe('no secret at rest or in the logs (real Synapse, LiveKit, HTTP)', () => {
  // Registered first so that it runs first: the child backends stop before Synapse and LiveKit do.
  after(() => stopAllBackends());
  const stack = useStack();

  it('in-process backend: neither the data folder nor the log lines hold a secret', async () => {
    const s = stack();
    const flow = await fullFlow(s, s.api);
    const dataDir = s.env.DATA_DIR!;
    assertStoreHoldsFlow(dataDir, flow);
    // The logs are the right ones: they saw this flow.
    const logs = s.logs.join('\n');
    for (const call of flow.calls) assert.ok(logs.includes(call.callId), `the logs mention ${call.callId}`);
    assert.match(logs, /session issued/);
    assert.match(logs, /"path":"\/livekit\/webhook"/);
    assertNoSecrets(flow.secrets, [...filesUnder(dataDir), ...s.logs.map((line, i) => ({ name: `log line ${i + 1}`, text: line }))]);
  });

  it('backend as a child process (trace logs): neither its data folder nor its stdout and stderr hold a secret', async () => {
    const s = stack();
    const child = await spawnBackend({ ...s.env, LOG_LEVEL: 'trace', MATRIX_ACCESS_TOKEN: await s.newOracleDevice() });
    await child.ready();
    const flow = await fullFlow(s, child.api);
    const exit = await child.stop();
    assert.equal(exit.code, 0, child.stderr());
    assertStoreHoldsFlow(child.dataDir, flow);
    const stdout = child.stdout();
    for (const call of flow.calls) assert.ok(stdout.includes(call.callId), `stdout mentions ${call.callId}`);
    assert.match(stdout, /backend listening/);
    assertNoSecrets(flow.secrets, [
      ...filesUnder(child.dataDir),
      ...stdout.split('\n').map((line, i) => ({ name: `stdout line ${i + 1}`, text: line })),
      { name: 'stderr', text: child.stderr() },
    ]);
  });

  it('a refused start does not print the secrets it was given', async () => {
    const s = stack();
    const wrongToken = `syt_${Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString('base64url')}`;
    // The homeserver refuses the oracle's token: the message names the variable, not the value.
    const badToken = await runBackendToExit({ ...s.env, MATRIX_ACCESS_TOKEN: wrongToken }, { timeoutMs: 60_000 });
    assert.equal(badToken.code, 1, badToken.stderr);
    assert.match(badToken.stderr, /MATRIX_ACCESS_TOKEN/);
    // Several problems at once, with every secret set.
    const badConfig = await runBackendToExit({ ...s.env, LIVEKIT_URL: 'http://not-a-ws-url', SESSION_TTL_SECONDS: '1' }, { timeoutMs: 30_000 });
    assert.equal(badConfig.code, 1, badConfig.stderr);
    assert.match(badConfig.stderr, /LIVEKIT_URL/);
    assert.match(badConfig.stderr, /SESSION_TTL_SECONDS/);
    const secrets = {
      'the wrong Matrix access token': wrongToken,
      "the oracle's Matrix access token": s.env.MATRIX_ACCESS_TOKEN!,
      'the agent API key': s.env.AGENT_API_KEY!,
      'the LiveKit API secret': s.env.LIVEKIT_API_SECRET!,
      'the session signing secret': s.env.SESSION_SECRET!,
    };
    assertNoSecrets(secrets, [
      { name: 'stderr (bad token)', text: badToken.stderr },
      { name: 'stdout (bad token)', text: badToken.stdout },
      { name: 'stderr (bad configuration)', text: badConfig.stderr },
      { name: 'stdout (bad configuration)', text: badConfig.stdout },
    ]);
  });
});
