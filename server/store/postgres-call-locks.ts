/**
 * Per-call locks that hold across every backend on one PostgreSQL database: a session-level advisory
 * lock per call, each held on a connection of its own while its task runs. A second backend's task for
 * the same call waits in PostgreSQL until the first is done. A backend that dies mid-task loses its
 * connection, and with it the lock, so nothing stays locked. The lock is taken outside a transaction,
 * so that the task's own writes commit as they go (and the idle-in-transaction timeout does not apply
 * to a task waiting on Matrix).
 */
import pg from 'pg';
import { KeyedLock } from '../keyed-lock.ts';

/**
 * The first key of a call's advisory lock (`pg_advisory_lock(CALL_LOCK_CLASS, hashtext(callId))`); the
 * two-key form is a key space of its own, apart from the migrations' and the open-call count's locks. Two
 * calls whose IDs hash alike merely wait for each other.
 */
const CALL_LOCK_CLASS = 0x0ca11;

export interface PostgresCallLocksOptions {
  readonly url: string;
  /** Connections holding (or waiting for) locks at most: calls locked at once by this process. */
  readonly size: number;
  /** How long a task waits for its lock (another backend's task on the call) before it fails. */
  readonly waitMs: number;
  readonly onIdleError?: (error: Error) => void;
}

export class PostgresCallLocks {
  /** One connection per call waits for the database lock; this process's other tasks for it queue here. */
  private readonly local = new KeyedLock();
  /** Apart from the store's pool: a lock holder's own queries never wait for a lock holder's connection. */
  private readonly pool: pg.Pool;
  private closed = false;

  constructor(options: PostgresCallLocksOptions) {
    this.pool = new pg.Pool({
      connectionString: options.url,
      application_name: 'oracle-call call locks',
      max: options.size,
      connectionTimeoutMillis: options.waitMs,
      statement_timeout: options.waitMs,
    });
    this.pool.on('error', (error) => options.onIdleError?.(error));
  }

  run<T>(callId: string, task: () => Promise<T>): Promise<T> {
    return this.local.run(callId, async () => {
      if (this.closed) throw new Error('the call store is closed');
      const client = await this.pool.connect();
      let broken: Error | undefined;
      // The connection may drop while held (the server restarted): that is the end of the lock, not of the process.
      const dropped = (error: Error) => {
        broken = error;
      };
      client.on('error', dropped);
      const release = () => {
        client.off('error', dropped);
        client.release(broken);
      };
      try {
        await client.query('SELECT pg_advisory_lock($1, hashtext($2))', [CALL_LOCK_CLASS, callId]);
      } catch (error) {
        // A lock statement that failed (timed out) may have taken the lock after all: the connection goes, and the lock with it.
        broken = error as Error;
        release();
        throw error;
      }
      try {
        return await task();
      } finally {
        if (!broken) await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [CALL_LOCK_CLASS, callId]).catch(dropped);
        release();
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
