/**
 * Calls in encrypted Matrix rooms, against the real Synapse: the user's client (matrix-js-sdk with its
 * Rust crypto) sends the call event with Megolm; the backend's own crypto device reads it, encrypts its
 * edits, waits (bounded) for a room key that is still on its way, and keeps its device and keys across
 * a restart. What Synapse stores is read back through its admin API.
 */
import assert from 'node:assert/strict';
import { readdir, rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { CALL_EVENT_TYPE, makeCallEdit } from '../../protocol/index.ts';
import { registerUser } from '../../scripts/services/matrix-admin.ts';
import { waitFor } from '../helpers/wait.ts';
import { announceCall, syncCall } from '../../scripts/stack/stack.ts';
import { assertRefused, useStack } from '../helpers/use-stack.ts';
import type { StartedCall } from '../../scripts/stack/stack.ts';
import { spawnBackend } from '../../scripts/stack/backend-process.ts';
import type { BackendProcess } from '../../scripts/stack/backend-process.ts';
import { CryptoMatrixClient } from '../helpers/crypto-matrix-client.ts';
import { MatrixRestClient } from '../../scripts/stack/matrix-client.ts';
import { SynapseAdmin } from '../helpers/synapse-admin.ts';
import { tempDir } from '../../scripts/stack/temp-dir.ts';

const CALL_FIELDS = ['encryptionKey', 'callType', 'userDid', 'oracleDid', 'callStatus', 'callId', 'sessionId', 'callStartedAt', 'm.new_content'];

describe('calls in encrypted rooms (real Synapse: Megolm on the wire, the backend has its own crypto device)', () => {
  const stack = useStack({ MATRIX_ROOM_KEY_WAIT_SECONDS: '3', MATRIX_REQUIRE_ENCRYPTION: 'true' }, { matrixProxy: true });
  let user: { client: CryptoMatrixClient; roomId: string; session: string; accessToken: string };
  let client: CryptoMatrixClient | undefined;
  let admin: SynapseAdmin;
  const calls: StartedCall[] = [];

  before(async () => {
    const s = stack();
    const account = await registerUser(s.synapse.baseUrl, s.synapse.registrationSharedSecret, 'erin');
    client = await CryptoMatrixClient.start(s.synapse.baseUrl, account);
    const roomId = await client.createEncryptedRoom([s.oracle.userId]);
    await s.oracle.joinRoom(roomId);
    await client.roomKnown(roomId, s.oracle.userId);
    const openId = await client.client.getOpenIdToken();
    const signIn = await s.api('POST', '/auth/matrix-openid', { body: openId });
    assert.equal(signIn.status, 200, JSON.stringify(signIn.body));
    user = { client, roomId, session: signIn.body.token, accessToken: account.accessToken };
    admin = await SynapseAdmin.register(s.synapse);
  });
  after(() => client?.stop());

  it('a call event sent encrypted is admitted at once, and the edits both ways are encrypted and read', async () => {
    const s = stack();
    const call = await announceCall(s, { matrix: user.client, roomId: user.roomId });
    calls.push(call);
    const activeEdit = user.client.nextCallEvent(
      user.roomId,
      (event) => event.getSender() === s.oracle.userId && (event.getContent()['m.new_content'] as { callStatus?: string } | undefined)?.callStatus === 'active',
    );
    const response = await syncCall(s, user, call);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.equal(response.body.call.status, 'active');
    assert.equal(response.body.call.callType, call.content.callType);
    const edit = await activeEdit;
    assert.equal(edit.isEncrypted(), true, "the backend's edit went out encrypted");
    assert.equal(edit.getWireType(), 'm.room.encrypted');

    // The user hangs up with an encrypted edit; the backend's sync reads it and ends the call.
    const ended = makeCallEdit(call.eventId, call.content, { callStatus: 'ended', callId: call.callId, callEndedAt: new Date().toISOString() });
    await user.client.sendEvent(user.roomId, CALL_EVENT_TYPE, ended);
    const record = await waitFor('the call to end from the Matrix edit', async () => {
      const current = await s.backend.store.get(call.callId);
      return current?.status === 'ended' ? current : undefined;
    });
    assert.equal(record.endReason, 'user');
  });

  it('Synapse stores the call event and every edit as m.room.encrypted, with no call field in clear', async () => {
    const s = stack();
    const events = await admin.roomEvents(user.roomId);
    assert.equal(events.filter((event) => event.type === CALL_EVENT_TYPE).length, 0, 'a call event is stored in clear');
    const encrypted = events.filter((event) => event.type === 'm.room.encrypted');
    const call = calls[0]!;
    // The call event, the oracle's edit to active, and the user's edit to ended.
    assert.ok(encrypted.length >= 3, `expected at least 3 encrypted events, Synapse has ${encrypted.length}`);
    assert.ok(
      encrypted.some((event) => event.sender === s.oracle.userId),
      "the oracle's edit is not among the encrypted events",
    );
    const stored = JSON.stringify(events);
    for (const field of CALL_FIELDS) assert.equal(stored.includes(`"${field}"`), false, `"${field}" appears in clear`);
    for (const value of [call.content.encryptionKey, call.content.roomId, call.content.sessionId, call.content.userDid, call.content.oracleDid]) {
      assert.equal(stored.includes(value), false, `a call value appears in clear: ${value.slice(0, 16)}…`);
    }
    for (const event of encrypted) {
      const relation = event.content['m.relates_to'] as Record<string, unknown> | undefined;
      if (relation) assert.deepEqual(Object.keys(relation).sort(), ['event_id', 'rel_type']);
      assert.deepEqual(
        Object.keys(event.content)
          .filter((key) => key !== 'm.relates_to')
          .sort(),
        ['algorithm', 'ciphertext', 'device_id', 'sender_key', 'session_id'].filter((key) => key in event.content).sort(),
      );
    }
  });

  it('a call already edited to ended (an encrypted edit) is refused at sync (409 call_ended)', async () => {
    const s = stack();
    const call = await announceCall(s, { matrix: user.client, roomId: user.roomId });
    const ended = makeCallEdit(call.eventId, call.content, { callStatus: 'ended', callId: call.callId, callEndedAt: new Date().toISOString() });
    await user.client.sendEvent(user.roomId, CALL_EVENT_TYPE, ended);
    await assertRefused(s, () => syncCall(s, user, call), 409, 'call_ended');
  });

  it('a call in a room without encryption is refused (422 room_not_encrypted), as the backend requires by default', async () => {
    const s = stack();
    assert.equal(s.config.matrix.requireEncryption, true);
    const plain = await s.newUser();
    const call = await announceCall(s, plain);
    const refused = await assertRefused(s, () => syncCall(s, plain, call), 422, 'room_not_encrypted');
    assert.match(refused.body.error.message, /not end-to-end encrypted/);
  });

  it('a call event sent in clear into an encrypted room is refused (422 unencrypted_event)', async () => {
    const s = stack();
    const plainClient = new MatrixRestClient(s.synapse.baseUrl, user.client.userId, user.accessToken);
    const call = await announceCall(s, { matrix: plainClient, roomId: user.roomId });
    await assertRefused(s, () => syncCall(s, user, call), 422, 'unencrypted_event');
  });

  it('the key race: a sync sent while the room key is held back waits for it, then succeeds', async () => {
    const s = stack();
    const proxy = s.matrixProxy!;
    // A new Megolm session, so the next event's key travels to the oracle's device now.
    await user.client.client.getCrypto()!.forceDiscardSession(user.roomId);
    proxy.hold();
    const heldBefore = proxy.heldCount;
    const call = await announceCall(s, { matrix: user.client, roomId: user.roomId });
    const releaseAfterMs = 1500;
    const release = setTimeout(() => proxy.release(), releaseAfterMs);
    const started = performance.now();
    try {
      const response = await syncCall(s, user, call);
      assert.equal(response.status, 200, JSON.stringify(response.body));
      assert.ok(proxy.heldCount > heldBefore, 'the room key was not held back: the race did not happen');
      assert.ok(performance.now() - started >= releaseAfterMs - 100, 'the sync answered before the room key could have arrived');
    } finally {
      clearTimeout(release);
      proxy.release();
    }
  });

  it('the key race: a room key that does not come within the bound gives 503 room_key_unavailable; a later sync succeeds', async () => {
    const s = stack();
    const proxy = s.matrixProxy!;
    await user.client.client.getCrypto()!.forceDiscardSession(user.roomId);
    proxy.hold();
    try {
      const call = await announceCall(s, { matrix: user.client, roomId: user.roomId });
      const refused = await assertRefused(s, () => syncCall(s, user, call), 503, 'room_key_unavailable');
      assert.equal(refused.headers.get('retry-after'), '5');
      assert.match(refused.body.error.message, new RegExp(`room key has not reached the oracle's device \\(${s.backend.matrix.deviceId}\\) after 3 s`));
      proxy.release();
      const response = await syncCall(s, user, call);
      assert.equal(response.status, 200, JSON.stringify(response.body));
    } finally {
      proxy.release();
    }
  });

  it('after a restart the backend reads new calls with the keys it kept, on the same device (the device list does not grow)', async () => {
    const s = stack();
    const devicesBefore = await admin.deviceIds(s.oracle.userId);
    const deviceBefore = s.backend.matrix.deviceId;
    assert.ok(devicesBefore.includes(deviceBefore));
    // A call whose Megolm session the device received before the restart ...
    await user.client.client.getCrypto()!.forceDiscardSession(user.roomId);
    const before = await announceCall(s, { matrix: user.client, roomId: user.roomId });
    assert.equal((await syncCall(s, user, before)).status, 200);
    await s.restart();
    await s.restart();
    assert.equal(s.backend.matrix.deviceId, deviceBefore);
    // ... and the next call, in the same session (no new key is sent): only the kept keys can read it.
    const after = await announceCall(s, { matrix: user.client, roomId: user.roomId });
    const stored = await admin.roomEvents(user.roomId);
    const sessionOf = (eventId: string) => stored.find((event) => event.event_id === eventId)?.content.session_id;
    assert.equal(sessionOf(after.eventId), sessionOf(before.eventId), 'the second call event was sent in a new Megolm session');
    const response = await syncCall(s, user, after);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.deepEqual(await admin.deviceIds(s.oracle.userId), devicesBefore, "the oracle account's device list changed");
    const files = await readdir(s.env.DATA_DIR!);
    assert.deepEqual(
      files.filter((name) => name.startsWith('matrix-crypto-')),
      [`matrix-crypto-${deviceBefore}.v8`],
    );
  });

  it('a backend process killed with SIGKILL comes back as the same device, with the keys it had, and logs no error', async () => {
    const s = stack();
    const accessToken = await s.newOracleDevice();
    const whoami = (await (
      await fetch(`${s.synapse.baseUrl}/_matrix/client/v3/account/whoami`, { headers: { authorization: `Bearer ${accessToken}` } })
    ).json()) as { device_id: string };
    const env = { ...s.env, LOG_LEVEL: 'info', MATRIX_BASE_URL: s.synapse.baseUrl, MATRIX_ACCESS_TOKEN: accessToken };
    const dataDir = tempDir('oracle-call-crash-');
    const sync = (backend: BackendProcess, call: StartedCall) =>
      backend.api('POST', `/calls/${encodeURIComponent(call.callId)}/sync`, {
        session: user.session,
        body: { matrixRoomId: user.roomId, sessionId: call.content.sessionId },
      });
    const first = await spawnBackend(env, { dataDir });
    try {
      await first.ready();
      await waitFor('the user to see the new oracle device', async () =>
        (await user.client.deviceIds(s.oracle.userId)).includes(whoami.device_id) ? true : undefined,
      );
      await user.client.client.getCrypto()!.forceDiscardSession(user.roomId);
      const one = await announceCall(s, { matrix: user.client, roomId: user.roomId });
      assert.equal((await sync(first, one)).status, 200);
      const two = await announceCall(s, { matrix: user.client, roomId: user.roomId });
      assert.equal((await sync(first, two)).status, 200);
      const devices = await admin.deviceIds(s.oracle.userId);
      await first.kill('SIGKILL');

      const second = await spawnBackend(env, { dataDir });
      try {
        await second.ready(30_000);
        const three = await announceCall(s, { matrix: user.client, roomId: user.roomId });
        const response = await sync(second, three);
        assert.equal(response.status, 200, JSON.stringify(response.body));
        assert.deepEqual(await admin.deviceIds(s.oracle.userId), devices, "the oracle account's device list changed");
        // Give the device's background requests (key uploads) time to run into a clash, if there were one.
        await new Promise((resolve) => setTimeout(resolve, 1500));
        assert.equal(second.stderr(), '');
        assert.doesNotMatch(second.stdout(), /"level":(50|60)/, 'the restarted backend logged an error');
      } finally {
        await second.stop();
      }
    } finally {
      await first.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('no Matrix secret reaches the log', () => {
    const s = stack();
    const logs = s.logs.join('\n');
    for (const secret of [s.env.MATRIX_ACCESS_TOKEN!, user.accessToken]) assert.equal(logs.includes(secret), false, 'an access token is in the log');
    for (const word of ['session_key', 'pickle', 'private_key', 'ed25519:', 'curve25519:']) {
      assert.equal(logs.includes(word), false, `"${word}" is in the log`);
    }
  });
});
