import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { AgentDispatchClient } from 'livekit-server-sdk';
import { CALL_EVENT_TYPE, decryptCallKey, formatCallId, generateRoomName, makeCallEdit } from '../../protocol/index.ts';
import { AGENT_API_KEY, announceCall, syncCall } from '../../scripts/stack/stack.ts';
import { readDispatchMetadata } from '../../protocol/api/dispatch-metadata.ts';
import { assertRefused, useStack } from '../helpers/use-stack.ts';
import type { TestUser } from '../../scripts/stack/stack.ts';

type User = TestUser & { roomId: string };

describe('POST /calls/:callId/sync (real Synapse, LiveKit, HTTP)', () => {
  const stack = useStack();
  let alice: User;
  let bob: User;

  before(async () => {
    [alice, bob] = await Promise.all([stack().newUser('alice'), stack().newUser('bob')]);
  });

  it('admits a call, dispatches the agent with the callId and the encrypted key, edits the event to active and answers a room token', async () => {
    const s = stack();
    const call = await announceCall(s, alice);
    const response = await syncCall(s, alice, call);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    assert.equal(response.body.call.callId, call.callId);
    assert.equal(response.body.call.status, 'active');
    assert.equal(response.body.call.userId, alice.matrix.userId);
    assert.equal('encryptionKey' in response.body.call, false);
    assert.equal(response.body.livekit.url, s.livekit.url);
    const grant = JSON.parse(Buffer.from(response.body.livekit.token.split('.')[1], 'base64url').toString());
    assert.equal(grant.sub, alice.matrix.userId);
    assert.deepEqual(
      { room: grant.video.room, roomJoin: grant.video.roomJoin, canPublish: grant.video.canPublish, canSubscribe: grant.video.canSubscribe },
      { room: call.content.roomId, roomJoin: true, canPublish: true, canSubscribe: true },
    );
    assert.equal(grant.video.roomAdmin, undefined);
    assert.ok(grant.exp - grant.nbf <= 3600, 'the token lives at most an hour');

    const dispatches = await new AgentDispatchClient(s.livekit.httpUrl, s.livekit.apiKey, s.livekit.apiSecret).listDispatch(call.content.roomId);
    // LiveKit also lists its automatic dispatch (no agent name) for every room.
    const ours = dispatches.filter((dispatch) => dispatch.agentName === 'oracle');
    assert.equal(ours.length, 1);
    // The dispatch carries the callId and the key answer: the key still encrypted to the oracle, never in clear.
    const dispatched = readDispatchMetadata(ours[0]!.metadata);
    assert.equal(dispatched.callId, call.callId);
    assert.equal(dispatched.answer?.encryptionKey, call.content.encryptionKey);
    assert.equal(dispatched.answer?.userId, alice.matrix.userId);
    assert.equal(ours[0]!.metadata.includes(call.callKey), false, 'no plaintext call key');

    const edits = await s.oracle.getEdits(alice.roomId, call.eventId, CALL_EVENT_TYPE);
    assert.equal(edits.length, 1);
    assert.equal(edits[0]!.sender, s.oracle.userId);
    assert.equal((edits[0]!.content as any)['m.new_content'].callStatus, 'active');
    assert.equal((edits[0]!.content as any)['m.new_content'].callId, call.callId);

    const key = await s.api('GET', `/calls/${encodeURIComponent(call.callId)}/key`, { apiKey: AGENT_API_KEY });
    assert.equal(key.status, 200);
    assert.equal(decryptCallKey(key.body.encryptionKey, s.oracleKeys.privateKey), call.callKey);
    assert.deepEqual(dispatched.answer, key.body, "the dispatch's key answer is the key route's");
  });

  it('is idempotent for the same user: same call, a fresh token, no second dispatch or edit', async () => {
    const s = stack();
    const call = await announceCall(s, alice);
    const first = await syncCall(s, alice, call);
    const second = await syncCall(s, alice, call);
    assert.equal(first.status, 200);
    assert.equal(second.status, 200);
    assert.equal(second.body.call.callId, call.callId);
    assert.equal(second.body.call.createdAt, first.body.call.createdAt);
    const dispatches = await new AgentDispatchClient(s.livekit.httpUrl, s.livekit.apiKey, s.livekit.apiSecret).listDispatch(call.content.roomId);
    assert.equal(dispatches.filter((d) => d.agentName === 'oracle').length, 1);
    assert.equal((await s.oracle.getEdits(alice.roomId, call.eventId, CALL_EVENT_TYPE)).length, 1);
  });

  it('handles two concurrent syncs of one call as one', async () => {
    const s = stack();
    const call = await announceCall(s, alice);
    const results = await Promise.all([syncCall(s, alice, call), syncCall(s, alice, call)]);
    assert.deepEqual(
      results.map((r) => r.status),
      [200, 200],
    );
    assert.equal((await s.oracle.getEdits(alice.roomId, call.eventId, CALL_EVENT_TYPE)).length, 1);
  });

  describe('refusals (status, code, and an unchanged store)', () => {
    it('a malformed callId', async () => {
      const s = stack();
      for (const bad of ['not-a-call', '$abc@short', `$${'a'.repeat(43)}@bad room!`, '@call-abcdefgh']) {
        await assertRefused(
          s,
          () => s.api('POST', `/calls/${encodeURIComponent(bad)}/sync`, { session: alice.session, body: { matrixRoomId: alice.roomId, sessionId: 'x' } }),
          400,
          'invalid_call_id',
        );
      }
    });

    it("someone else's event", async () => {
      const s = stack();
      const call = await announceCall(s, alice);
      await assertRefused(s, () => syncCall(s, bob, call, { matrixRoomId: alice.roomId, sessionId: call.content.sessionId }), 403, 'not_your_event');
    });

    it('an event that is not in the named room', async () => {
      const s = stack();
      const call = await announceCall(s, alice);
      const otherRoom = await alice.matrix.createRoom({ invite: [s.oracle.userId] });
      await s.oracle.joinRoom(otherRoom);
      await assertRefused(s, () => syncCall(s, alice, call, { matrixRoomId: otherRoom, sessionId: call.content.sessionId }), 404, 'event_not_found');
    });

    it('an event of another type', async () => {
      const s = stack();
      const eventId = await alice.matrix.sendEvent(alice.roomId, 'm.room.message', { msgtype: 'm.text', body: 'hello' });
      const callId = formatCallId({ eventId, roomName: generateRoomName() });
      await assertRefused(
        s,
        () => s.api('POST', `/calls/${encodeURIComponent(callId)}/sync`, { session: alice.session, body: { matrixRoomId: alice.roomId, sessionId: 's' } }),
        422,
        'wrong_event_type',
      );
    });

    it('an event already edited to ended, and a redacted one', async () => {
      const s = stack();
      const ended = await announceCall(s, alice);
      await alice.matrix.sendEvent(
        alice.roomId,
        CALL_EVENT_TYPE,
        makeCallEdit(ended.eventId, ended.content, { callStatus: 'ended', callEndedAt: new Date().toISOString() }),
      );
      await assertRefused(s, () => syncCall(s, alice, ended), 409, 'call_ended');

      const redacted = await announceCall(s, alice);
      await alice.matrix.request(
        'PUT',
        `/_matrix/client/v3/rooms/${encodeURIComponent(alice.roomId)}/redact/${encodeURIComponent(redacted.eventId)}/r${Date.now()}`,
        {},
      );
      await assertRefused(s, () => syncCall(s, alice, redacted), 422, 'invalid_call_content');
    });

    it('an edit instead of the first event', async () => {
      const s = stack();
      const call = await announceCall(s, alice);
      const editId = await alice.matrix.sendEvent(alice.roomId, CALL_EVENT_TYPE, makeCallEdit(call.eventId, call.content, { callStatus: 'pending' }));
      const callId = formatCallId({ eventId: editId, roomName: call.content.roomId });
      await assertRefused(
        s,
        () =>
          s.api('POST', `/calls/${encodeURIComponent(callId)}/sync`, {
            session: alice.session,
            body: { matrixRoomId: alice.roomId, sessionId: call.content.sessionId },
          }),
        422,
        'not_a_call_start',
      );
    });

    it('a stale or future callStartedAt', async () => {
      const s = stack();
      const stale = await announceCall(s, alice, { callStartedAt: new Date(Date.now() - 10 * 60_000).toISOString() });
      await assertRefused(s, () => syncCall(s, alice, stale), 422, 'stale_call');
      const future = await announceCall(s, alice, { callStartedAt: new Date(Date.now() + 10 * 60_000).toISOString() });
      await assertRefused(s, () => syncCall(s, alice, future), 422, 'future_call');
    });

    it("another oracle, another session, or a room that is not the callId's", async () => {
      const s = stack();
      const other = await announceCall(s, alice, { oracleDid: 'did:ixo:someoneelse' });
      await assertRefused(s, () => syncCall(s, alice, other), 422, 'wrong_oracle');
      const call = await announceCall(s, alice);
      await assertRefused(s, () => syncCall(s, alice, call, { matrixRoomId: alice.roomId, sessionId: 'another-session' }), 422, 'session_mismatch');
      const moved = { ...call, callId: formatCallId({ eventId: call.eventId, roomName: generateRoomName() }) };
      await assertRefused(s, () => syncCall(s, alice, moved), 422, 'room_mismatch');
    });

    it('invalid content and a malformed encrypted key', async () => {
      const s = stack();
      const bad = await announceCall(s, alice, { callType: 'screen' as 'audio' });
      await assertRefused(s, () => syncCall(s, alice, bad), 422, 'invalid_call_content');
      const shortKey = await announceCall(s, alice, { encryptionKey: '3mJr7AoUXx2Wqd' });
      await assertRefused(s, () => syncCall(s, alice, shortKey), 422, 'invalid_ciphertext');
    });

    it('a callId already taken by another user', async () => {
      const s = stack();
      const call = await announceCall(s, alice);
      assert.equal((await syncCall(s, alice, call)).status, 200);
      await assertRefused(s, () => syncCall(s, bob, call, { matrixRoomId: alice.roomId, sessionId: call.content.sessionId }), 409, 'call_id_taken');
    });

    it('a room name bound to another call, and a reused encrypted key', async () => {
      const s = stack();
      const first = await announceCall(s, alice);
      assert.equal((await syncCall(s, alice, first)).status, 200);
      const sameRoom = await announceCall(s, alice, { roomId: first.content.roomId });
      await assertRefused(s, () => syncCall(s, alice, sameRoom), 409, 'room_taken');
      const replayed = await announceCall(s, alice, { encryptionKey: first.content.encryptionKey });
      await assertRefused(s, () => syncCall(s, alice, replayed), 409, 'key_reused');
    });

    it('a missing, forged or expired session', async () => {
      const s = stack();
      const call = await announceCall(s, alice);
      const path = `/calls/${encodeURIComponent(call.callId)}/sync`;
      const body = { matrixRoomId: alice.roomId, sessionId: call.content.sessionId };
      await assertRefused(s, () => s.api('POST', path, { body }), 401, 'missing_session');
      const { SignJWT } = await import('jose');
      const forged = await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(alice.matrix.userId)
        .setIssuer('oracle-call')
        .setAudience('oracle-call/session')
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode('not-the-server-secret-not-the-server-secret'));
      await assertRefused(s, () => s.api('POST', path, { body, session: forged }), 401, 'invalid_session');
      const expired = await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(alice.matrix.userId)
        .setIssuer('oracle-call')
        .setAudience('oracle-call/session')
        .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
        .sign(new TextEncoder().encode(s.env.SESSION_SECRET));
      await assertRefused(s, () => s.api('POST', path, { body, session: expired }), 401, 'session_expired');
      const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: alice.matrix.userId })).toString('base64url')}.`;
      await assertRefused(s, () => s.api('POST', path, { body, session: none }), 401, 'invalid_session');
    });

    it('bad bodies: unknown fields, malformed JSON, too large, not JSON', async () => {
      const s = stack();
      const call = await announceCall(s, alice);
      const path = `/calls/${encodeURIComponent(call.callId)}/sync`;
      const body = { matrixRoomId: alice.roomId, sessionId: call.content.sessionId };
      const unknown = await assertRefused(s, () => s.api('POST', path, { session: alice.session, body: { ...body, admin: true } }), 400, 'invalid_body');
      assert.match(unknown.body.error.message, /admin/);
      await assertRefused(s, () => s.api('POST', path, { session: alice.session, body: { sessionId: 'x' } }), 400, 'invalid_body');
      await assertRefused(
        s,
        () => s.api('POST', path, { session: alice.session, rawBody: '{"matrixRoomId": ', headers: { 'content-type': 'application/json' } }),
        400,
        'malformed_json',
      );
      await assertRefused(s, () => s.api('POST', path, { session: alice.session, body: { ...body, sessionId: 'x'.repeat(40_000) } }), 413, 'body_too_large');
      await assertRefused(
        s,
        () => s.api('POST', path, { session: alice.session, rawBody: 'matrixRoomId=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
        415,
        'unsupported_media_type',
      );
    });
  });
});
