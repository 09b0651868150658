import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { IndexedDbSnapshot } from '../../server/matrix/indexeddb-snapshot.ts';
import { tempDir } from '../../scripts/stack/temp-dir.ts';

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/** `factory`: a snapshot's, typed with the subset of IndexedDB the backend declares (server/matrix/indexeddb-types.ts). */
function open(factory: unknown, name: string, version?: number, upgrade?: (db: IDBDatabase) => void): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const idb = factory as IDBFactory;
    const req = version === undefined ? idb.open(name) : idb.open(name, version);
    req.onupgradeneeded = () => upgrade?.(req.result);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function write(db: IDBDatabase, store: string, records: [unknown, IDBValidKey?][]): Promise<void> {
  const tx = db.transaction(store, 'readwrite');
  for (const [value, key] of records) tx.objectStore(store).put(value, key);
  await new Promise<void>((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
  });
}

const tempFile = () => path.join(tempDir('idb-snapshot-'), 'state.v8');

describe('IndexedDbSnapshot', () => {
  it('brings back every database, store, index and record (typed arrays, out-of-line keys) after a save', async () => {
    const file = tempFile();
    const first = await IndexedDbSnapshot.load(file);
    const db = await open(first.factory, 'crypto', 7, (created) => {
      const sessions = created.createObjectStore('sessions', { keyPath: ['room', 'id'] });
      sessions.createIndex('by-room', 'room', { unique: false });
      sessions.createIndex('tags', 'tags', { multiEntry: true });
      created.createObjectStore('core');
      created.createObjectStore('log', { autoIncrement: true });
    });
    await write(db, 'sessions', [
      [{ room: '!a', id: 's1', key: new Uint8Array([1, 2, 3]), tags: ['x', 'y'] }],
      [{ room: '!b', id: 's2', key: new Uint8Array(32).fill(7), tags: [] }],
    ]);
    await write(db, 'core', [
      [{ pickle: 'p' }, 'account'],
      [new Map([['k', 1]]), ['a', 2]],
    ]);
    await write(db, 'log', [['one'], ['two']]);
    db.close();
    await first.save();
    assert.equal(statSync(file).mode & 0o777, 0o600, 'the state file is readable by its owner only');

    const second = await IndexedDbSnapshot.load(file);
    const again = await open(second.factory, 'crypto');
    assert.equal(again.version, 7);
    assert.deepEqual([...again.objectStoreNames].sort(), ['core', 'log', 'sessions']);
    const tx = again.transaction(['sessions', 'core', 'log'], 'readonly');
    const sessions = tx.objectStore('sessions');
    assert.deepEqual(sessions.keyPath, ['room', 'id']);
    assert.deepEqual([...sessions.indexNames].sort(), ['by-room', 'tags']);
    assert.equal(sessions.index('tags').multiEntry, true);
    const s1 = (await request(sessions.get(['!a', 's1']))) as { key: Uint8Array };
    assert.ok(s1.key instanceof Uint8Array);
    assert.deepEqual([...s1.key], [1, 2, 3]);
    assert.equal((await request(sessions.index('by-room').getAll('!b'))).length, 1);
    assert.equal((await request(sessions.index('tags').getAll('y'))).length, 1);
    assert.deepEqual(await request(tx.objectStore('core').get('account')), { pickle: 'p' });
    assert.deepEqual(await request(tx.objectStore('core').get(['a', 2])), new Map([['k', 1]]));
    assert.deepEqual(await request(tx.objectStore('log').getAll()), ['one', 'two']);
    assert.deepEqual(await request(tx.objectStore('log').getAllKeys()), [1, 2]);
    again.close();

    // The key generator goes on where it was.
    const writer = await open(second.factory, 'crypto');
    await write(writer, 'log', [['three']]);
    const keys = await request(writer.transaction('log').objectStore('log').getAllKeys());
    assert.deepEqual(keys, [1, 2, 3]);
    writer.close();
  });

  it('writes only when something changed', async () => {
    const file = tempFile();
    const snapshot = await IndexedDbSnapshot.load(file);
    const db = await open(snapshot.factory, 'd', 1, (created) => created.createObjectStore('s'));
    await write(db, 's', [['v', 'k']]);
    await snapshot.save();
    const written = statSync(file).mtimeMs;
    writeFileSync(file, readFileSync(file));
    const touched = statSync(file).mtimeMs;
    await new Promise((resolve) => setTimeout(resolve, 20));
    await snapshot.save();
    assert.equal(statSync(file).mtimeMs, touched, 'an unchanged state was written again');
    await write(db, 's', [['w', 'k']]);
    await snapshot.save();
    assert.ok(statSync(file).mtimeMs >= written);
    assert.notEqual(statSync(file).mtimeMs, touched);
    db.close();
  });

  it('refuses a damaged or foreign file, and leaves it as it is', async () => {
    const file = tempFile();
    writeFileSync(file, 'not a snapshot');
    await assert.rejects(IndexedDbSnapshot.load(file), /cannot be read|is not a/);
    assert.equal(readFileSync(file, 'utf8'), 'not a snapshot');
  });
});
