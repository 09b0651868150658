/**
 * What every {@link CallStore} must do, as one suite run against each implementation (lowdb, PostgreSQL).
 * A store's own test file calls {@link callStoreBehaviour} with a way to open a fresh store, and adds the
 * tests of what only that store has.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { StoreConflict } from '../../server/store/call-store.ts';
import type { CallRecord, CallStore } from '../../server/store/call-store.ts';
import { InvalidCursorError } from '../../server/store/call-store.ts';

let counter = 0;

/** A valid call record of `@alice:localhost`, each one with its own callId, room, key and a later createdAt. */
export function record(overrides: Partial<CallRecord> = {}): CallRecord {
  counter += 1;
  const id = `${process.pid}${String(counter).padStart(8, '0')}`.padStart(12, '0');
  return {
    callId: `$${id.padEnd(43, 'x')}@room-${id}`,
    eventId: `$${id.padEnd(43, 'x')}`,
    roomName: `room-${id}`,
    matrixRoomId: '!room:localhost',
    userId: '@alice:localhost',
    userDid: 'did:ixo:alice',
    oracleDid: 'did:ixo:oracle',
    sessionId: 'session',
    callType: 'audio',
    encryptionKey: `key${id}`,
    status: 'active',
    callStartedAt: '2026-01-01T00:00:00.000Z',
    createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, counter)).toISOString(),
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

/** Newest first by (createdAt, callId), the order every store pages in. */
export function newestFirst(records: readonly CallRecord[]): CallRecord[] {
  return [...records].sort((a, b) => (a.createdAt === b.createdAt ? (a.callId < b.callId ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1));
}

export interface OpenedStore {
  readonly store: CallStore;
  /** The same data through a new store instance (after closing this one, where the store needs that). */
  reopen(): Promise<CallStore>;
}

/**
 * Registers the shared behaviour tests. `open` gives a new, empty store for each test; every store it
 * (or `reopen`) returns is closed after the test.
 */
export function callStoreBehaviour(name: string, open: () => Promise<OpenedStore>): void {
  const opened: CallStore[] = [];
  const fresh = async (): Promise<OpenedStore> => {
    const { store, reopen } = await open();
    opened.push(store);
    return {
      store,
      async reopen() {
        const again = await reopen();
        opened.push(again);
        return again;
      },
    };
  };

  describe(`${name}: the CallStore behaviour`, () => {
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((store) => store.close()));
    });

    it('runs the exclusive tasks of one call one at a time, and those of other calls meanwhile; a failing task lets go', async () => {
      const { store } = await fresh();
      const seen: string[] = [];
      const task =
        (name: string, ms: number, fail = false) =>
        async () => {
          seen.push(`${name} in`);
          await new Promise((resolve) => setTimeout(resolve, ms));
          seen.push(`${name} out`);
          if (fail) throw new Error(`${name} failed`);
          return name;
        };
      const results = await Promise.allSettled([
        store.exclusive('call-a', task('a1', 400, true)),
        store.exclusive('call-a', task('a2', 10)),
        store.exclusive('call-b', task('b1', 10)),
      ]);
      assert.equal(results[0].status, 'rejected', 'the failure reaches the caller');
      assert.deepEqual(results[1], { status: 'fulfilled', value: 'a2' });
      assert.ok(seen.indexOf('b1 out') < seen.indexOf('a1 out'), `another call's task ran meanwhile: ${seen.join(', ')}`);
      assert.ok(seen.indexOf('a2 in') > seen.indexOf('a1 out'), `the same call's tasks did not overlap: ${seen.join(', ')}`);
    });

    it('counts open calls per user, refuses one over maxOpenPerUser, lists open calls, forgets old ended ones; keeps the new fields', async () => {
      const { store, reopen } = await fresh();
      const a = await store.insert(record({ status: 'active', verifiedUserDid: 'did:matrix:%40alice:localhost' }), { maxOpenPerUser: 2 });
      await store.insert(record({ status: 'pending' }), { maxOpenPerUser: 2 });
      await store.insert(record({ userId: '@bob:localhost', status: 'active' }), { maxOpenPerUser: 2 });
      assert.equal(await store.countOpen('@alice:localhost'), 2);
      await assert.rejects(
        store.insert(record(), { maxOpenPerUser: 2 }),
        (error: unknown) => error instanceof StoreConflict && error.conflict === 'too_many_open_calls',
      );
      assert.equal((await store.open()).length, 3);
      const arrived = new Date().toISOString();
      const ended = await store.update(a.callId, (r) => ({ ...r, status: 'ended', callEndedAt: '2020-01-01T00:00:00.000Z', agentArrivedAt: arrived }));
      assert.equal(ended?.agentArrivedAt, arrived);
      assert.equal(await store.countOpen('@alice:localhost'), 1);
      const again = await reopen();
      assert.deepEqual(await again.get(a.callId), ended, 'verifiedUserDid and agentArrivedAt kept');
      assert.equal(await again.deleteEndedBefore('2021-01-01T00:00:00.000Z'), 1);
      assert.equal(await again.get(a.callId), undefined);
      assert.equal((await again.list({ userId: '@alice:localhost', limit: 10 })).calls.length, 1);
    });

    it('pages through every call exactly once, newest first, even when creation times tie', async () => {
      const { store } = await fresh();
      const tie = '2026-02-02T00:00:00.000Z';
      const records = Array.from({ length: 120 }, (_, i) => record(i % 3 === 0 ? { createdAt: tie } : {}));
      // Insert out of order: the store must not depend on insertion order.
      for (const r of [...records].reverse()) await store.insert(r);
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.list({ userId: '@alice:localhost', limit: 7, ...(cursor ? { cursor } : {}) });
        assert.ok(page.calls.length <= 7);
        seen.push(...page.calls.map((c) => c.callId));
        cursor = page.nextCursor;
      } while (cursor);
      assert.deepEqual(
        seen,
        newestFirst(records).map((r) => r.callId),
      );
    });

    it("lists only the user's calls, filtered by session and status, and shows changes at once", async () => {
      const { store } = await fresh();
      const alice = [record(), record({ sessionId: 'other' }), record()];
      for (const r of alice) await store.insert(r);
      await store.insert(record({ userId: '@bob:localhost' }));
      const query = { userId: '@alice:localhost', limit: 2 };
      const first = await store.list(query);
      assert.deepEqual(first.calls, [alice[2], alice[1]]);
      assert.equal(typeof first.nextCursor, 'string');
      const second = await store.list({ ...query, cursor: first.nextCursor! });
      assert.deepEqual(second, { calls: [alice[0]] }, 'the last page has no cursor');
      // A sessionId holding a query-key separator is a query of its own.
      assert.deepEqual((await store.list({ ...query, sessionId: 'session\n2' })).calls, []);
      assert.deepEqual(
        (await store.list({ ...query, sessionId: 'session' })).calls.map((c) => c.callId),
        [alice[2]!.callId, alice[0]!.callId],
      );

      await store.update(alice[2]!.callId, (current) => ({ ...current, status: 'ended' }));
      assert.equal((await store.list(query)).calls[0]!.status, 'ended');
      assert.deepEqual(
        (await store.list({ ...query, status: 'active' })).calls.map((c) => c.callId),
        [alice[1]!.callId, alice[0]!.callId],
      );
      const newest = record();
      await store.insert(newest);
      assert.deepEqual(
        (await store.list(query)).calls.map((c) => c.callId),
        [newest.callId, alice[2]!.callId],
      );
      assert.deepEqual(await store.list({ userId: '@nobody:localhost', limit: 5 }), { calls: [] });
      // Values a store cannot hold match nothing (PostgreSQL text has no NUL), rather than failing.
      assert.deepEqual(await store.list({ ...query, sessionId: 'session\0' }), { calls: [] });
      assert.equal(await store.get(`${alice[0]!.callId}\0`), undefined);
      assert.equal(await store.findByRoomName(`${alice[0]!.roomName}\0`), undefined);
    });

    it('refuses a cursor it did not give out', async () => {
      const { store } = await fresh();
      await store.insert(record());
      const made = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      for (const cursor of ['nope', made([1, 2]), made({}), made(['2026-13-45T99:00:00.000Z', 'x']), made(['yesterday', 'x'])]) {
        await assert.rejects(store.list({ userId: '@alice:localhost', limit: 5, cursor }), InvalidCursorError);
      }
    });

    it('refuses a taken callId, a bound room name and a reused encrypted key, atomically', async () => {
      const { store } = await fresh();
      const first = record();
      await store.insert(first);
      for (const [clash, conflict] of [
        [{ ...record(), callId: first.callId }, 'call_id_taken'],
        [{ ...record(), roomName: first.roomName }, 'room_taken'],
        [{ ...record(), encryptionKey: first.encryptionKey }, 'key_reused'],
        // Clashing on all three at once is reported as the callId, as a sync of a known call would be.
        [{ ...first, createdAt: new Date().toISOString() }, 'call_id_taken'],
        [{ ...record(), roomName: first.roomName, encryptionKey: first.encryptionKey }, 'room_taken'],
      ] as const) {
        await assert.rejects(store.insert(clash), (error: unknown) => error instanceof StoreConflict && error.conflict === conflict);
        assert.deepEqual((await store.list({ userId: first.userId, limit: 100 })).calls, [first]);
      }
    });

    it('keeps every acknowledged write, and serves it from a new store instance', async () => {
      const { store, reopen } = await fresh();
      const records = Array.from({ length: 50 }, () => record());
      await Promise.all(records.map((r) => store.insert(r)));
      await Promise.all(records.map((r) => store.update(r.callId, (current) => ({ ...current, status: 'ended' }))));
      const again = await reopen();
      for (const r of records) assert.equal((await again.get(r.callId))?.status, 'ended');
    });

    it('gives back a record as it was stored, optional fields set and cleared', async () => {
      const { store } = await fresh();
      const full = record({
        status: 'ended',
        callEndedAt: '2026-01-01T00:10:00.000Z',
        endReason: 'agent_failed: no audio',
        dispatchId: 'AD_123',
        mirroredStatus: 'active',
        callType: 'video',
        agentVoice: 'en-gb',
        language: 'pt-BR',
        callStartedAt: '2026-01-01T00:00:00Z',
      });
      await store.insert(full);
      assert.deepEqual(await store.get(full.callId), full);
      assert.deepEqual(await store.findByRoomName(full.roomName), full);
      const { callEndedAt: _ended, endReason: _reason, dispatchId: _dispatch, mirroredStatus: _mirrored, ...bare } = full;
      const cleared = { ...bare, status: 'active' as const, updatedAt: '2026-01-01T00:11:00.000Z' };
      assert.deepEqual(await store.update(full.callId, () => cleared), cleared);
      assert.deepEqual(await store.get(full.callId), cleared);
    });

    it('hands out frozen records and pages, never the caller’s own object, and refuses a change made in place', async () => {
      const { store } = await fresh();
      const mine = record();
      const stored = await store.insert(mine);
      assert.notEqual(stored, mine, 'the store keeps a copy');
      assert.deepEqual(stored, mine);
      assert.equal(Object.isFrozen(mine), false);
      for (const got of [stored, await store.get(mine.callId), await store.findByRoomName(mine.roomName)]) {
        assert.ok(got && Object.isFrozen(got));
      }
      (mine as { status: string }).status = 'ended';
      assert.equal((await store.get(mine.callId))?.status, 'active', 'editing the inserted object does not reach the store');
      await assert.rejects(
        store.update(mine.callId, (current) => {
          (current as { status: string }).status = 'ended';
          return current;
        }),
        TypeError,
      );
      assert.equal((await store.get(mine.callId))?.status, 'active');
      const after = await store.update(mine.callId, (current) => ({ ...current, status: 'ended' }));
      assert.ok(after && Object.isFrozen(after) && after.status === 'ended');
      assert.equal(stored.status, 'active', 'the old record is unchanged');
      const page = await store.list({ userId: mine.userId, limit: 5 });
      assert.ok(Object.isFrozen(page) && Object.isFrozen(page.calls) && page.calls.every((c) => Object.isFrozen(c)));
      const unmirrored = await store.unmirrored();
      assert.ok(unmirrored.length > 0 && unmirrored.every((c) => Object.isFrozen(c)));
    });

    it('answers unknown calls with undefined, and never calls the change for them', async () => {
      const { store } = await fresh();
      assert.equal(await store.get('$unknown@room'), undefined);
      assert.equal(await store.findByRoomName('no-such-room'), undefined);
      assert.equal(await store.update('$unknown@room', () => assert.fail('change called for an unknown call')), undefined);
    });

    it('leaves a call as it was when the change refuses, or returns the record unchanged', async () => {
      const { store } = await fresh();
      const r = record();
      await store.insert(r);
      const refusal = new Error('refused');
      await assert.rejects(
        store.update(r.callId, () => {
          throw refusal;
        }),
        (error: unknown) => error === refusal,
      );
      assert.deepEqual(await store.update(r.callId, (current) => current), r);
      assert.deepEqual(await store.get(r.callId), r);
    });

    it('refuses updates that change what identifies a call', async () => {
      const { store } = await fresh();
      const r = record();
      await store.insert(r);
      for (const change of [
        { callId: '$other@room' },
        { roomName: 'other-room' },
        { encryptionKey: 'other' },
        { userId: '@bob:localhost' },
        { createdAt: '2030-01-01T00:00:00.000Z' },
      ]) {
        await assert.rejects(
          store.update(r.callId, (current) => ({ ...current, ...change })),
          /may not change/,
        );
      }
      assert.deepEqual(await store.get(r.callId), r);
    });

    it('applies concurrent changes of one call one after the other, none lost', async () => {
      const { store } = await fresh();
      const r = record();
      await store.insert(r);
      await Promise.all(Array.from({ length: 20 }, () => store.update(r.callId, (current) => ({ ...current, endReason: `${current.endReason ?? ''}x` }))));
      assert.equal((await store.get(r.callId))?.endReason, 'x'.repeat(20));
    });

    it('lists the calls whose Matrix event does not show their status yet', async () => {
      const { store } = await fresh();
      const pending = record({ status: 'pending' });
      const mirrored = record({ status: 'active', mirroredStatus: 'active' });
      const unmirroredActive = record({ status: 'active' });
      const unmirroredEnd = record({ status: 'ended', mirroredStatus: 'active', callEndedAt: '2026-01-01T00:05:00.000Z', endReason: 'user' });
      for (const r of [pending, mirrored, unmirroredActive, unmirroredEnd]) await store.insert(r);
      const ids = (await store.unmirrored()).map((c) => c.callId).sort();
      assert.deepEqual(ids, [unmirroredActive.callId, unmirroredEnd.callId].sort());
      await store.update(unmirroredEnd.callId, (current) => ({ ...current, mirroredStatus: 'ended' }));
      assert.deepEqual(
        (await store.unmirrored()).map((c) => c.callId),
        [unmirroredActive.callId],
      );
    });
  });
}
