/**
 * The oracle's Matrix device as people's clients see it, against the real Synapse: cross-signed by the
 * oracle's account at the backend's first start (without interactive auth), the same keys after a
 * restart; and a call event the person's client sent twice (Element 1.12 after a widget card was
 * reopened) does not stay `pending`: the backend ends the twin it will never admit.
 */
import assert from 'node:assert/strict';
import { before, after, describe, it } from 'node:test';
import { makeCallEdit } from '../../protocol/index.ts';
import { registerUser } from '../../scripts/services/matrix-admin.ts';
import { Writable } from 'node:stream';
import { freeTcpPort } from '../../scripts/services/process.ts';
import { loadConfig } from '../../server/config.ts';
import { createLogger } from '../../server/logger.ts';
import { startServer } from '../../server/server.ts';
import type { RunningServer } from '../../server/server.ts';
import { announceCall, syncCall } from '../../scripts/stack/stack.ts';
import { useStack } from '../helpers/use-stack.ts';
import { tempDir } from '../../scripts/stack/temp-dir.ts';
import { CryptoMatrixClient } from '../helpers/crypto-matrix-client.ts';
import { CALL_EVENT_TYPE } from '../../protocol/index.ts';

interface KeysQuery {
  master_keys?: Record<string, { keys: Record<string, string> }>;
  self_signing_keys?: Record<string, { keys: Record<string, string> }>;
  device_keys: Record<string, Record<string, { signatures?: Record<string, Record<string, string>> }>>;
}

describe("the oracle's Matrix device (real Synapse)", () => {
  const stack = useStack({ MATRIX_REQUIRE_ENCRYPTION: 'true' });
  let user: { client: CryptoMatrixClient; roomId: string; session: string };

  before(async () => {
    const s = stack();
    const account = await registerUser(s.synapse.baseUrl, s.synapse.registrationSharedSecret, 'dora');
    const client = await CryptoMatrixClient.start(s.synapse.baseUrl, account);
    const roomId = await client.createEncryptedRoom([s.oracle.userId]);
    await s.oracle.joinRoom(roomId);
    await client.roomKnown(roomId, s.oracle.userId);
    const signIn = await s.api('POST', '/auth/matrix-openid', { body: await client.client.getOpenIdToken() });
    assert.equal(signIn.status, 200, JSON.stringify(signIn.body));
    user = { client, roomId, session: signIn.body.token };
  });
  after(() => user?.client.stop());

  async function oracleKeys() {
    const s = stack();
    return s.oracle.request<KeysQuery>('POST', '/_matrix/client/v3/keys/query', { device_keys: { [s.oracle.userId]: [] } });
  }

  it('is cross-signed by the oracle account at first start, and keeps the same keys across a restart', async () => {
    const s = stack();
    const { userId, deviceId } = s.backend.matrix;
    const keys = await oracleKeys();
    const master = Object.keys(keys.master_keys?.[userId]?.keys ?? {});
    const selfSigning = Object.keys(keys.self_signing_keys?.[userId]?.keys ?? {});
    assert.equal(master.length, 1, 'the oracle account has a master key');
    assert.equal(selfSigning.length, 1, 'and a self-signing key');
    const signatures = Object.keys(keys.device_keys[userId]?.[deviceId]?.signatures?.[userId] ?? {});
    assert.ok(signatures.includes(selfSigning[0]!), `the device ${deviceId} carries the self-signing key's signature (${signatures.join(', ')})`);
    assert.ok(
      s.logs.some((line) => line.includes('is cross-signed by its account')),
      `the backend said so: ${s.logs.filter((l) => l.includes('cross')).join('\n')}`,
    );

    // Another user's client sees the device as signed by its owner (no "not verified by its owner" warning).
    const seen = await user.client.client.getCrypto()!.getDeviceVerificationStatus(userId, deviceId);
    assert.equal(seen?.signedByOwner, true);

    const logged = s.logs.length;
    await s.restart();
    const again = await oracleKeys();
    assert.deepEqual(Object.keys(again.master_keys?.[userId]?.keys ?? {}), master, 'a restart keeps the cross-signing keys');
    assert.equal(s.backend.matrix.deviceId, deviceId);
    assert.ok(!s.logs.slice(logged).some((line) => line.includes('cross-sign')), 'nothing is set up again, and nothing failed');
  });

  it('a call event sent twice (same session, same key): the twin that cannot be admitted is edited to ended by the oracle', async () => {
    const s = stack();
    const call = await announceCall(s, { matrix: user.client, roomId: user.roomId }, { callType: 'audio' });
    const twinEnded = user.client.nextCallEvent(
      user.roomId,
      (event) => event.getSender() === s.oracle.userId && (event.getContent()['m.new_content'] as { callStatus?: string } | undefined)?.callStatus === 'ended',
      30_000,
    );
    const twinId = await user.client.sendEvent(user.roomId, CALL_EVENT_TYPE, call.content);
    const synced = await syncCall(s, user, call);
    assert.equal(synced.status, 200, JSON.stringify(synced.body));
    const edit = await twinEnded;
    assert.equal(edit.getRelation()?.event_id, twinId, 'the twin, not the admitted call, was ended');
    assert.equal((edit.getContent()['m.new_content'] as { callId?: string }).callId, `${twinId}@${call.content.roomId}`);
    assert.equal((await s.backend.store.get(call.callId))?.status, 'active', 'the admitted call goes on');
    // The twin itself can still never be admitted.
    const twinSync = await syncCall(s, user, { ...call, eventId: twinId, callId: `${twinId}@${call.content.roomId}` });
    assert.ok([409, 422].includes(twinSync.status), `the twin is refused at sync (${twinSync.status} ${JSON.stringify(twinSync.body)})`);
    // The person hangs up; nothing else is ended by mistake.
    await user.client.sendEvent(
      user.roomId,
      CALL_EVENT_TYPE,
      makeCallEdit(call.eventId, call.content, { callStatus: 'ended', callId: call.callId, callEndedAt: new Date().toISOString() }),
    );
  });

  it('another device of an account whose cross-signing keys it does not hold: a warning, the identity left alone', async () => {
    const s = stack();
    const logs: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    const before = await oracleKeys();
    // A second backend for the same account, on a device of its own: the account's keys are the first backend's.
    const config = loadConfig({
      ...s.env,
      PORT: String(await freeTcpPort()),
      DATA_DIR: tempDir('oracle-call-xsign-'),
      MATRIX_ACCESS_TOKEN: await s.newOracleDevice(),
    });
    const second: RunningServer = await startServer(config, createLogger('info', sink));
    try {
      assert.ok(
        logs.some((line) => line.includes('already has cross-signing keys that this device does not hold')),
        'the backend says why its device stays unverified',
      );
      assert.ok(!logs.some((line) => JSON.parse(line).level >= 50), 'and it is not an error: the backend runs');
      const after = await oracleKeys();
      const userId = s.oracle.userId;
      assert.deepEqual(after.master_keys?.[userId], before.master_keys?.[userId], "the account's identity was not replaced");
      const selfSigning = Object.keys(after.self_signing_keys?.[userId]?.keys ?? {})[0]!;
      assert.ok(!(selfSigning in (after.device_keys[userId]?.[second.matrix.deviceId]?.signatures?.[userId] ?? {})), 'the second device is not cross-signed');
      assert.ok(selfSigning in (after.device_keys[userId]?.[s.backend.matrix.deviceId]?.signatures?.[userId] ?? {}), 'the first still is');
    } finally {
      await second.close();
    }
  });
});
