import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import pg from 'pg';
import { StoreConflict } from '../../server/store/call-store.ts';
import type { CallRecord } from '../../server/store/call-store.ts';
import { migrate, migrations } from '../../server/store/postgres-migrations.ts';
import { PostgresCallStore } from '../../server/store/postgres-store.ts';
import type { PostgresStoreOptions } from '../../server/store/postgres-store.ts';
import { callStoreBehaviour, record } from '../helpers/call-store-behaviour.ts';
import { usePostgres } from '../helpers/services.ts';

const postgres = usePostgres();

callStoreBehaviour('PostgresCallStore', async () => {
  const url = await postgres().createDatabase();
  const store = await PostgresCallStore.open({ url });
  return { store, reopen: () => PostgresCallStore.open({ url }) };
});

const open: PostgresCallStore[] = [];
async function openStore(options: PostgresStoreOptions): Promise<PostgresCallStore> {
  const store = await PostgresCallStore.open(options);
  open.push(store);
  return store;
}

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((store) => store.close()));
});

describe('PostgresCallStore across instances (several backends on one database)', () => {
  it('migrates once when several instances start at once, and not again after', async () => {
    const url = await postgres().createDatabase();
    const stores = await Promise.all(Array.from({ length: 5 }, () => openStore({ url })));
    const { rows } = await withClient(url, (client) =>
      client.query<{ version: number; name: string }>('SELECT version, name FROM oracle_call_migrations ORDER BY version'),
    );
    assert.deepEqual(
      rows,
      migrations().map(({ version, name }) => ({ version, name })),
      'each migration applied once',
    );
    assert.ok(rows.length >= 1);
    assert.deepEqual(await PostgresCallStore.migrate(url), [], 'nothing left to apply');
    // Every instance works on the migrated schema.
    const r = record();
    await stores[0]!.insert(r);
    for (const store of stores) assert.deepEqual(await store.get(r.callId), r);
  });

  it('applies a failing migration not at all, names it, keeps the ones before, and lets go of the lock', async () => {
    const url = await postgres().createDatabase();
    const good = { version: 1, name: 'first', sql: 'CREATE TABLE first (id integer PRIMARY KEY)' };
    const bad = { version: 2, name: 'broken', sql: 'CREATE TABLE second (id integer PRIMARY KEY); SELECT no_such_function()' };
    await withClient(url, async (client) => {
      await assert.rejects(migrate(client, [good, bad]), /migration 2-broken failed: .*no_such_function/);
    });
    await withClient(url, async (client) => {
      assert.deepEqual((await client.query('SELECT version FROM oracle_call_migrations')).rows, [{ version: 1 }]);
      assert.equal((await client.query("SELECT to_regclass('first') AS t")).rows[0].t, 'first');
      assert.equal((await client.query("SELECT to_regclass('second') AS t")).rows[0].t, null, 'the failed file left nothing');
      // The lock was let go: a fixed migration runs at once (a held lock would make this wait forever).
      const fixed = { ...bad, sql: 'CREATE TABLE second (id integer PRIMARY KEY)' };
      assert.deepEqual(await migrate(client, [good, fixed]), [fixed]);
    });
  });

  it('gives one winner when two instances end the same calls at once; the other sees the call ended', async () => {
    const url = await postgres().createDatabase();
    const [a, b] = await Promise.all([openStore({ url }), openStore({ url })]);
    const calls = Array.from({ length: 50 }, () => record());
    for (const r of calls) await a.insert(r);
    // The change CallService makes to end a call: refuse nothing, but only the first end sets the reason.
    const end =
      (who: string) =>
      (current: CallRecord): CallRecord =>
        current.status === 'ended' ? current : { ...current, status: 'ended', endReason: who, callEndedAt: new Date().toISOString() };
    const results = await Promise.all(calls.flatMap((r) => [a.update(r.callId, end('a')), b.update(r.callId, end('b'))]));
    for (let i = 0; i < calls.length; i += 1) {
      const [fromA, fromB] = [results[2 * i]!, results[2 * i + 1]!];
      assert.equal(fromA.status, 'ended');
      assert.equal(fromB.status, 'ended');
      assert.equal(fromA.endReason, fromB.endReason, 'the loser sees the winner’s end, not its own');
      assert.deepEqual(fromA, fromB);
      assert.deepEqual(await b.get(calls[i]!.callId), fromA);
    }
    const winners = new Set(results.map((r) => r!.endReason));
    assert.ok([...winners].every((w) => w === 'a' || w === 'b'));
  });

  it("runs a call's exclusive tasks one at a time across instances, and a holder's lost connection lets go", async () => {
    const url = await postgres().createDatabase();
    const [a, b] = await Promise.all([openStore({ url }), openStore({ url })]);
    const seen: string[] = [];
    const task = (name: string, ms: number) => async () => {
      seen.push(`${name} in`);
      await new Promise((resolve) => setTimeout(resolve, ms));
      seen.push(`${name} out`);
    };
    const first = a.exclusive('call-x', task('a', 300));
    while (!seen.includes('a in')) await new Promise((resolve) => setTimeout(resolve, 5));
    await Promise.all([first, b.exclusive('call-x', task('b', 10))]);
    assert.deepEqual(seen, ['a in', 'a out', 'b in', 'b out'], 'the second instance waited for the first');

    // A backend that dies holding the lock: its connection closes, and another instance gets the lock.
    const dying = await openStore({ url });
    let held!: () => void;
    const holding = dying.exclusive('call-y', () => new Promise<void>((resolve) => (held = resolve)));
    await new Promise((resolve) => setTimeout(resolve, 200));
    await withClient(url, (client) =>
      client.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'oracle-call call locks' AND query LIKE '%pg_advisory_lock%' AND pid <> pg_backend_pid() AND datname = current_database()",
      ),
    );
    const started = Date.now();
    await b.exclusive('call-y', async () => {});
    assert.ok(Date.now() - started < 5000, 'the lock went with the connection');
    held();
    await holding.catch(() => {});
  });

  it('gives back the same record while the row is unchanged, and a new one after any change, by another instance or by hand', async () => {
    const url = await postgres().createDatabase();
    const [a, b] = await Promise.all([openStore({ url }), openStore({ url })]);
    const r = await a.insert(record({ status: 'active' }));
    const first = await a.get(r.callId);
    assert.equal(await a.get(r.callId), first, 'the same frozen record: answers made from it are reused');
    await b.update(r.callId, (current) => ({ ...current, status: 'ended', callEndedAt: '2026-01-01T00:01:00.000Z', endReason: 'user' }));
    const afterOther = await a.get(r.callId);
    assert.notEqual(afterOther, first);
    assert.equal(afterOther?.status, 'ended', "another instance's change is seen at once");
    await withClient(url, (client) => client.query("UPDATE calls SET end_reason = 'by hand' WHERE call_id = $1", [r.callId]));
    assert.equal((await a.get(r.callId))?.endReason, 'by hand', 'a change made outside the store bumps the version too');
    await withClient(url, (client) => client.query('DELETE FROM calls WHERE call_id = $1', [r.callId]));
    assert.equal(await a.get(r.callId), undefined);
    // Many reads at once share queries and each gets its own call.
    const many = await Promise.all(Array.from({ length: 20 }, () => a.insert(record())));
    const read = await Promise.all(many.map((m) => a.get(m.callId)));
    assert.deepEqual(read, many);
  });

  it('serializes changes of one call made through several instances: none lost', async () => {
    const url = await postgres().createDatabase();
    const stores = await Promise.all(Array.from({ length: 3 }, () => openStore({ url })));
    const r = record();
    await stores[0]!.insert(r);
    await Promise.all(
      Array.from({ length: 30 }, (_, i) => stores[i % 3]!.update(r.callId, (current) => ({ ...current, endReason: `${current.endReason ?? ''}x` }))),
    );
    assert.equal((await stores[1]!.get(r.callId))?.endReason, 'x'.repeat(30));
  });

  it('enforces uniqueness across instances, also for inserts racing each other', async () => {
    const url = await postgres().createDatabase();
    const [a, b] = await Promise.all([openStore({ url }), openStore({ url })]);
    const first = record();
    await a.insert(first);
    await assert.rejects(
      b.insert({ ...record(), roomName: first.roomName }),
      (error: unknown) => error instanceof StoreConflict && error.conflict === 'room_taken',
    );
    await assert.rejects(
      b.insert({ ...record(), encryptionKey: first.encryptionKey }),
      (error: unknown) => error instanceof StoreConflict && error.conflict === 'key_reused',
    );

    for (let round = 0; round < 20; round += 1) {
      // The same call synced through both backends at once: one insert wins, the other is told the callId is taken.
      const same = record();
      const outcomes = await Promise.allSettled([a.insert(same), b.insert({ ...same })]);
      assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1);
      const refused = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
      assert.ok(refused.reason instanceof StoreConflict && refused.reason.conflict === 'call_id_taken', String(refused.reason));
      // Two calls with one encrypted key: one is refused as a reused key.
      const one = record();
      const keyOutcomes = await Promise.allSettled([a.insert(one), b.insert({ ...record(), encryptionKey: one.encryptionKey })]);
      const keyRefused = keyOutcomes.filter((o) => o.status === 'rejected') as PromiseRejectedResult[];
      assert.equal(keyRefused.length, 1);
      assert.ok(keyRefused[0]!.reason instanceof StoreConflict && keyRefused[0]!.reason.conflict === 'key_reused', String(keyRefused[0]!.reason));
    }
    const { rows } = await withClient(url, (client) => client.query<{ n: string }>('SELECT count(*) AS n FROM calls'));
    assert.equal(Number(rows[0]!.n), 1 + 20 * 2);
  });

  it('cancels a statement that waits longer than the statement timeout, and leaves the call as it was', async () => {
    const url = await postgres().createDatabase();
    const store = await openStore({ url, statementTimeoutMs: 300, poolSize: 2 });
    const r = record();
    await store.insert(r);
    await withClient(url, async (holder) => {
      // Another backend stalled while holding the call's row lock.
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM calls WHERE call_id = $1 FOR UPDATE', [r.callId]);
      const started = Date.now();
      await assert.rejects(
        store.update(r.callId, (current) => ({ ...current, status: 'ended' })),
        /statement timeout/,
      );
      assert.ok(Date.now() - started < 5000, `gave up after ${Date.now() - started} ms`);
      await holder.query('ROLLBACK');
    });
    assert.deepEqual(await store.get(r.callId), r);
    // The pool still works after the cancelled statement.
    assert.equal((await store.update(r.callId, (current) => ({ ...current, status: 'ended' })))?.status, 'ended');
  });

  it('refuses to open when the database cannot be reached', async () => {
    const { port } = postgres();
    await assert.rejects(PostgresCallStore.open({ url: `postgres://postgres@127.0.0.1:${port}/no_such_database` }), /no_such_database/);
  });
});
