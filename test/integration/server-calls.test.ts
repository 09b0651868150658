import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { CALL_EVENT_TYPE, currentCallState, encryptCallKey, generateCallKey, generateRoomName } from '../../protocol/index.ts';
import { AGENT_API_KEY, announceCall, syncCall } from '../../scripts/stack/stack.ts';
import { assertRefused, useStack } from '../helpers/use-stack.ts';
import type { Stack, TestUser } from '../../scripts/stack/stack.ts';

type User = TestUser & { roomId: string };

async function activeCall(s: Stack, user: User, overrides = {}) {
  const call = await announceCall(s, user, overrides);
  const response = await syncCall(s, user, call);
  assert.equal(response.status, 200, JSON.stringify(response.body));
  return call;
}

const path = (callId: string, tail: string) => `/calls/${encodeURIComponent(callId)}/${tail}`;

describe('the call routes after sync (real Synapse, LiveKit, HTTP)', () => {
  const stack = useStack();
  let alice: User;
  let bob: User;

  before(async () => {
    [alice, bob] = await Promise.all([stack().newUser('carol'), stack().newUser('dave')]);
  });

  describe('GET /calls/:callId/key', () => {
    it('gives the agent the still-encrypted key, the DIDs, the call type and the verified user, never cached', async () => {
      const s = stack();
      const call = await activeCall(s, alice, { callType: 'audio' });
      const response = await s.api('GET', path(call.callId, 'key'), { apiKey: AGENT_API_KEY });
      assert.equal(response.status, 200);
      assert.deepEqual(response.body, {
        encryptionKey: call.content.encryptionKey,
        // Proven for the user: the did:matrix form of their Matrix ID (USER_DID_POLICY).
        userDid: call.content.userDid,
        oracleDid: call.content.oracleDid,
        callType: 'audio',
        // The call's user as the backend verified it (the sign-in and the event's sender).
        userId: alice.matrix.userId,
      });
      assert.equal(response.headers.get('cache-control'), 'no-store');
    });

    it('refuses a missing, empty or wrong API key, and a user session instead of it', async () => {
      const s = stack();
      const call = await activeCall(s, alice);
      await assertRefused(s, () => s.api('GET', path(call.callId, 'key')), 401, 'missing_api_key');
      await assertRefused(s, () => s.api('GET', path(call.callId, 'key'), { apiKey: '' }), 401, 'missing_api_key');
      await assertRefused(s, () => s.api('GET', path(call.callId, 'key'), { apiKey: `${AGENT_API_KEY}x` }), 401, 'invalid_api_key');
      await assertRefused(s, () => s.api('GET', path(call.callId, 'key'), { apiKey: AGENT_API_KEY.slice(0, -1) }), 401, 'invalid_api_key');
      await assertRefused(s, () => s.api('GET', path(call.callId, 'key'), { session: alice.session }), 401, 'missing_api_key');
    });

    it('refuses unknown, malformed, ended and expired calls', async () => {
      const s = stack();
      const unknown = await announceCall(s, alice);
      await assertRefused(s, () => s.api('GET', path(unknown.callId, 'key'), { apiKey: AGENT_API_KEY }), 404, 'call_not_found');
      await assertRefused(s, () => s.api('GET', path('nope', 'key'), { apiKey: AGENT_API_KEY }), 400, 'invalid_call_id');
      const ended = await activeCall(s, alice);
      assert.equal((await s.api('POST', path(ended.callId, 'update'), { session: alice.session, body: { status: 'ended' } })).status, 200);
      await assertRefused(s, () => s.api('GET', path(ended.callId, 'key'), { apiKey: AGENT_API_KEY }), 410, 'call_ended');

      // A call older than the longest call allowed (CALL_MAX_DURATION_SECONDS, 4 h by default).
      const now = new Date().toISOString();
      const roomName = generateRoomName();
      const old = {
        callId: `$${'o'.repeat(43)}@${roomName}`,
        eventId: `$${'o'.repeat(43)}`,
        roomName,
        matrixRoomId: alice.roomId,
        userId: alice.matrix.userId,
        userDid: 'did:ixo:old',
        oracleDid: s.config.oracleDid,
        sessionId: 'old',
        callType: 'audio' as const,
        encryptionKey: encryptCallKey(generateCallKey(), s.oracleKeys.publicKey),
        status: 'active' as const,
        callStartedAt: new Date(Date.now() - 5 * 3600_000).toISOString(),
        createdAt: now,
        updatedAt: now,
      };
      await s.backend.store.insert(old);
      await assertRefused(s, () => s.api('GET', path(old.callId, 'key'), { apiKey: AGENT_API_KEY }), 410, 'call_expired');
    });
  });

  describe('POST /calls/:callId/update', () => {
    it('lets the user end the call, mirrors it to Matrix as the oracle, and repeating it changes nothing', async () => {
      const s = stack();
      const call = await activeCall(s, alice);
      const response = await s.api('POST', path(call.callId, 'update'), { session: alice.session, body: { status: 'ended' } });
      assert.equal(response.status, 200, JSON.stringify(response.body));
      assert.equal(response.body.call.status, 'ended');
      assert.equal(response.body.call.endReason, 'user');
      assert.equal(response.body.mirrored, true);
      assert.ok(Date.parse(response.body.call.callEndedAt) <= Date.now());

      const original = await s.oracle.getEvent(alice.roomId, call.eventId);
      const state = currentCallState(original, await s.oracle.getEdits(alice.roomId, call.eventId, CALL_EVENT_TYPE), { editors: [s.oracle.userId] });
      assert.equal(state.status, 'ended');
      assert.equal(state.content.callEndedAt, response.body.call.callEndedAt);

      const again = await s.api('POST', path(call.callId, 'update'), { session: alice.session, body: { status: 'ended' } });
      assert.equal(again.status, 200);
      assert.equal(again.body.call.updatedAt, response.body.call.updatedAt);
    });

    it('lets the agent report a failure with a reason', async () => {
      const s = stack();
      const call = await activeCall(s, alice);
      const response = await s.api('POST', path(call.callId, 'update'), { apiKey: AGENT_API_KEY, body: { status: 'ended', reason: 'key_decryption_failed' } });
      assert.equal(response.status, 200);
      assert.equal(response.body.call.endReason, 'agent_failed: key_decryption_failed');
    });

    it("records the person's reason when the connection was lost", async () => {
      const s = stack();
      const call = await activeCall(s, alice);
      const response = await s.api('POST', path(call.callId, 'update'), { session: alice.session, body: { status: 'ended', reason: 'connection_lost' } });
      assert.equal(response.status, 200);
      assert.equal(response.body.call.endReason, 'user: connection_lost');
    });

    it('refuses transitions outside the table', async () => {
      const s = stack();
      const call = await activeCall(s, alice);
      await assertRefused(
        s,
        () => s.api('POST', path(call.callId, 'update'), { session: alice.session, body: { status: 'pending' } }),
        409,
        'invalid_transition',
      );
      await assertRefused(
        s,
        () => s.api('POST', path(call.callId, 'update'), { session: alice.session, body: { status: 'active' } }),
        409,
        'invalid_transition',
      );
      assert.equal((await s.api('POST', path(call.callId, 'update'), { session: alice.session, body: { status: 'ended' } })).status, 200);
      await assertRefused(
        s,
        () => s.api('POST', path(call.callId, 'update'), { session: alice.session, body: { status: 'active' } }),
        409,
        'invalid_transition',
      );
      await assertRefused(
        s,
        () => s.api('POST', path(call.callId, 'update'), { apiKey: AGENT_API_KEY, body: { status: 'pending' } }),
        409,
        'invalid_transition',
      );
    });

    it("refuses someone else's call, a wrong API key, a user's reason, and bad bodies", async () => {
      const s = stack();
      const call = await activeCall(s, alice);
      await assertRefused(s, () => s.api('POST', path(call.callId, 'update'), { session: bob.session, body: { status: 'ended' } }), 404, 'call_not_found');
      await assertRefused(s, () => s.api('POST', path(call.callId, 'update'), { apiKey: 'wrong', body: { status: 'ended' } }), 401, 'invalid_api_key');
      await assertRefused(s, () => s.api('POST', path(call.callId, 'update'), { body: { status: 'ended' } }), 401, 'missing_session');
      await assertRefused(
        s,
        () => s.api('POST', path(call.callId, 'update'), { session: alice.session, body: { status: 'ended', reason: 'bored' } }),
        400,
        'invalid_body',
      );
      await assertRefused(s, () => s.api('POST', path(call.callId, 'update'), { session: alice.session, body: { status: 'gone' } }), 400, 'invalid_body');
      await assertRefused(
        s,
        () => s.api('POST', path(call.callId, 'update'), { session: alice.session, body: { status: 'ended', callEndedAt: 'x' } }),
        400,
        'invalid_body',
      );
      await assertRefused(
        s,
        () => s.api('POST', path(call.callId, 'update'), { apiKey: AGENT_API_KEY, body: { status: 'ended', reason: 'Not Snake' } }),
        400,
        'invalid_body',
      );
    });
  });

  describe('GET /calls', () => {
    it("lists only the caller's calls, newest first, without keys, with filters and pages", async () => {
      const s = stack();
      const user = await s.newUser('erin');
      const other = await s.newUser('frank');
      const session = crypto.randomUUID();
      const made = [];
      for (let i = 0; i < 5; i += 1) made.push(await activeCall(s, user, { sessionId: i < 3 ? session : crypto.randomUUID() }));
      await activeCall(s, other);
      await s.api('POST', path(made[0]!.callId, 'update'), { session: user.session, body: { status: 'ended' } });

      const all = await s.api('GET', '/calls', { session: user.session });
      assert.equal(all.status, 200);
      assert.deepEqual(
        all.body.calls.map((c: { callId: string }) => c.callId),
        made.map((c) => c.callId).reverse(),
      );
      for (const c of all.body.calls) {
        assert.equal(c.userId, user.matrix.userId);
        assert.equal('encryptionKey' in c, false);
        assert.equal('dispatchId' in c, false);
      }
      assert.equal(JSON.stringify(all.body).includes(made[1]!.content.encryptionKey), false);
      assert.equal(all.body.nextCursor, undefined);

      const bySession = await s.api('GET', `/calls?sessionId=${session}`, { session: user.session });
      assert.deepEqual(
        bySession.body.calls.map((c: { callId: string }) => c.callId),
        made
          .slice(0, 3)
          .map((c) => c.callId)
          .reverse(),
      );
      const ended = await s.api('GET', '/calls?status=ended', { session: user.session });
      assert.deepEqual(
        ended.body.calls.map((c: { callId: string }) => c.callId),
        [made[0]!.callId],
      );

      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await s.api('GET', `/calls?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { session: user.session });
        assert.equal(page.status, 200);
        assert.ok(page.body.calls.length <= 2);
        seen.push(...page.body.calls.map((c: { callId: string }) => c.callId));
        cursor = page.body.nextCursor;
        pages += 1;
      } while (cursor && pages < 10);
      assert.equal(pages, 3);
      assert.deepEqual(seen, made.map((c) => c.callId).reverse());
    });

    it('refuses bad queries and no session', async () => {
      const s = stack();
      await assertRefused(s, () => s.api('GET', '/calls'), 401, 'missing_session');
      await assertRefused(s, () => s.api('GET', '/calls?limit=0', { session: alice.session }), 400, 'invalid_query');
      await assertRefused(s, () => s.api('GET', '/calls?limit=1000', { session: alice.session }), 400, 'invalid_query');
      await assertRefused(s, () => s.api('GET', '/calls?status=ringing', { session: alice.session }), 400, 'invalid_query');
      await assertRefused(s, () => s.api('GET', '/calls?userId=@dave:localhost', { session: alice.session }), 400, 'invalid_query');
      await assertRefused(s, () => s.api('GET', '/calls?cursor=bm90LWEtY3Vyc29y', { session: alice.session }), 400, 'invalid_cursor');
    });
  });
});
