/**
 * The embedded call store: one lowdb JSON file, durable writes, one writer process (a lock file), and
 * writes serialized in-process. Mutations apply to memory at once and share the next file write
 * (group commit); each caller is answered only once a write that includes its change is on disk.
 */
import path from 'node:path';
import { Low } from 'lowdb';
import lockfile from 'proper-lockfile';
import type { CallRecord, CallStore, ListPage, ListQuery } from './call-store.ts';
import { InvalidCursorError, StoreConflict, StoreLockedError, checkedChange } from './call-store.ts';
import { DurableJsonFile } from './durable-json-file.ts';
import { decodeCursor, encodeCursor } from './list-cursor.ts';
import { KeyedLock } from '../keyed-lock.ts';

interface StoreData {
  version: 1;
  calls: CallRecord[];
}

/** How many pages {@link LowdbCallStore.list} keeps for queries asked again. */
const PAGE_MEMO_LIMIT = 256;

/** The first index in `list` (sorted by createdAt, then callId) whose record is not before `key`. */
function position(list: readonly CallRecord[], [createdAt, callId]: [string, string]): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    const record = list[mid]!;
    if (record.createdAt < createdAt || (record.createdAt === createdAt && record.callId < callId)) low = mid + 1;
    else high = mid;
  }
  return low;
}

export class LowdbCallStore implements CallStore {
  private readonly byId = new Map<string, CallRecord>();
  private readonly byRoom = new Map<string, string>();
  private readonly byKey = new Map<string, string>();
  private readonly byUser = new Map<string, CallRecord[]>();
  /** Bumped on every change to a user's calls: a page cut from an older version is stale. */
  private readonly userVersion = new Map<string, number>();
  /** Pages served lately, by query, with the version of the user's calls they were cut from. */
  private readonly pages = new Map<string, { readonly version: number; readonly page: ListPage }>();
  private scheduled: Promise<void> | undefined;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  /** One writer process per file: a lock in this process serializes a call's tasks everywhere. */
  private readonly calls = new KeyedLock();

  private constructor(
    private readonly db: Low<StoreData>,
    private readonly release: () => Promise<void>,
  ) {
    for (const record of db.data.calls) this.index(Object.freeze(record));
  }

  /**
   * Opens (or creates) `calls.json` in `dataDir`. Refuses with {@link StoreLockedError} when another
   * process has it open.
   */
  static async open(dataDir: string): Promise<LowdbCallStore> {
    const file = path.join(dataDir, 'calls.json');
    let release: () => Promise<void>;
    try {
      release = await lockfile.lock(file, {
        realpath: false,
        stale: 4000,
        update: 1000,
        retries: { retries: 6, factor: 1, minTimeout: 1000, maxTimeout: 1000 },
        onCompromised: (error) => {
          throw new StoreLockedError(`the lock on ${file} was lost: ${error.message}`);
        },
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ELOCKED') {
        throw new StoreLockedError(`${file} is in use by another backend process; one process per data file (set DATA_DIR to another folder)`);
      }
      throw error;
    }
    try {
      const db = new Low<StoreData>(new DurableJsonFile<StoreData>(file), { version: 1, calls: [] });
      await db.read();
      if (db.data.version !== 1 || !Array.isArray(db.data.calls)) {
        throw new Error(`${file} is not a call store of version 1`);
      }
      return new LowdbCallStore(db, release);
    } catch (error) {
      await release();
      throw error;
    }
  }

  /**
   * Keeps each user's calls sorted oldest first by (createdAt, callId), the order pages are cut in.
   * Only frozen records come here: what the store hands out can never be changed in place.
   */
  private index(record: CallRecord): void {
    this.byId.set(record.callId, record);
    this.byRoom.set(record.roomName, record.callId);
    this.byKey.set(record.encryptionKey, record.callId);
    this.userVersion.set(record.userId, (this.userVersion.get(record.userId) ?? 0) + 1);
    let list = this.byUser.get(record.userId);
    if (!list) this.byUser.set(record.userId, (list = []));
    const at = position(list, [record.createdAt, record.callId]);
    if (list[at]?.callId === record.callId) list[at] = record;
    else list.splice(at, 0, record);
  }

  /** Resolves when a file write that began after this call is durable. */
  private persist(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the call store is closed'));
    if (!this.scheduled) {
      const write = this.chain.then(() => {
        this.scheduled = undefined;
        this.db.data.calls = [...this.byId.values()];
        return this.db.write();
      });
      this.scheduled = write;
      this.chain = write.catch(() => {});
    }
    return this.scheduled;
  }

  async get(callId: string): Promise<CallRecord | undefined> {
    return this.byId.get(callId);
  }

  async findByRoomName(roomName: string): Promise<CallRecord | undefined> {
    const callId = this.byRoom.get(roomName);
    return callId === undefined ? undefined : this.byId.get(callId);
  }

  async insert(record: CallRecord, options: { readonly maxOpenPerUser?: number } = {}): Promise<CallRecord> {
    if (this.byId.has(record.callId)) throw new StoreConflict('call_id_taken');
    if (this.byRoom.has(record.roomName)) throw new StoreConflict('room_taken');
    if (this.byKey.has(record.encryptionKey)) throw new StoreConflict('key_reused');
    if (options.maxOpenPerUser !== undefined && this.openOf(record.userId) >= options.maxOpenPerUser) {
      throw new StoreConflict('too_many_open_calls');
    }
    const stored = Object.freeze({ ...record });
    this.index(stored);
    await this.persist();
    return stored;
  }

  private openOf(userId: string): number {
    let open = 0;
    for (const record of this.byUser.get(userId) ?? []) if (record.status !== 'ended') open += 1;
    return open;
  }

  async countOpen(userId: string): Promise<number> {
    return this.openOf(userId);
  }

  async open(): Promise<CallRecord[]> {
    return [...this.byId.values()].filter((record) => record.status !== 'ended').sort((a, b) => (a.createdAt < b.createdAt ? -1 : 1));
  }

  /**
   * Forgets ended calls that ended before `before`. Their room names and keys are forgotten too: a
   * replay of such an old event is still refused, by the freshness check on `callStartedAt` (the
   * retention is far longer than the clock-skew window).
   */
  async deleteEndedBefore(before: string): Promise<number> {
    const old = [...this.byId.values()].filter((record) => record.status === 'ended' && (record.callEndedAt ?? record.updatedAt) < before);
    if (old.length === 0) return 0;
    for (const record of old) {
      this.byId.delete(record.callId);
      this.byRoom.delete(record.roomName);
      this.byKey.delete(record.encryptionKey);
      const list = this.byUser.get(record.userId);
      if (list) {
        const at = list.indexOf(record);
        if (at >= 0) list.splice(at, 1);
        if (list.length === 0) this.byUser.delete(record.userId);
      }
      this.userVersion.set(record.userId, (this.userVersion.get(record.userId) ?? 0) + 1);
    }
    await this.persist();
    return old.length;
  }

  async update(callId: string, change: (current: CallRecord) => CallRecord): Promise<CallRecord | undefined> {
    const current = this.byId.get(callId);
    if (!current) return undefined;
    const changed = change(current);
    if (changed === current) return current;
    const next = checkedChange(current, changed);
    this.index(next);
    await this.persist();
    return next;
  }

  /**
   * A page of the user's calls, newest first. While the user's calls are unchanged, the same query is
   * answered with the very same page object (so a caller may keep what it derives from a page, such as
   * its JSON, by the page).
   */
  async list(query: ListQuery): Promise<ListPage> {
    const version = this.userVersion.get(query.userId) ?? 0;
    // sessionId and cursor are quoted: a quoted string holds no raw newline, so no two queries share a key.
    const key = `${query.userId}\n${query.limit}\n${query.status ?? ''}\n${query.sessionId === undefined ? '' : JSON.stringify(query.sessionId)}\n${query.cursor === undefined ? '' : JSON.stringify(query.cursor)}`;
    const memo = this.pages.get(key);
    if (memo !== undefined && memo.version === version) return memo.page;
    const page = this.cutPage(query);
    if (memo === undefined && this.pages.size >= PAGE_MEMO_LIMIT) this.pages.delete(this.pages.keys().next().value!);
    this.pages.set(key, { version, page });
    return page;
  }

  private cutPage(query: ListQuery): ListPage {
    const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    if (query.cursor !== undefined && !cursor) throw new InvalidCursorError('the cursor is not one this server gave out');
    const calls: CallRecord[] = [];
    const all = this.byUser.get(query.userId) ?? [];
    let more = false;
    // Newest first: start just below the cursor (or at the newest) and walk down.
    for (let i = (cursor ? position(all, cursor) : all.length) - 1; i >= 0; i -= 1) {
      const record = all[i]!;
      if (query.sessionId !== undefined && record.sessionId !== query.sessionId) continue;
      if (query.status !== undefined && record.status !== query.status) continue;
      if (calls.length === query.limit) {
        more = true;
        break;
      }
      calls.push(record);
    }
    const last = calls.at(-1);
    Object.freeze(calls);
    return Object.freeze(more && last ? { calls, nextCursor: encodeCursor(last) } : { calls });
  }

  async unmirrored(): Promise<CallRecord[]> {
    return [...this.byId.values()].filter((record) => record.status !== 'pending' && record.mirroredStatus !== record.status);
  }

  exclusive<T>(callId: string, task: () => Promise<T>): Promise<T> {
    return this.calls.run(callId, task);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.chain;
    this.closed = true;
    await this.release();
  }
}
