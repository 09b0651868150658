/**
 * An IndexedDB for Node that lives in one file: `fake-indexeddb` in memory, loaded from the file at
 * start and written back whole (durably) by `save()` when anything changed. Changes are noticed as
 * they complete (a read-write or upgrade transaction, a deleted database), so a `save()` with nothing
 * new reads nothing. The Rust crypto of
 * matrix-js-sdk keeps its state (the device's keys, Olm and Megolm sessions) in IndexedDB, which Node
 * does not have.
 *
 * The file is a `v8.serialize` of every database: its version, each object store's key path,
 * key generator and indexes, and every record with its key. Values are stored as the structured clone
 * algorithm sees them, so typed arrays and maps come back as they went in.
 */
import { readFile } from 'node:fs/promises';
import { deserialize, serialize } from 'node:v8';
import { IDBFactory } from 'fake-indexeddb';
import type { IdbDatabase, IdbFactory, IdbRequest, IdbTransaction, IdbTransactionMode, IdbTransactionOptions, IdbValidKey } from './indexeddb-types.ts';
import { writeFileDurably } from '../fs/durable-write.ts';

interface IndexSnapshot {
  readonly name: string;
  readonly keyPath: string | string[];
  readonly unique: boolean;
  readonly multiEntry: boolean;
}

interface StoreSnapshot {
  readonly name: string;
  readonly keyPath: string | string[] | null;
  readonly autoIncrement: boolean;
  readonly indexes: IndexSnapshot[];
  readonly keys: IdbValidKey[];
  readonly values: unknown[];
}

interface DatabaseSnapshot {
  readonly name: string;
  readonly version: number;
  readonly stores: StoreSnapshot[];
}

const FORMAT = 'oracle-call/indexeddb-snapshot@1';

function settle<T>(request: IdbRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB request failed'));
  });
}

function openDatabase(factory: IdbFactory, name: string, version?: number, upgrade?: (db: IdbDatabase) => void): Promise<IdbDatabase> {
  return new Promise((resolve, reject) => {
    const request = version === undefined ? factory.open(name) : factory.open(name, version);
    request.onupgradeneeded = () => upgrade?.(request.result);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error(`IndexedDB ${name} could not be opened`));
    request.onblocked = () => reject(new Error(`IndexedDB ${name} is held open elsewhere`));
  });
}

function done(transaction: IdbTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    transaction.oncomplete = () => resolve();
    transaction.onerror = () => reject(transaction.error ?? new Error('IndexedDB transaction failed'));
    transaction.onabort = () => reject(transaction.error ?? new Error('IndexedDB transaction aborted'));
  });
}

async function snapshotOf(factory: IdbFactory): Promise<DatabaseSnapshot[]> {
  const databases: DatabaseSnapshot[] = [];
  for (const { name } of await factory.databases()) {
    if (name === undefined) continue;
    const db = await openDatabase(factory, name);
    try {
      const storeNames = [...db.objectStoreNames];
      const stores: StoreSnapshot[] = [];
      if (storeNames.length > 0) {
        const transaction = db.transaction(storeNames, 'readonly');
        const finished = done(transaction);
        for (const storeName of storeNames) {
          const store = transaction.objectStore(storeName);
          const [keys, values] = await Promise.all([settle(store.getAllKeys()), settle(store.getAll())]);
          stores.push({
            name: storeName,
            keyPath: store.keyPath,
            autoIncrement: store.autoIncrement,
            indexes: [...store.indexNames].map((indexName) => {
              const index = store.index(indexName);
              return { name: indexName, keyPath: index.keyPath, unique: index.unique, multiEntry: index.multiEntry };
            }),
            keys,
            values,
          });
        }
        await finished;
      }
      databases.push({ name, version: db.version, stores });
    } finally {
      db.close();
    }
  }
  return databases;
}

async function restore(factory: IdbFactory, databases: readonly DatabaseSnapshot[]): Promise<void> {
  for (const database of databases) {
    const db = await openDatabase(factory, database.name, database.version, (created) => {
      for (const store of database.stores) {
        const objectStore = created.createObjectStore(store.name, { keyPath: store.keyPath, autoIncrement: store.autoIncrement });
        for (const index of store.indexes) {
          objectStore.createIndex(index.name, index.keyPath, { unique: index.unique, multiEntry: index.multiEntry });
        }
      }
    });
    try {
      if (database.stores.length > 0) {
        const transaction = db.transaction(
          database.stores.map((s) => s.name),
          'readwrite',
        );
        const finished = done(transaction);
        for (const store of database.stores) {
          const objectStore = transaction.objectStore(store.name);
          store.values.forEach((value, i) => {
            if (store.keyPath === null) objectStore.put(value, store.keys[i]);
            else objectStore.put(value);
          });
        }
        await finished;
      }
    } finally {
      db.close();
    }
  }
}

/** Calls `onChange` whenever a database of `factory` completes a write (or is created, upgraded or deleted). */
function watchWrites(factory: IdbFactory, onChange: () => void): void {
  const open = factory.open.bind(factory);
  const deleteDatabase = factory.deleteDatabase.bind(factory);
  factory.open = (name: string, version?: number) => {
    const request = version === undefined ? open(name) : open(name, version);
    // Registered before the caller's handlers, so the connection is watched before it is used.
    request.addEventListener('upgradeneeded', onChange);
    request.addEventListener('success', () => {
      const db = request.result;
      const transaction = db.transaction.bind(db);
      db.transaction = ((names: string | string[], mode?: IdbTransactionMode, options?: IdbTransactionOptions) => {
        const created = transaction(names, mode, options);
        if (mode === 'readwrite') created.addEventListener('complete', onChange);
        return created;
      }) as IdbDatabase['transaction'];
    });
    return request;
  };
  factory.deleteDatabase = (name: string) => {
    const request = deleteDatabase(name);
    request.addEventListener('success', onChange);
    return request;
  };
}

export class IndexedDbSnapshot {
  private changed = false;
  private saving: Promise<void> = Promise.resolve();

  private constructor(
    readonly file: string,
    readonly factory: IdbFactory,
  ) {}

  /** The databases saved in `file` (none when it does not exist yet); a damaged file is an error. */
  static async load(file: string): Promise<IndexedDbSnapshot> {
    const factory: IdbFactory = new IDBFactory();
    const snapshot = new IndexedDbSnapshot(file, factory);
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        watchWrites(factory, () => (snapshot.changed = true));
        return snapshot;
      }
      throw error;
    }
    let parsed: { format?: unknown; databases?: unknown };
    try {
      parsed = deserialize(bytes) as typeof parsed;
    } catch (error) {
      throw new Error(`the Matrix crypto store ${file} cannot be read (${(error as Error).message}); it was left as it is`);
    }
    if (parsed.format !== FORMAT || !Array.isArray(parsed.databases)) {
      throw new Error(`the Matrix crypto store ${file} is not a ${FORMAT} file; it was left as it is`);
    }
    await restore(factory, parsed.databases as DatabaseSnapshot[]);
    // What was just restored is what the file holds: only later writes count as changes.
    watchWrites(factory, () => (snapshot.changed = true));
    return snapshot;
  }

  /** Writes every database to the file, durably, when something changed since the last write. */
  save(): Promise<void> {
    const next = this.saving.then(async () => {
      if (!this.changed) return;
      this.changed = false;
      try {
        await writeFileDurably(this.file, serialize({ format: FORMAT, databases: await snapshotOf(this.factory) }));
      } catch (error) {
        this.changed = true;
        throw error;
      }
    });
    this.saving = next.catch(() => {});
    return next;
  }
}
