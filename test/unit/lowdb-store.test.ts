import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import type { CallRecord } from '../../server/store/call-store.ts';
import { StoreLockedError } from '../../server/store/call-store.ts';
import { LowdbCallStore } from '../../server/store/lowdb-store.ts';
import { callStoreBehaviour, record } from '../helpers/call-store-behaviour.ts';
import { tempDir } from '../../scripts/stack/temp-dir.ts';

callStoreBehaviour('LowdbCallStore', async () => {
  const dir = tempDir('store-');
  const store = await LowdbCallStore.open(dir);
  return {
    store,
    async reopen() {
      // One process per data file: the first instance lets go before the second opens it.
      await store.close();
      return LowdbCallStore.open(dir);
    },
  };
});

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
  it('answers a query asked again with the same page until the user’s calls change, and never a stale one', async () => {
    const store = await openStore(tempDir('store-'));
    const alice = [record(), record(), record()];
    for (const r of alice) await store.insert(r);
    const bob = record({ userId: '@bob:localhost' });
    await store.insert(bob);
    const query = { userId: '@alice:localhost', limit: 2 };
    const first = await store.list(query);
    assert.equal(await store.list({ ...query }), first, 'same query, unchanged calls: the same page object');
    assert.notEqual(await store.list({ ...query, sessionId: 'session' }), first, 'a filtered query is a query of its own');

    await store.update(bob.callId, (current) => ({ ...current, status: 'ended' }));
    assert.equal(await store.list(query), first, "another user's change leaves the page as it was");

    await store.update(alice[2]!.callId, (current) => ({ ...current, status: 'ended' }));
    const afterUpdate = await store.list(query);
    assert.notEqual(afterUpdate, first);
    assert.equal(afterUpdate.calls[0]!.status, 'ended');
  });

  it('has every acknowledged write in the data file on disk', async () => {
    const dir = tempDir('store-');
    const store = await openStore(dir);
    const records = Array.from({ length: 50 }, () => record());
    await Promise.all(records.map((r) => store.insert(r)));
    await Promise.all(records.map((r) => store.update(r.callId, (current) => ({ ...current, status: 'ended' }))));
    const onDisk = JSON.parse(readFileSync(path.join(dir, 'calls.json'), 'utf8')) as { calls: CallRecord[] };
    assert.equal(onDisk.calls.filter((c) => c.status === 'ended').length, 50);
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
