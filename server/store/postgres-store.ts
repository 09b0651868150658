/**
 * The shared call store: one `calls` table in PostgreSQL, for several backend processes at once. What
 * the lowdb store checks in memory is enforced by the database: uniqueness by constraints, and the
 * read-change-write of `update` by a row lock, so two backends changing one call are serialized as one
 * process serializes them. Each acknowledged write is committed.
 */
import pg from 'pg';
import type { CallStatus } from '../../protocol/index.ts';
import type { CallRecord, CallStore, Conflict, ListPage, ListQuery } from './call-store.ts';
import { StoreConflict, checkedChange } from './call-store.ts';
import { decodeCursor, encodeCursor } from './list-cursor.ts';
import { InvalidCursorError } from './call-store.ts';
import { migrate } from './postgres-migrations.ts';
import { CoalescedReads } from './coalesced-reads.ts';
import { PostgresCallLocks } from './postgres-call-locks.ts';
import type { Migration } from './postgres-migrations.ts';

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database` */
  readonly url: string;
  /** Connections kept open at most. */
  readonly poolSize?: number;
  /** A statement running longer than this is cancelled (and its request fails) rather than holding a connection. */
  readonly statementTimeoutMs?: number;
  /**
   * How long a request waits for another backend's work on the same call (see `exclusive`) before it
   * fails: longer than the work itself, which may include Matrix requests with their retries.
   */
  readonly callLockTimeoutMs?: number;
  /** A migration was applied at start. */
  readonly onMigration?: (migration: Migration) => void;
  /** An idle pooled connection failed (the server restarted, say); the pool replaces it. */
  readonly onIdleError?: (error: Error) => void;
}

interface CallRow {
  call_id: string;
  event_id: string;
  room_name: string;
  matrix_room_id: string;
  user_id: string;
  user_did: string;
  oracle_did: string;
  session_id: string;
  call_type: 'audio' | 'video';
  encryption_key: string;
  status: CallStatus;
  call_started_at: string;
  call_ended_at: Date | null;
  end_reason: string | null;
  dispatch_id: string | null;
  mirrored_status: CallStatus | null;
  agent_voice: string | null;
  language: string | null;
  created_at: Date;
  updated_at: Date;
  verified_user_did: string | null;
  claimed_user_did: string | null;
  agent_arrived_at: Date | null;
}

const COLUMNS =
  'call_id, event_id, room_name, matrix_room_id, user_id, user_did, oracle_did, session_id, call_type, encryption_key, status, call_started_at, call_ended_at, end_reason, dispatch_id, mirrored_status, created_at, updated_at, verified_user_did, claimed_user_did, agent_arrived_at, agent_voice, language';

/** The columns a call's update may write: all but what identifies it (callId, room, key, user, creation). */
const MUTABLE =
  'event_id = $2, matrix_room_id = $3, user_did = $4, oracle_did = $5, session_id = $6, call_type = $7, status = $8, call_started_at = $9, call_ended_at = $10, end_reason = $11, dispatch_id = $12, mirrored_status = $13, updated_at = $14, verified_user_did = $15, claimed_user_did = $16, agent_arrived_at = $17';

/** The record a row holds, frozen (the store hands out values only). */
function fromRow(row: CallRow): CallRecord {
  return Object.freeze({
    callId: row.call_id,
    eventId: row.event_id,
    roomName: row.room_name,
    matrixRoomId: row.matrix_room_id,
    userId: row.user_id,
    userDid: row.user_did,
    oracleDid: row.oracle_did,
    sessionId: row.session_id,
    callType: row.call_type,
    encryptionKey: row.encryption_key,
    status: row.status,
    callStartedAt: row.call_started_at,
    ...(row.call_ended_at !== null ? { callEndedAt: row.call_ended_at.toISOString() } : {}),
    ...(row.end_reason !== null ? { endReason: row.end_reason } : {}),
    ...(row.dispatch_id !== null ? { dispatchId: row.dispatch_id } : {}),
    ...(row.mirrored_status !== null ? { mirroredStatus: row.mirrored_status } : {}),
    ...(row.agent_voice !== null ? { agentVoice: row.agent_voice } : {}),
    ...(row.language !== null ? { language: row.language } : {}),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    ...(row.verified_user_did !== null ? { verifiedUserDid: row.verified_user_did } : {}),
    ...(row.claimed_user_did !== null ? { claimedUserDid: row.claimed_user_did } : {}),
    ...(row.agent_arrived_at !== null ? { agentArrivedAt: row.agent_arrived_at.toISOString() } : {}),
  });
}

function insertValues(r: CallRecord): unknown[] {
  return [
    r.callId,
    r.eventId,
    r.roomName,
    r.matrixRoomId,
    r.userId,
    r.userDid,
    r.oracleDid,
    r.sessionId,
    r.callType,
    r.encryptionKey,
    r.status,
    r.callStartedAt,
    r.callEndedAt ?? null,
    r.endReason ?? null,
    r.dispatchId ?? null,
    r.mirroredStatus ?? null,
    r.createdAt,
    r.updatedAt,
    r.verifiedUserDid ?? null,
    r.claimedUserDid ?? null,
    r.agentArrivedAt ?? null,
    r.agentVoice ?? null,
    r.language ?? null,
  ];
}

function updateValues(r: CallRecord): unknown[] {
  return [
    r.callId,
    r.eventId,
    r.matrixRoomId,
    r.userDid,
    r.oracleDid,
    r.sessionId,
    r.callType,
    r.status,
    r.callStartedAt,
    r.callEndedAt ?? null,
    r.endReason ?? null,
    r.dispatchId ?? null,
    r.mirroredStatus ?? null,
    r.updatedAt,
    r.verifiedUserDid ?? null,
    r.claimedUserDid ?? null,
    r.agentArrivedAt ?? null,
  ];
}

/** The insert's parameters, typed (in `INSERT … SELECT` PostgreSQL would read untyped ones as text). */
const TIMESTAMPS = new Set([13, 17, 18, 21]);
const PLACEHOLDERS = Array.from({ length: 23 }, (_, i) => `$${i + 1}${TIMESTAMPS.has(i + 1) ? '::timestamptz' : ''}`).join(', ');

const UNIQUE_VIOLATION = '23505';

/**
 * PostgreSQL text cannot hold NUL: no stored call has one, so a lookup by such a value matches nothing
 * (answered here, as the lowdb store answers it, rather than as a database error).
 */
const holdsNul = (...values: (string | undefined)[]) => values.some((value) => value?.includes('\0'));

function isUniqueViolation(error: unknown): error is pg.DatabaseError {
  return error instanceof pg.DatabaseError && error.code === UNIQUE_VIOLATION;
}

/** How many of `get`'s shared queries may be on their way at once (each on a pooled connection). */
const READS_IN_FLIGHT = 4;

/** How many records `get` keeps for reuse (see `known`); past that, the longest unread goes first. */
const KNOWN_LIMIT = 10_000;

export class PostgresCallStore implements CallStore {
  private closed = false;
  /**
   * Records `get` made lately, with the row version (migration 005) each was made from. A row read again
   * at the same version gives back the same frozen record, so the answers cached per record
   * (`routes/call-json.ts`) are reused; any change, by any backend, bumps the version and makes a new
   * record. Every `get` still reads the row: the cache saves making the record, never the read.
   */
  private readonly known = new Map<string, { readonly version: string; readonly record: CallRecord }>();
  /** `get`s share queries (see CoalescedReads): under load one round trip answers many. */
  private readonly reads = new CoalescedReads<CallRecord>((callIds) => this.readCalls(callIds), READS_IN_FLIGHT);

  private constructor(
    private readonly pool: pg.Pool,
    private readonly locks: PostgresCallLocks,
  ) {}

  /**
   * Connects, brings the schema up to date (safe while other backends do the same) and opens the pool.
   * Rejects when the database cannot be reached or migrated.
   */
  static async open(options: PostgresStoreOptions): Promise<PostgresCallStore> {
    for (const migration of await PostgresCallStore.migrate(options.url)) options.onMigration?.(migration);
    const pool = new pg.Pool({
      connectionString: options.url,
      application_name: 'oracle-call',
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: 10_000,
      statement_timeout: options.statementTimeoutMs ?? 5000,
      // A transaction left open (a stalled backend) must not hold a call's row lock for long.
      idle_in_transaction_session_timeout: 10_000,
    });
    pool.on('error', (error) => options.onIdleError?.(error));
    const locks = new PostgresCallLocks({
      url: options.url,
      size: options.poolSize ?? 10,
      waitMs: options.callLockTimeoutMs ?? 60_000,
      ...(options.onIdleError ? { onIdleError: options.onIdleError } : {}),
    });
    return new PostgresCallStore(pool, locks);
  }

  /** Applies the migrations the database lacks, on a connection of its own; resolves with those applied. */
  static async migrate(url: string): Promise<Migration[]> {
    const client = new pg.Client({ connectionString: url, application_name: 'oracle-call migrations', connectionTimeoutMillis: 10_000 });
    await client.connect();
    try {
      return await migrate(client);
    } finally {
      await client.end().catch(() => {});
    }
  }

  /** The store's connection pool, for other shared state of the backends on this database (the rate-limit counters). */
  get sharedPool(): pg.Pool {
    return this.pool;
  }

  private query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    if (this.closed) return Promise.reject(new Error('the call store is closed'));
    return this.pool.query<R>(text, values);
  }

  async get(callId: string): Promise<CallRecord | undefined> {
    if (holdsNul(callId)) return undefined;
    return this.reads.read(callId);
  }

  /**
   * The calls with these IDs, each the known record while its row's version is unchanged. The versions
   * come first (two short columns); whole rows are read only for calls not known at that version.
   * Both statements are prepared once per connection (named), as they run on every key fetch.
   */
  private async readCalls(callIds: string[]): Promise<Map<string, CallRecord>> {
    if (this.closed) throw new Error('the call store is closed');
    const { rows: versions } = await this.pool.query<{ call_id: string; version: string }>({
      name: 'oracle-call-versions',
      text: 'SELECT call_id, version FROM calls WHERE call_id = ANY($1::text[])',
      values: [callIds],
    });
    const found = new Map<string, CallRecord>();
    const stale: string[] = [];
    for (const { call_id: callId, version } of versions) {
      const entry = this.known.get(callId);
      if (entry?.version === version) {
        // Deleted and set again: the Map's order is then the order of last reads.
        this.known.delete(callId);
        this.known.set(callId, entry);
        found.set(callId, entry.record);
      } else {
        stale.push(callId);
      }
    }
    if (stale.length > 0) {
      const { rows } = await this.pool.query<CallRow & { version: string }>({
        name: 'oracle-call-rows',
        text: `SELECT ${COLUMNS}, version FROM calls WHERE call_id = ANY($1::text[])`,
        values: [stale],
      });
      // A row changed between the two reads is taken as this read found it (the later state); one deleted meanwhile is gone.
      for (const row of rows) {
        const record = fromRow(row);
        this.known.delete(row.call_id);
        this.known.set(row.call_id, { version: row.version, record });
        found.set(row.call_id, record);
      }
    }
    for (const callId of callIds) if (!found.has(callId)) this.known.delete(callId);
    for (const callId of this.known.keys()) {
      if (this.known.size <= KNOWN_LIMIT) break;
      this.known.delete(callId);
    }
    return found;
  }

  async findByRoomName(roomName: string): Promise<CallRecord | undefined> {
    if (holdsNul(roomName)) return undefined;
    const { rows } = await this.query<CallRow>(`SELECT ${COLUMNS} FROM calls WHERE room_name = $1`, [roomName]);
    return rows[0] && fromRow(rows[0]);
  }

  async insert(record: CallRecord, options: { readonly maxOpenPerUser?: number } = {}): Promise<CallRecord> {
    const stored = Object.freeze({ ...record });
    try {
      if (options.maxOpenPerUser === undefined) {
        await this.query(`INSERT INTO calls (${COLUMNS}) VALUES (${PLACEHOLDERS})`, insertValues(record));
      } else {
        // Counted and inserted in one statement, under a per-user advisory lock for the transaction:
        // two backends admitting the same user's calls at once cannot both pass the count.
        const client = await this.pool.connect();
        try {
          await client.query('BEGIN');
          await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`open-calls:${record.userId}`]);
          const { rowCount } = await client.query(
            `INSERT INTO calls (${COLUMNS}) SELECT ${PLACEHOLDERS} WHERE (SELECT count(*) FROM calls WHERE user_id = $5 AND status <> 'ended') < $24::int`,
            [...insertValues(record), options.maxOpenPerUser],
          );
          await client.query('COMMIT');
          if (rowCount === 0) throw new StoreConflict('too_many_open_calls');
        } catch (error) {
          await client.query('ROLLBACK').catch(() => {});
          throw error;
        } finally {
          client.release();
        }
      }
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      throw new StoreConflict(await this.conflictOf(record, error));
    }
    return stored;
  }

  /**
   * Which rule a refused insert broke, in the order the lowdb store checks them (callId, then room, then
   * key), whichever constraint PostgreSQL happened to check first.
   */
  private async conflictOf(record: CallRecord, error: pg.DatabaseError): Promise<Conflict> {
    const { rows } = await this.query<{ call_id: string; room_name: string }>(
      'SELECT call_id, room_name FROM calls WHERE call_id = $1 OR room_name = $2 OR encryption_key = $3',
      [record.callId, record.roomName, record.encryptionKey],
    );
    if (rows.some((row) => row.call_id === record.callId)) return 'call_id_taken';
    if (rows.some((row) => row.room_name === record.roomName)) return 'room_taken';
    if (rows.length > 0) return 'key_reused';
    // The clashing row was gone again by the time we looked: the constraint's name still tells.
    if (error.constraint === 'calls_room_name_key') return 'room_taken';
    if (error.constraint === 'calls_encryption_key_key') return 'key_reused';
    return 'call_id_taken';
  }

  /**
   * Reads the call under a row lock (`SELECT … FOR UPDATE`), applies `change`, writes and commits: a
   * second backend changing the same call waits for the lock, then sees this change.
   */
  async update(callId: string, change: (current: CallRecord) => CallRecord): Promise<CallRecord | undefined> {
    if (this.closed) throw new Error('the call store is closed');
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      try {
        const { rows } = await client.query<CallRow>(`SELECT ${COLUMNS} FROM calls WHERE call_id = $1 FOR UPDATE`, [callId]);
        const current = rows[0] && fromRow(rows[0]);
        const next = current && checkedChange(current, change(current));
        if (current && next && next !== current) {
          await client.query(`UPDATE calls SET ${MUTABLE} WHERE call_id = $1`, updateValues(next));
        }
        await client.query('COMMIT');
        return next;
      } catch (error) {
        await client.query('ROLLBACK').catch((rollback: Error) => {
          broken = rollback;
        });
        throw error;
      }
    } finally {
      // A connection that could not even roll back is not given to the next caller.
      client.release(broken);
    }
  }

  async list(query: ListQuery): Promise<ListPage> {
    const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    if (query.cursor !== undefined && (!cursor || holdsNul(cursor[1]))) {
      throw new InvalidCursorError('the cursor is not one this server gave out');
    }
    if (holdsNul(query.userId, query.sessionId)) return { calls: [] };
    const values: unknown[] = [query.userId];
    const where = ['user_id = $1'];
    if (query.sessionId !== undefined) where.push(`session_id = $${values.push(query.sessionId)}`);
    if (query.status !== undefined) where.push(`status = $${values.push(query.status)}`);
    if (cursor) where.push(`(created_at, call_id) < ($${values.push(cursor[0])}::timestamptz, $${values.push(cursor[1])})`);
    // One more than asked: whether it exists says whether there is a next page.
    const { rows } = await this.query<CallRow>(
      `SELECT ${COLUMNS} FROM calls WHERE ${where.join(' AND ')} ORDER BY created_at DESC, call_id DESC LIMIT $${values.push(query.limit + 1)}`,
      values,
    );
    const calls = rows.slice(0, query.limit).map(fromRow);
    const last = calls.at(-1);
    Object.freeze(calls);
    return Object.freeze(rows.length > query.limit && last ? { calls, nextCursor: encodeCursor(last) } : { calls });
  }

  async countOpen(userId: string): Promise<number> {
    if (holdsNul(userId)) return 0;
    const { rows } = await this.query<{ open: number }>(`SELECT count(*)::int AS open FROM calls WHERE user_id = $1 AND status <> 'ended'`, [userId]);
    return rows[0]?.open ?? 0;
  }

  async open(): Promise<CallRecord[]> {
    const { rows } = await this.query<CallRow>(`SELECT ${COLUMNS} FROM calls WHERE status <> 'ended' ORDER BY created_at, call_id`);
    return rows.map(fromRow);
  }

  async deleteEndedBefore(before: string): Promise<number> {
    const { rowCount } = await this.query(`DELETE FROM calls WHERE status = 'ended' AND coalesce(call_ended_at, updated_at) < $1`, [before]);
    return rowCount ?? 0;
  }

  async unmirrored(): Promise<CallRecord[]> {
    const { rows } = await this.query<CallRow>(
      `SELECT ${COLUMNS} FROM calls WHERE status <> 'pending' AND mirrored_status IS DISTINCT FROM status ORDER BY created_at, call_id`,
    );
    return rows.map(fromRow);
  }

  /** Under the call's advisory lock (see PostgresCallLocks): one task per call at a time across every backend. */
  exclusive<T>(callId: string, task: () => Promise<T>): Promise<T> {
    return this.locks.run(callId, task);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([this.pool.end(), this.locks.close()]);
  }
}
