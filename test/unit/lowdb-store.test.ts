import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { StoreConflict } from '../../server/store/call-store.ts';
import type { CallRecord } from '../../server/store/call-store.ts';
import { StoreLockedError } from '../../server/store/call-store.ts';
import { LowdbCallStore } from '../../server/store/lowdb-store.ts';
import { tempDir } from '../helpers/temp-dir.ts';

let counter = 0;
function record(overrides: Partial<CallRecord> = {}): CallRecord {
  counter += 1;
  const id = String(counter).padStart(12, '0');
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
    createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, counter)).toISOString(),
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

const open: LowdbCallStore[] = [];
async function openStore(dir: string): Promise<LowdbCallStore> {
  const store = await LowdbCallStore.open(dir);
  open.push(store);
  return store;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((store) => store.close()));
});

describe('LowdbCallStore', () => {
  it('pages through every call exactly once, newest first, even when creation times tie', async () => {
    const dir = tempDir('store-');
    const store = await openStore(dir);
    const tie = '2026-02-02T00:00:00.000Z';
    const records = Array.from({ length: 120 }, (_, i) => record(i % 3 === 0 ? { createdAt: tie } : {}));
    // Insert out of order: the store must not depend on insertion order.
    for (const r of [...records].reverse()) await store.insert(r);
    const expected = [...records].sort((a, b) => (a.createdAt === b.createdAt ? (a.callId < b.callId ? 1 : -1) : a.createdAt < b.createdAt ? 1 : -1)).map((r) => r.callId);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.list({ userId: '@alice:localhost', limit: 7, ...(cursor ? { cursor } : {}) });
      seen.push(...page.calls.map((c) => c.callId));
      cursor = page.nextCursor;
    } while (cursor);
    assert.deepEqual(seen, expected);
  });

  it('answers a query asked again with the same page until the user’s calls change, and never a stale one', async () => {
    const store = await openStore(tempDir('store-'));
    const alice = [record(), record(), record()];
    for (const r of alice) await store.insert(r);
    const bob = record({ userId: '@bob:localhost' });
    await store.insert(bob);
    const query = { userId: '@alice:localhost', limit: 2 };
    const first = await store.list(query);
    assert.equal(await store.list({ ...query }), first, 'same query, unchanged calls: the same page object');
    assert.deepEqual(first.calls.map((c) => c.callId), [alice[2]!.callId, alice[1]!.callId]);
    // A filtered query is a query of its own, even with a sessionId holding the key's separator.
    const filtered = await store.list({ ...query, sessionId: 'session\n2' });
    assert.deepEqual(filtered.calls, []);
    assert.equal((await store.list({ ...query, sessionId: 'session' })).calls.length, 2);

    await store.update(bob.callId, (current) => ({ ...current, status: 'ended' }));
    assert.equal(await store.list(query), first, "another user's change leaves the page as it was");

    await store.update(alice[2]!.callId, (current) => ({ ...current, status: 'ended' }));
    const afterUpdate = await store.list(query);
    assert.notEqual(afterUpdate, first);
    assert.equal(afterUpdate.calls[0]!.status, 'ended');
    assert.equal((await store.list({ ...query, status: 'active' })).calls.length, 2);

    const newest = record();
    await store.insert(newest);
    assert.deepEqual((await store.list(query)).calls.map((c) => c.callId), [newest.callId, alice[2]!.callId]);
  });

  it('refuses a taken callId, a bound room name and a reused encrypted key, atomically', async () => {
    const store = await openStore(tempDir('store-'));
    const first = record();
    await store.insert(first);
    for (const [clash, conflict] of [
      [{ ...record(), callId: first.callId }, 'call_id_taken'],
      [{ ...record(), roomName: first.roomName }, 'room_taken'],
      [{ ...record(), encryptionKey: first.encryptionKey }, 'key_reused'],
    ] as const) {
      await assert.rejects(store.insert(clash), (error: unknown) => error instanceof StoreConflict && error.conflict === conflict);
      assert.equal((await store.list({ userId: first.userId, limit: 100 })).calls.length, 1);
    }
  });

  it('keeps every acknowledged write on disk, and serves it after reopening', async () => {
    const dir = tempDir('store-');
    const store = await openStore(dir);
    const records = Array.from({ length: 50 }, () => record());
    await Promise.all(records.map((r) => store.insert(r)));
    await Promise.all(records.map((r) => store.update(r.callId, (current) => ({ ...current, status: 'ended' }))));
    const onDisk = JSON.parse(readFileSync(path.join(dir, 'calls.json'), 'utf8')) as { calls: CallRecord[] };
    assert.equal(onDisk.calls.filter((c) => c.status === 'ended').length, 50);
    await store.close();
    open.length = 0;
    const reopened = await openStore(dir);
    for (const r of records) assert.equal((await reopened.get(r.callId))?.status, 'ended');
  });

  it('refuses updates that change what identifies a call', async () => {
    const store = await openStore(tempDir('store-'));
    const r = record();
    await store.insert(r);
    for (const change of [{ roomName: 'other-room' }, { encryptionKey: 'other' }, { userId: '@bob:localhost' }, { createdAt: '2030-01-01T00:00:00.000Z' }]) {
      await assert.rejects(store.update(r.callId, (current) => ({ ...current, ...change })), /may not change/);
    }
    assert.deepEqual(await store.get(r.callId), r);
  });

  it('refuses to open a data file that is not valid JSON, and leaves it as it is', async () => {
    const dir = tempDir('store-');
    writeFileSync(path.join(dir, 'calls.json'), '{"version":1,"calls":[');
    await assert.rejects(LowdbCallStore.open(dir), /not valid JSON/);
    assert.equal(readFileSync(path.join(dir, 'calls.json'), 'utf8'), '{"version":1,"calls":[');
  });

  it('refuses a second opener of the same data file', { timeout: 30_000 }, async () => {
    const dir = tempDir('store-');
    await openStore(dir);
    await assert.rejects(LowdbCallStore.open(dir), (error: unknown) => error instanceof StoreLockedError && /in use/.test(error.message));
  });
});
