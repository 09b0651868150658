/**
 * Attacks a hostile user (or a stranger on the internet) can make on a public backend, each performed
 * against the real stack (Synapse, LiveKit server, backend over HTTP), and what stops it: the refusal's
 * status and code, and that the store and everyone else's calls are unchanged. The backend sits behind
 * one (simulated) reverse proxy: the test adds X-Forwarded-For as the proxy would.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AccessToken } from 'livekit-server-sdk';
import { CALL_EVENT_TYPE, generateRoomName, makeCallEdit, matrixUserDid } from '../../protocol/index.ts';
import { AGENT_API_KEY, announceCall, storeSnapshot, syncCall } from '../../scripts/stack/stack.ts';
import type { Stack } from '../../scripts/stack/stack.ts';
import { CALL_EVENT_SENDS } from '../../scripts/stack/matrix-proxy.ts';
import { assertRefused, useStack } from '../helpers/use-stack.ts';
import { waitFor } from '../helpers/wait.ts';

const from = (address: string) => ({ 'x-forwarded-for': address });

/** A user's calls as the API lists them (what "everyone else's calls are unchanged" compares). */
async function callsOf(s: Stack, session: string): Promise<string> {
  const response = await s.api('GET', '/calls', { session });
  assert.equal(response.status, 200);
  return JSON.stringify(response.body.calls);
}

describe('abuse resistance (real Synapse, LiveKit, backend behind one proxy)', () => {
  const stack = useStack(
    {
      TRUST_PROXY_HOPS: '1',
      // Each newUser() signs in from the loopback address (no proxy header): 15 of them here.
      RATE_LIMIT_AUTH_PER_MINUTE: '20',
      RATE_LIMIT_API_KEY_FAILURES_PER_MINUTE: '10',
      USER_SYNCS_PER_MINUTE: '4',
      USER_MAX_OPEN_CALLS: '2',
      MATRIX_REQUEST_TIMEOUT_SECONDS: '3',
    },
    { matrixProxy: true },
  );

  it('a sign-in flood from one address is refused (429 rate_limited) for that address only; a forged X-Forwarded-For does not help', async () => {
    const s = stack();
    const bystander = await s.newUser();
    const before = await callsOf(s, bystander.session);
    let refused;
    for (let i = 0; i < 31; i += 1) {
      // The attacker writes its own X-Forwarded-For entries; the proxy appends the address it saw.
      const response = await s.api('POST', '/auth/matrix-openid', {
        body: { access_token: `junk${i}`, matrix_server_name: 'localhost' },
        headers: from(`198.51.100.${i}, 203.0.113.66`),
      });
      if (response.status === 429) refused = response;
    }
    assert.ok(refused, 'the flood was never refused');
    assert.equal(refused.body.error.code, 'rate_limited');
    assert.ok(Number(refused.headers.get('retry-after')) > 0, 'a 429 says Retry-After');
    // During the flood: another client (another address behind the same proxy) signs in.
    const account = await s.newUser();
    const openId = await account.matrix.openIdToken();
    const other = await s.api('POST', '/auth/matrix-openid', { body: openId, headers: from('192.0.2.10') });
    assert.equal(other.status, 200, JSON.stringify(other.body));
    await assertRefused(s, () => s.api('POST', '/auth/matrix-openid', { body: openId, headers: from('203.0.113.66') }), 429, 'rate_limited');
    assert.equal(await callsOf(s, bystander.session), before);
  });

  it('a key-route flood without the API key is refused (429) and never limits the agent, even from the same address', async () => {
    const s = stack();
    const user = await s.newUser();
    const call = await announceCall(s, user);
    assert.equal((await syncCall(s, user, call)).status, 200);
    const path = `/calls/${encodeURIComponent(call.callId)}/key`;
    // The agent's first fetch marks its arrival on the call; from then on nothing here changes the store.
    assert.equal((await s.api('GET', path, { apiKey: AGENT_API_KEY })).status, 200);
    await waitFor('the arrival to be on disk', async () => ((await storeSnapshot(s)).includes('agentArrivedAt') ? true : undefined));
    const before = await storeSnapshot(s);
    const codes = new Map<number, number>();
    for (let i = 0; i < 125; i += 1) {
      const response = await s.api('GET', path, { headers: from('203.0.113.77'), ...(i % 2 ? { apiKey: `wrong-${i}` } : {}) });
      codes.set(response.status, (codes.get(response.status) ?? 0) + 1);
    }
    assert.equal(codes.get(401), 10, `the first ten failures answer 401 (${JSON.stringify([...codes])})`);
    assert.equal(codes.get(429), 115);
    const refused = await s.api('GET', path, { headers: from('203.0.113.77'), apiKey: 'wrong' });
    assert.equal(refused.body.error.code, 'rate_limited');
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
    // The agent behind the same proxy address, during the flood: never limited.
    for (let i = 0; i < 20; i += 1) {
      const key = await s.api('GET', path, { headers: from('203.0.113.77'), apiKey: AGENT_API_KEY });
      assert.equal(key.status, 200, JSON.stringify(key.body));
      assert.equal(key.body.encryptionKey, call.content.encryptionKey);
    }
    assert.equal(await storeSnapshot(s), before);
  });

  it('one user cannot hold more than USER_MAX_OPEN_CALLS calls (429 too_many_open_calls); another user still gets theirs', async () => {
    const s = stack();
    const [greedy, other] = [await s.newUser(), await s.newUser()];
    for (let i = 0; i < 2; i += 1) {
      const response = await syncCall(s, greedy, await announceCall(s, greedy));
      assert.equal(response.status, 200, JSON.stringify(response.body));
    }
    const third = await announceCall(s, greedy);
    const refused = await assertRefused(s, () => syncCall(s, greedy, third), 429, 'too_many_open_calls');
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
    const admitted = await syncCall(s, other, await announceCall(s, other));
    assert.equal(admitted.status, 200, JSON.stringify(admitted.body));
    // Ending one of the user's calls frees a place.
    const [open] = (await s.api('GET', '/calls?status=active', { session: greedy.session })).body.calls;
    assert.equal((await s.api('POST', `/calls/${encodeURIComponent(open.callId)}/update`, { session: greedy.session, body: { status: 'ended' } })).status, 200);
    assert.equal((await syncCall(s, greedy, third)).status, 200);
  });

  it('a sync flood by one user is refused (429 too_many_syncs) after USER_SYNCS_PER_MINUTE', async () => {
    const s = stack();
    const [flooder, other] = [await s.newUser(), await s.newUser()];
    const otherCall = await announceCall(s, other);
    assert.equal((await syncCall(s, other, otherCall)).status, 200);
    const before = await callsOf(s, other.session);
    const call = await announceCall(s, flooder);
    for (let i = 0; i < 4; i += 1) assert.equal((await syncCall(s, flooder, call)).status, 200, `sync ${i + 1} (idempotent)`);
    const refused = await assertRefused(s, () => syncCall(s, flooder, call), 429, 'too_many_syncs');
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
    assert.equal((await syncCall(s, other, otherCall)).status, 200, 'another user is not limited');
    assert.equal(await callsOf(s, other.session), before);
  });

  it("a call announced under someone else's DID is refused (403 user_did_unverified); the agent learns the verified user", async () => {
    const s = stack();
    const [mallory, victim] = [await s.newUser(), await s.newUser()];
    const victimCall = await announceCall(s, victim);
    assert.equal((await syncCall(s, victim, victimCall)).status, 200);
    const before = await callsOf(s, victim.session);
    const forged = await announceCall(s, mallory, { userDid: matrixUserDid(victim.matrix.userId) });
    await assertRefused(s, () => syncCall(s, mallory, forged), 403, 'user_did_unverified');
    const other = await announceCall(s, mallory, { userDid: 'did:ixo:ixo1victim' });
    await assertRefused(s, () => syncCall(s, mallory, other), 403, 'user_did_unverified');
    assert.equal(await callsOf(s, victim.session), before);
    const key = await s.api('GET', `/calls/${encodeURIComponent(victimCall.callId)}/key`, { apiKey: AGENT_API_KEY });
    assert.equal(key.body.userId, victim.matrix.userId);
    assert.equal(key.body.userDid, matrixUserDid(victim.matrix.userId));
  });

  it('a sync for a room the oracle has not joined is refused at once (403 oracle_not_in_room)', async () => {
    const s = stack();
    const user = await s.newUser();
    const lonely = await user.matrix.createRoom({});
    const call = await announceCall(s, { matrix: user.matrix, roomId: lonely });
    const started = Date.now();
    await assertRefused(s, () => syncCall(s, { session: user.session, roomId: lonely }, call), 403, 'oracle_not_in_room');
    assert.ok(Date.now() - started < 3000, `answered in ${Date.now() - started} ms`);
  });

  it('routes a callId with the longest room name the protocol allows', async () => {
    const s = stack();
    const user = await s.newUser();
    const call = await announceCall(s, user, { roomId: generateRoomName().padEnd(64, 'x').slice(0, 64) });
    assert.equal(call.callId.split('@')[1]!.length, 64);
    const synced = await syncCall(s, user, call);
    assert.equal(synced.status, 200, JSON.stringify(synced.body));
    const key = await s.api('GET', `/calls/${encodeURIComponent(call.callId)}/key`, { apiKey: AGENT_API_KEY });
    assert.equal(key.status, 200, JSON.stringify(key.body));
  });

  it('a signed webhook delivered again is applied once (idempotent by event ID)', async () => {
    const s = stack();
    const user = await s.newUser();
    const call = await announceCall(s, user);
    assert.equal((await syncCall(s, user, call)).status, 200);
    const body = JSON.stringify({
      event: 'room_finished',
      id: `EV_${crypto.randomUUID()}`,
      room: { name: call.content.roomId },
      createdAt: String(Math.floor(Date.now() / 1000)),
    });
    const token = new AccessToken(s.livekit.apiKey, s.livekit.apiSecret);
    token.sha256 = Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(body))).toString('base64');
    const send = async () =>
      s.api('POST', '/livekit/webhook', { rawBody: body, headers: { 'content-type': 'application/webhook+json', authorization: await token.toJwt() } });
    const first = await send();
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.equal((await s.backend.store.get(call.callId))?.endReason, 'livekit');
    const snapshot = await storeSnapshot(s);
    const again = await send();
    assert.equal(again.status, 200);
    assert.equal(again.body.duplicate, true);
    assert.equal(await storeSnapshot(s), snapshot);
  });

  it('a homeserver that never answers: the sync ends with 504 matrix_timeout after MATRIX_REQUEST_TIMEOUT_SECONDS', async () => {
    const s = stack();
    const user = await s.newUser();
    const call = await announceCall(s, user);
    const held = s.matrixProxy!.holdRequests(CALL_EVENT_SENDS);
    const started = Date.now();
    const response = await syncCall(s, user, call);
    await held;
    s.matrixProxy!.release();
    const took = Date.now() - started;
    assert.equal(response.status, 504, JSON.stringify(response.body));
    assert.equal(response.body.error.code, 'matrix_timeout');
    assert.ok(took >= 2900 && took < 10_000, `answered after ${took} ms`);
    // The call is kept (pending); a later sync finishes it.
    assert.equal((await syncCall(s, user, call)).status, 200);
  });

  it('at start, an ended edit sent while the backend was down ends the call, however many events came after it', async () => {
    const s = stack();
    const user = await s.newUser();
    const call = await announceCall(s, user);
    assert.equal((await syncCall(s, user, call)).status, 200);
    await s.restart(async () => {
      const edit = makeCallEdit(call.eventId, call.content, { callStatus: 'ended', callId: call.callId, callEndedAt: new Date().toISOString() });
      await user.matrix.sendEvent(user.roomId, CALL_EVENT_TYPE, edit);
      for (let i = 0; i < 30; i += 1) await user.matrix.sendEvent(user.roomId, 'm.room.message', { msgtype: 'm.text', body: `later ${i}` });
    });
    await waitFor('the call to end', async () => ((await s.backend.store.get(call.callId))?.status === 'ended' ? true : undefined), 20_000);
    assert.equal((await s.backend.store.get(call.callId))?.endReason, 'user');
  });

  it('the sweep ends calls past the longest call allowed (expired, mirrored to Matrix) and forgets ended calls past the retention', async () => {
    const s = stack();
    const user = await s.newUser();
    const call = await announceCall(s, user);
    assert.equal((await syncCall(s, user, call)).status, 200);
    const later = Date.now() + (s.config.callMaxDurationSeconds + 60) * 1000;
    const swept = await s.backend.upkeep.sweep(later);
    assert.ok(swept.expired >= 1, JSON.stringify(swept));
    const ended = await s.backend.store.get(call.callId);
    assert.equal(ended?.status, 'ended');
    assert.equal(ended?.endReason, 'expired');
    assert.equal(ended?.mirroredStatus, 'ended');
    const edits = await user.matrix.getEdits(user.roomId, call.eventId, CALL_EVENT_TYPE);
    assert.ok(
      edits.some((edit) => (edit.content as { 'm.new_content'?: { callStatus?: string } })['m.new_content']?.callStatus === 'ended'),
      'Matrix shows the end',
    );
    const forgotten = await s.backend.upkeep.sweep(Date.now() + (s.config.callRetentionDays + 1) * 86_400_000);
    assert.ok(forgotten.deleted >= 1);
    assert.equal(await s.backend.store.get(call.callId), undefined);
    assert.equal((await s.api('GET', '/calls', { session: user.session })).body.calls.length, 0);
  });
});
