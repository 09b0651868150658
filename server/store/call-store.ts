/**
 * What the backend keeps of a call, and the store interface behind which it lives, with the errors
 * every implementation throws. The embedded default is a lowdb JSON file (`lowdb-store.ts`); a shared
 * store can implement the same interface when several backend instances run.
 *
 * Records are values: a store hands out frozen records and never changes one in place; a change stores
 * a new record (and a new page of the user's calls). Answers cached by object identity
 * (`routes/call-json.ts`) rely on this, and the freezing makes an in-place edit throw instead of
 * leaving a cached answer stale.
 */
import type { CallStatus } from '../../protocol/index.ts';
import type { ApiCall } from '../../protocol/api/index.ts';

/** A call as the API shows it (`ApiCall`), plus what only the backend sees. */
export type CallRecord = Readonly<ApiCall> & {
  /** The event's `userDid` when proven for `userId` (USER_DID_POLICY): what the agent may rely on. */
  readonly verifiedUserDid?: string;
  /** The event's `userDid` passed on unproven (policy `claim`); `userDid` keeps what the event said, for the oracle's edits. */
  readonly claimedUserDid?: string;
  /** The ECIES ciphertext of the call key, as the event carries it. Never the key itself. */
  readonly encryptionKey: string;
  readonly dispatchId?: string;
  /** When an agent first fetched the call's key: the oracle took the call. */
  readonly agentArrivedAt?: string;
  /** The status the Matrix event is known to show (edited by us, or seen there). Differs from `status` until the edit lands. */
  readonly mirroredStatus?: CallStatus;
};

export interface ListQuery {
  readonly userId: string;
  readonly sessionId?: string;
  readonly status?: CallStatus;
  readonly limit: number;
  /** Opaque position from a previous page's `nextCursor`. */
  readonly cursor?: string;
}

export interface ListPage {
  readonly calls: readonly CallRecord[];
  readonly nextCursor?: string;
}

/**
 * What a store's `update` keeps of a change: the changed record, frozen. A change may not touch what
 * identifies the call (its ID, room, key, user, creation time): every store refuses it alike.
 */
export function checkedChange(current: CallRecord, changed: CallRecord): CallRecord {
  const next = Object.isFrozen(changed) ? changed : Object.freeze(changed);
  if (
    next.callId !== current.callId ||
    next.roomName !== current.roomName ||
    next.encryptionKey !== current.encryptionKey ||
    next.userId !== current.userId ||
    next.createdAt !== current.createdAt
  ) {
    throw new Error('a call update may not change its identity, room, key, user or creation time');
  }
  return next;
}

/** Which uniqueness rule an insert broke. */
export type Conflict = 'call_id_taken' | 'room_taken' | 'key_reused' | 'too_many_open_calls';

export class StoreConflict extends Error {
  override readonly name = 'StoreConflict';

  constructor(readonly conflict: Conflict) {
    super(`store conflict: ${conflict}`);
  }
}

/** A list cursor this store did not give out (or one that was altered). */
export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';
}

/** The store is held by another process (one writer per data file). */
export class StoreLockedError extends Error {
  override readonly name = 'StoreLockedError';
}

export interface CallStore {
  /** The call, frozen; undefined if unknown. */
  get(callId: string): Promise<CallRecord | undefined>;
  findByRoomName(roomName: string): Promise<CallRecord | undefined>;
  /**
   * Adds a call, atomically refusing (with {@link StoreConflict}) a taken callId, a room name bound to
   * another call, an encrypted key already seen in another call, or (with `maxOpenPerUser`) a user who
   * already has that many pending or active calls. Resolves with the stored record (a frozen copy of
   * `record`) once the write is durable.
   */
  insert(record: CallRecord, options?: { readonly maxOpenPerUser?: number }): Promise<CallRecord>;
  /** How many pending or active calls the user has. */
  countOpen(userId: string): Promise<number>;
  /** Pending or active calls, oldest first (for the sweep). */
  open(): Promise<CallRecord[]>;
  /** Deletes ended calls that ended before `before` (ISO 8601); how many. */
  deleteEndedBefore(before: string): Promise<number>;
  /**
   * Changes a call through `change`, which sees the current (frozen) record and returns a new one (or
   * the same one for no change, or throws to refuse). Resolves with the stored record, frozen, once
   * the write is durable; undefined if unknown.
   */
  update(callId: string, change: (current: CallRecord) => CallRecord): Promise<CallRecord | undefined>;
  /**
   * A page of the user's calls, newest first; throws {@link InvalidCursorError} for a cursor it did not
   * give out. The page and its list are frozen. While the user's calls are unchanged, a store may answer
   * the same query with the same page object; after a change, it answers with a new one.
   */
  list(query: ListQuery): Promise<ListPage>;
  /** Calls whose Matrix event does not yet show their status (an edit that failed or was cut short). */
  unmirrored(): Promise<CallRecord[]>;
  /**
   * Runs `task` while no other `exclusive` task for the same call runs, in this process or, for a store
   * that several backends share, in any of them; tasks for other calls run meanwhile. A call's
   * read-decide-act steps (a sync that dispatches the agent once, an end and its one Matrix edit) then
   * happen one at a time, as in one process, whichever backend each request reached.
   */
  exclusive<T>(callId: string, task: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
