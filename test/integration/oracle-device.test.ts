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
import { announceCall, syncCall, useStack } from '../helpers/backend.ts';
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
    assert.ok(s.logs.some((line) => line.includes('is cross-signed by its account')), `the backend said so: ${s.logs.filter((l) => l.includes('cross')).join('\n')}`);

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
    await user.client.sendEvent(user.roomId, CALL_EVENT_TYPE, makeCallEdit(call.eventId, call.content, { callStatus: 'ended', callId: call.callId, callEndedAt: new Date().toISOString() }));
  });
});
