/**
 * Two backend processes on one PostgreSQL database racing on the same calls: each answer must be one
 * that a single process gives, with one dispatch per call and one Matrix edit per status change.
 * The first backend is the stack's (in this process), the second its own process with its own Matrix
 * device; both on the same database, LiveKit and Synapse (all real). Then two more backends show that
 * the rate limits count in the database, once for all backends.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { AccessToken, AgentDispatchClient } from 'livekit-server-sdk';
import pg from 'pg';
import { CALL_EVENT_TYPE } from '../../protocol/index.ts';
import { announceCall, startStack, stopStack, syncCall } from '../../scripts/stack/stack.ts';
import type { ApiResponse, Stack, StartedCall, TestUser } from '../../scripts/stack/stack.ts';
import { spawnBackend, stopAllBackends } from '../../scripts/stack/backend-process.ts';
import type { BackendProcess } from '../../scripts/stack/backend-process.ts';
import { usePostgres } from '../helpers/services.ts';

type User = TestUser & { roomId: string };

const callPath = (callId: string, tail: string) => `/calls/${encodeURIComponent(callId)}/${tail}`;

async function row(url: string, callId: string): Promise<Record<string, unknown>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query('SELECT status, mirrored_status, end_reason, dispatch_id FROM calls WHERE call_id = $1', [callId])).rows[0];
  } finally {
    await client.end();
  }
}

/** The statuses of the call's Matrix edits, oldest first. */
async function editStatuses(s: Stack, user: User, call: StartedCall): Promise<string[]> {
  const edits = await s.oracle.getEdits(user.roomId, call.eventId, CALL_EVENT_TYPE);
  return edits
    .sort((a, b) => a.origin_server_ts - b.origin_server_ts)
    .map((edit) => (edit.content as { 'm.new_content': { callStatus: string } })['m.new_content'].callStatus);
}

/** `count` calls announced in Matrix and not yet synced. */
function announceMany(s: Stack, user: User, count: number): Promise<StartedCall[]> {
  return Promise.all(Array.from({ length: count }, () => announceCall(s, user)));
}

/** Syncs the calls, a few at a time, through the stack's backend; every one must be admitted. */
async function syncAll(s: Stack, user: User, calls: readonly StartedCall[]): Promise<void> {
  for (let i = 0; i < calls.length; i += 10) {
    const answers = await Promise.all(calls.slice(i, i + 10).map((call) => syncCall(s, user, call)));
    for (const answer of answers) assert.equal(answer.status, 200, JSON.stringify(answer.body));
  }
}

async function signedWebhook(s: Stack, body: string): Promise<string> {
  const token = new AccessToken(s.livekit.apiKey, s.livekit.apiSecret);
  token.sha256 = createHash('sha256').update(body).digest('base64');
  return token.toJwt();
}

describe('two backends on one PostgreSQL: races on the same calls, shared rate limits (real PostgreSQL, Synapse, LiveKit, HTTP)', () => {
  const postgres = usePostgres();
  let stack: Stack | undefined;
  let second: BackendProcess | undefined;
  let databaseUrl: string;
  let alice: User;
  const s = () => stack ?? assert.fail('the test stack did not start (see the error above)');
  const b = () => second ?? assert.fail('the second backend did not start (see the error above)');

  before(async () => {
    databaseUrl = await postgres().createDatabase();
    stack = await startStack({ DATABASE_URL: databaseUrl, LOG_LEVEL: 'info' });
    second = await spawnBackend({ ...s().env, LOG_LEVEL: 'warn', MATRIX_ACCESS_TOKEN: await s().newOracleDevice() });
    [alice] = await Promise.all([s().newUser('olivia'), b().ready(60_000)]);
  });
  after(async () => {
    const stderr = second?.stderr() ?? '';
    await stopAllBackends();
    await stopStack(stack);
    assert.equal(stderr, '', 'the second backend wrote nothing to stderr');
  });

  it('sync against sync: both answer the same call, the agent is dispatched once, Matrix is edited to active once', async () => {
    const calls = await announceMany(s(), alice, 10);
    const answers = await Promise.all(
      calls.flatMap((call) => [
        syncCall(s(), alice, call),
        b().api('POST', callPath(call.callId, 'sync'), { session: alice.session, body: { matrixRoomId: alice.roomId, sessionId: call.content.sessionId } }),
      ]),
    );
    const dispatch = new AgentDispatchClient(s().livekit.httpUrl, s().livekit.apiKey, s().livekit.apiSecret);
    for (const [i, call] of calls.entries()) {
      const [one, two] = [answers[2 * i]!, answers[2 * i + 1]!];
      assert.equal(one.status, 200, JSON.stringify(one.body));
      assert.equal(two.status, 200, JSON.stringify(two.body));
      assert.deepEqual(one.body.call, two.body.call, 'both backends answer the same stored call');
      assert.equal(one.body.call.status, 'active');
      // LiveKit also lists its automatic dispatch (no agent name) for every room.
      const dispatches = (await dispatch.listDispatch(call.content.roomId)).filter((d) => d.agentName === s().config.livekit.agentName);
      assert.equal(dispatches.length, 1, `exactly one agent dispatch for ${call.callId}`);
      const stored = await row(databaseUrl, call.callId);
      assert.equal(stored.dispatch_id, dispatches[0]!.id, 'the stored dispatch is the one LiveKit has');
      assert.deepEqual(await editStatuses(s(), alice, call), ['active'], 'one edit to active');
    }
  });

  it('sync against a room_finished webhook on the other backend: the sync answers active, then the call ends once, and no edit follows the end', async () => {
    const calls = await announceMany(s(), alice, 8);
    const webhook = async (call: StartedCall): Promise<ApiResponse> => {
      const body = JSON.stringify({
        event: 'room_finished',
        id: `EV_${call.content.roomId}`,
        createdAt: Math.floor(Date.now() / 1000),
        room: { name: call.content.roomId },
      });
      const authorization = await signedWebhook(s(), body);
      return b().api('POST', '/livekit/webhook', { rawBody: body, headers: { 'content-type': 'application/webhook+json', authorization } });
    };
    const watcher = new pg.Pool({ connectionString: databaseUrl, max: 4 });
    try {
      // The webhook is sent the moment the sync has stored the call: inside the sync, while it dispatches and edits.
      const inserted = async (call: StartedCall) => {
        while ((await watcher.query('SELECT 1 FROM calls WHERE call_id = $1', [call.callId])).rowCount === 0)
          await new Promise((resolve) => setTimeout(resolve, 2));
      };
      const answers = await Promise.all(calls.map((call) => Promise.all([syncCall(s(), alice, call), inserted(call).then(() => webhook(call))])));
      for (const [i, call] of calls.entries()) {
        const [synced, hooked] = answers[i]!;
        assert.equal(hooked.status, 200, JSON.stringify(hooked.body));
        // As in one process: the sync finishes first (its call active), then the webhook ends the call.
        assert.equal(synced.status, 200, JSON.stringify(synced.body));
        assert.equal(synced.body.call.status, 'active', 'a sync answers the call it made active, never one ended under it');
        const stored = await row(databaseUrl, call.callId);
        assert.equal(typeof stored.dispatch_id, 'string');
        assert.deepEqual({ ...stored, dispatch_id: undefined }, { status: 'ended', mirrored_status: 'ended', end_reason: 'livekit', dispatch_id: undefined });
        assert.deepEqual(await editStatuses(s(), alice, call), ['active', 'ended'], 'edited to active, then once to ended, in that order');
      }
    } finally {
      await watcher.end();
    }
  });

  it('50 calls ended through both backends at once: one winner each, one end edit each in Matrix', async () => {
    const calls = await announceMany(s(), alice, 50);
    await syncAll(s(), alice, calls);
    const answers = await Promise.all(
      calls.flatMap((call) => [
        s().api('POST', callPath(call.callId, 'update'), { session: alice.session, body: { status: 'ended' } }),
        b().api('POST', callPath(call.callId, 'update'), { session: alice.session, body: { status: 'ended', reason: 'connection_lost' } }),
      ]),
    );
    const winners = { first: 0, second: 0 };
    for (const [i, call] of calls.entries()) {
      const [one, two] = [answers[2 * i]!, answers[2 * i + 1]!];
      assert.equal(one.status, 200, JSON.stringify(one.body));
      assert.equal(two.status, 200, JSON.stringify(two.body));
      assert.deepEqual(one.body.call, two.body.call, 'the loser answers with the winner’s end');
      assert.equal(one.body.mirrored, true);
      assert.equal(two.body.mirrored, true);
      const reason = one.body.call.endReason;
      assert.ok(reason === 'user' || reason === 'user: connection_lost', reason);
      winners[reason === 'user' ? 'first' : 'second'] += 1;
      const stored = await row(databaseUrl, call.callId);
      assert.deepEqual({ ...stored, dispatch_id: undefined }, { status: 'ended', mirrored_status: 'ended', end_reason: reason, dispatch_id: undefined });
      assert.deepEqual(await editStatuses(s(), alice, call), ['active', 'ended'], 'one end edit: none lost, none doubled');
    }
    console.log(`ends raced: ${JSON.stringify(winners)}`);
  });

  it('shares the rate limits: requests spread over two backends are refused with 429 after the one limit', async () => {
    // Two more backends on a database of their own (fresh counters), with small limits.
    const url = await postgres().createDatabase();
    const env = { ...s().env, DATABASE_URL: url, LOG_LEVEL: 'warn', RATE_LIMIT_AUTH_PER_MINUTE: '6', USER_SYNCS_PER_MINUTE: '4' };
    const pair = await Promise.all([0, 1].map(async () => spawnBackend({ ...env, MATRIX_ACCESS_TOKEN: await s().newOracleDevice() })));
    await Promise.all(pair.map((backend) => backend.ready(60_000)));
    const spread = <T>(count: number, send: (backend: BackendProcess) => Promise<T>) =>
      Promise.all(Array.from({ length: count }, (_, i) => send(pair[i % 2]!)));

    // Sign-in attempts from one address, counted per address: 6 a minute in all, not 6 per backend.
    // One after another, alternating: 3 accepted on each, then 3 refused on each (sent at once, one
    // backend may answer all of its own before the other starts, and the refusals all fall on one).
    const signIns: Awaited<ReturnType<BackendProcess['api']>>[] = [];
    for (let i = 0; i < 12; i += 1) signIns.push(await pair[i % 2]!.api('POST', '/auth/matrix-openid', { body: {} }));
    const refused = signIns.filter((answer) => answer.status === 429);
    assert.equal(refused.length, 6, `statuses: ${signIns.map((answer) => answer.status).join(' ')}`);
    for (const answer of refused) {
      assert.equal(answer.body.error.code, 'rate_limited');
      assert.ok(Number(answer.headers.get('retry-after')) >= 1);
    }
    assert.ok(
      pair.every((backend) =>
        refused.some((answer) => answer.headers.get('x-ratelimit-limit') === '6' && signIns.indexOf(answer) % 2 === pair.indexOf(backend)),
      ),
      'both backends refuse',
    );

    // Syncs of one user (a session the stack's backend signed), counted per user: 4 a minute in all.
    const callId = `$${'a'.repeat(43)}@room-${'b'.repeat(16)}`;
    const syncs = await spread(8, (backend) =>
      backend.api('POST', callPath(callId, 'sync'), { session: alice.session, body: { matrixRoomId: alice.roomId, sessionId: 'session' } }),
    );
    const statuses = syncs.map((answer) => answer.status);
    assert.equal(statuses.filter((status) => status === 429).length, 4, `statuses: ${statuses.join(' ')}`);
    assert.ok(syncs.filter((answer) => answer.status === 429).every((answer) => answer.body.error.code === 'too_many_syncs'));
    await Promise.all(pair.map((backend) => backend.stop()));
    for (const backend of pair) assert.equal(backend.stderr(), '', 'the backend wrote nothing to stderr');
  });
});
