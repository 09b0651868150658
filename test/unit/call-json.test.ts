/**
 * The answers cached by object identity (`server/routes/call-json.ts`) rest on the store's invariant:
 * records and pages are never changed in place, a change makes new objects. These tests fail if a
 * record (or a page) can be changed in place, or if a cached answer outlives a change.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { API_ROUTES } from '../../protocol/api/index.ts';
import { keyAnswerJson, pageBody, pageJson, publicCallJson } from '../../server/routes/call-json.ts';
import type { CallRecord } from '../../server/store/call-store.ts';
import { LowdbCallStore } from '../../server/store/lowdb-store.ts';
import { tempDir } from '../../scripts/stack/temp-dir.ts';
import { record } from '../helpers/call-store-behaviour.ts';

const stores: LowdbCallStore[] = [];
async function openStore(): Promise<LowdbCallStore> {
  const store = await LowdbCallStore.open(tempDir('oracle-call-call-json-'));
  stores.push(store);
  return store;
}

afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()));
});

const query = { userId: '@alice:localhost', limit: 20 };

describe('records and pages are values (store boundary)', () => {
  it('hands out frozen records: an in-place change throws, and the caller’s own object stays its own', async () => {
    const store = await openStore();
    const mine = record();
    const stored = await store.insert(mine);
    assert.notEqual(stored, mine, 'the store keeps a copy');
    assert.equal(Object.isFrozen(mine), false);
    for (const got of [stored, await store.get(mine.callId), await store.findByRoomName(mine.roomName)]) {
      assert.ok(got && Object.isFrozen(got));
      assert.throws(() => {
        (got as { status: string }).status = 'ended';
      }, TypeError);
    }
    (mine as { status: string }).status = 'ended';
    assert.equal((await store.get(mine.callId))?.status, 'active', 'editing the inserted object does not reach the store');
  });

  it('an update that edits the record in place is refused; a real update stores a new frozen record', async () => {
    const store = await openStore();
    const before = await store.insert(record());
    await assert.rejects(
      store.update(before.callId, (current) => {
        (current as { status: string }).status = 'ended';
        return current;
      }),
      TypeError,
    );
    assert.equal((await store.get(before.callId))?.status, 'active');
    const after = await store.update(before.callId, (current) => ({ ...current, status: 'ended' }));
    assert.ok(after && after !== before && Object.isFrozen(after));
    assert.equal(before.status, 'active', 'the old record is unchanged');
  });

  it('pages are frozen, the same object while nothing changes, and a new one after a change', async () => {
    const store = await openStore();
    const call = await store.insert(record());
    const first = await store.list(query);
    assert.ok(Object.isFrozen(first) && Object.isFrozen(first.calls));
    assert.throws(() => (first.calls as CallRecord[]).push(record()), TypeError);
    assert.equal(await store.list(query), first, 'asked again: the same page object');
    await store.update(call.callId, (current) => ({ ...current, status: 'ended', updatedAt: new Date().toISOString() }));
    const second = await store.list(query);
    assert.notEqual(second, first, 'after a change: a new page');
    assert.equal(second.calls[0]?.status, 'ended');
  });
});

describe('answers cached by object identity (call-json)', () => {
  it('no cached answer outlives a change: the list, the call and the key answers follow the stored record', async () => {
    const store = await openStore();
    const call = await store.insert(record());
    const page = await store.list(query);
    const bodyBefore = pageBody(page).toString('utf8');
    const callBefore = publicCallJson(call);
    assert.equal(JSON.parse(bodyBefore).calls[0].status, 'active');

    const ended = await store.update(call.callId, (current) => ({ ...current, status: 'ended', updatedAt: new Date().toISOString() }));
    const after = await store.list(query);
    assert.equal(JSON.parse(pageBody(after).toString('utf8')).calls[0].status, 'ended', 'the list answer shows the change');
    assert.equal(JSON.parse(publicCallJson(ended!)).status, 'ended', 'the call answer shows the change');
    assert.equal(publicCallJson(call), callBefore, 'the old record’s answer is still the old record’s');
    assert.equal(JSON.parse(keyAnswerJson(ended!)).userId, '@alice:localhost');
  });

  it('refuses to cache an answer for an object that could change in place', () => {
    assert.throws(() => publicCallJson(record()), /frozen/);
    assert.throws(() => keyAnswerJson(record()), /frozen/);
    assert.throws(() => pageBody({ calls: [] }), /frozen/);
  });

  it('the cached bodies are the API answers (parsed with their route schemas)', async () => {
    const store = await openStore();
    const call = await store.insert({ ...record(), verifiedUserDid: 'did:ixo:alice' });
    await store.insert(record());
    const page = await store.list({ ...query, limit: 1 });
    const list = API_ROUTES.listCalls.answer.parse(JSON.parse(pageJson(page)));
    assert.equal(list.calls.length, 1);
    assert.equal(typeof list.nextCursor, 'string');
    const key = API_ROUTES.callKey.answer.parse(JSON.parse(keyAnswerJson(call)));
    assert.deepEqual(key, {
      encryptionKey: call.encryptionKey,
      userDid: call.verifiedUserDid,
      oracleDid: call.oracleDid,
      callType: call.callType,
      userId: call.userId,
    });
    // An unproven DID is not in the answer as userDid (USER_DID_POLICY).
    const unproven = API_ROUTES.callKey.answer.parse(JSON.parse(keyAnswerJson(await store.insert(record()))));
    assert.equal(unproven.userDid, undefined);
  });
});
