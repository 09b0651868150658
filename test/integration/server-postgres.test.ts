import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { decryptCallKey } from '../../protocol/index.ts';
import { freeTcpPort } from '../../scripts/services/process.ts';
import { migrations } from '../../server/store/postgres-migrations.ts';
import { AGENT_API_KEY, announceCall, startStack, stopStack, syncCall } from '../../scripts/stack/stack.ts';
import type { Stack, TestUser } from '../../scripts/stack/stack.ts';
import { runBackendToExit, spawnBackend, stopAllBackends } from '../../scripts/stack/backend-process.ts';
import { usePostgres } from '../helpers/services.ts';
import { assertRefused } from '../helpers/use-stack.ts';

type User = TestUser & { roomId: string };

const callPath = (callId: string, tail: string) => `/calls/${encodeURIComponent(callId)}/${tail}`;

async function rows(url: string, text: string, values: unknown[] = []): Promise<any[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows;
  } finally {
    await client.end();
  }
}

describe('the backend on PostgreSQL (DATABASE_URL; real PostgreSQL, Synapse, LiveKit, HTTP)', () => {
  const postgres = usePostgres();
  let stack: Stack | undefined;
  let databaseUrl: string;
  let alice: User;
  const s = () => stack ?? assert.fail('the test stack did not start (see the error above)');

  before(async () => {
    databaseUrl = await postgres().createDatabase();
    stack = await startStack({ DATABASE_URL: databaseUrl });
    alice = await s().newUser('grace');
  });
  after(async () => {
    await stopAllBackends();
    await stopStack(stack);
  });

  it('syncs, hands the agent the key, ends and lists calls, all in the database', async () => {
    const call = await announceCall(s(), alice, { callType: 'audio' });
    const synced = await syncCall(s(), alice, call);
    assert.equal(synced.status, 200, JSON.stringify(synced.body));
    assert.equal(synced.body.call.status, 'active');
    const [row] = await rows(databaseUrl, 'SELECT status, mirrored_status, encryption_key, dispatch_id, user_id FROM calls WHERE call_id = $1', [call.callId]);
    assert.equal(row.status, 'active');
    assert.equal(row.mirrored_status, 'active');
    assert.equal(row.encryption_key, call.content.encryptionKey, 'the database holds the encrypted key as the event carries it');
    assert.equal(typeof row.dispatch_id, 'string');
    assert.equal(row.user_id, alice.matrix.userId);
    assert.equal(existsSync(path.join(s().env.DATA_DIR!, 'calls.json')), false, 'no lowdb file beside the database');

    const again = await syncCall(s(), alice, call);
    assert.equal(again.status, 200, 'a second sync of the same call is answered as the first');

    const key = await s().api('GET', callPath(call.callId, 'key'), { apiKey: AGENT_API_KEY });
    assert.equal(key.status, 200);
    assert.equal(decryptCallKey(key.body.encryptionKey, s().oracleKeys.privateKey), call.callKey);

    const ended = await s().api('POST', callPath(call.callId, 'update'), { session: alice.session, body: { status: 'ended' } });
    assert.equal(ended.status, 200, JSON.stringify(ended.body));
    assert.equal(ended.body.call.endReason, 'user');
    assert.equal(ended.body.mirrored, true);
    const endedAgain = await s().api('POST', callPath(call.callId, 'update'), { session: alice.session, body: { status: 'ended' } });
    assert.equal(endedAgain.status, 200);
    assert.equal(endedAgain.body.call.updatedAt, ended.body.call.updatedAt, 'ending again changes nothing');
    await assertRefused(s(), () => s().api('GET', callPath(call.callId, 'key'), { apiKey: AGENT_API_KEY }), 410, 'call_ended');
    const [endedRow] = await rows(databaseUrl, 'SELECT status, mirrored_status, end_reason FROM calls WHERE call_id = $1', [call.callId]);
    assert.deepEqual(endedRow, { status: 'ended', mirrored_status: 'ended', end_reason: 'user' });
  });

  it('pages the list with its cursor and refuses a cursor it did not give out', async () => {
    const user = await s().newUser('heidi');
    const made = [];
    for (let i = 0; i < 5; i += 1) {
      const call = await announceCall(s(), user);
      assert.equal((await syncCall(s(), user, call)).status, 200);
      made.push(call);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await s().api('GET', `/calls?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { session: user.session });
      assert.equal(page.status, 200, JSON.stringify(page.body));
      seen.push(...page.body.calls.map((c: { callId: string }) => c.callId));
      for (const c of page.body.calls) assert.equal('encryptionKey' in c, false);
      cursor = page.body.nextCursor;
      pages += 1;
    } while (cursor && pages < 10);
    assert.equal(pages, 3);
    assert.deepEqual(seen, made.map((c) => c.callId).reverse());
    await assertRefused(s(), () => s().api('GET', '/calls?cursor=bm90LWEtY3Vyc29y', { session: user.session }), 400, 'invalid_cursor');
  });

  it('refuses a reused encrypted key as the database constraint reports it, and changes nothing', async () => {
    const first = await announceCall(s(), alice);
    assert.equal((await syncCall(s(), alice, first)).status, 200);
    const copy = await announceCall(s(), alice, { encryptionKey: first.content.encryptionKey });
    await assertRefused(s(), () => syncCall(s(), alice, copy), 409, 'key_reused');
  });

  it('keeps every call across a restart, without migrating again', async () => {
    const before = await rows(databaseUrl, 'SELECT * FROM calls ORDER BY call_id');
    await s().restart();
    assert.deepEqual(await rows(databaseUrl, 'SELECT * FROM calls ORDER BY call_id'), before);
    const applied = await rows(databaseUrl, 'SELECT version FROM oracle_call_migrations ORDER BY version');
    assert.deepEqual(
      applied.map((r) => r.version),
      migrations().map((m) => m.version),
    );
    const listed = await s().api('GET', '/calls?limit=100', { session: alice.session });
    assert.equal(listed.status, 200);
    assert.equal(listed.body.calls.length, before.filter((r) => r.user_id === alice.matrix.userId).length);
  });

  it('shares the calls with a second backend process on the same database, and ends raced across both give one end', async () => {
    // A second backend: its own process, port, data folder and Matrix device, the same database and secret.
    const second = await spawnBackend({ ...s().env, LOG_LEVEL: 'warn', MATRIX_ACCESS_TOKEN: await s().newOracleDevice() });
    await second.ready(60_000);
    // The call is made once both run: its LiveKit room, which nobody joins here, finishes after 30 s
    // (and ends the call), which a loaded machine can take to start the second backend.
    const call = await announceCall(s(), alice);
    assert.equal((await syncCall(s(), alice, call)).status, 200);
    const key = await second.api('GET', callPath(call.callId, 'key'), { apiKey: AGENT_API_KEY });
    assert.equal(key.status, 200, JSON.stringify(key.body));
    assert.equal(key.body.encryptionKey, call.content.encryptionKey);
    // The session signed by the first backend is valid on the second (the shared SESSION_SECRET).
    const ended = await second.api('POST', callPath(call.callId, 'update'), { session: alice.session, body: { status: 'ended' } });
    assert.equal(ended.status, 200, JSON.stringify(ended.body));
    assert.equal(ended.body.call.status, 'ended');
    const onFirst = await s().api('GET', '/calls?limit=1', { session: alice.session });
    assert.equal(onFirst.body.calls[0].callId, call.callId);
    assert.equal(onFirst.body.calls[0].status, 'ended', 'the first backend serves the end made through the second');
    await assertRefused(s(), () => s().api('GET', callPath(call.callId, 'key'), { apiKey: AGENT_API_KEY }), 410, 'call_ended');

    // Ends of the same calls sent to both backends at once: each call ends once, both answers show that end.
    const racing = [];
    for (let i = 0; i < 8; i += 1) {
      const c = await announceCall(s(), alice);
      assert.equal((await syncCall(s(), alice, c)).status, 200);
      racing.push(c);
    }
    const answers = await Promise.all(
      racing.flatMap((c) => [
        s().api('POST', callPath(c.callId, 'update'), { session: alice.session, body: { status: 'ended' } }),
        second.api('POST', callPath(c.callId, 'update'), { apiKey: AGENT_API_KEY, body: { status: 'ended', reason: 'racing' } }),
      ]),
    );
    for (let i = 0; i < racing.length; i += 1) {
      const [one, two] = [answers[2 * i]!, answers[2 * i + 1]!];
      assert.equal(one.status, 200, JSON.stringify(one.body));
      assert.equal(two.status, 200, JSON.stringify(two.body));
      assert.deepEqual(one.body.call, two.body.call, 'the loser answers with the winner’s end');
      assert.ok(['user', 'agent_failed: racing'].includes(one.body.call.endReason));
      const [row] = await rows(databaseUrl, 'SELECT status, end_reason FROM calls WHERE call_id = $1', [racing[i]!.callId]);
      assert.deepEqual(row, { status: 'ended', end_reason: one.body.call.endReason });
    }
    await second.stop();
    assert.equal(second.stderr(), '', 'the second backend wrote nothing to stderr');
  });

  describe('refused at start', () => {
    it('refuses DATABASE_URL without SESSION_SECRET, naming both', async () => {
      const run = await runBackendToExit({ ...s().env, SESSION_SECRET: undefined }, { timeoutMs: 30_000 });
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, /^oracle-call backend cannot start: Invalid configuration:\n\s+SESSION_SECRET: required when DATABASE_URL is set/);
      assert.doesNotMatch(run.stdout, /backend listening/);
    });

    it('refuses a database it cannot reach, naming DATABASE_URL and never printing its password', async () => {
      const port = await freeTcpPort();
      const password = 'hunter2-not-to-be-printed';
      const run = await runBackendToExit({ ...s().env, DATABASE_URL: `postgres://oracle:${password}@127.0.0.1:${port}/calls` }, { timeoutMs: 30_000 });
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, /^oracle-call backend cannot start: DATABASE_URL: the PostgreSQL call store could not be opened \(.*ECONNREFUSED/);
      assert.equal(`${run.stderr}${run.stdout}`.includes(password), false);
    });

    it('refuses a DATABASE_URL that is not a PostgreSQL URL', async () => {
      const run = await runBackendToExit({ ...s().env, DATABASE_URL: 'mysql://localhost/calls' }, { timeoutMs: 30_000 });
      assert.equal(run.code, 1, run.stderr);
      assert.match(run.stderr, /\n\s+DATABASE_URL: expected a postgres: or postgresql: URL/);
    });
  });
});
