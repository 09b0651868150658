/**
 * What the backend keeps of a call, and the store interface behind which it lives. The embedded
 * default is a lowdb JSON file (`lowdb-store.ts`); a shared store can implement the same interface
 * when several backend instances run.
 */
import type { CallStatus } from '../../protocol/index.ts';

export interface CallRecord {
  readonly callId: string;
  readonly eventId: string;
  /** The LiveKit room name. */
  readonly roomName: string;
  readonly matrixRoomId: string;
  /** The Matrix user who started the call (the event's sender). */
  readonly userId: string;
  readonly userDid: string;
  readonly oracleDid: string;
  readonly sessionId: string;
  readonly callType: 'audio' | 'video';
  /** The ECIES ciphertext of the call key, as the event carries it. Never the key itself. */
  readonly encryptionKey: string;
  readonly status: CallStatus;
  readonly callStartedAt: string;
  readonly callEndedAt?: string;
  /** Who or what ended the call: `user`, `agent`, `matrix`, `livekit`, or `agent_failed: …`. */
  readonly endReason?: string;
  readonly dispatchId?: string;
  /** The status the Matrix event is known to show (edited by us, or seen there). Differs from `status` until the edit lands. */
  readonly mirroredStatus?: CallStatus;
  readonly createdAt: string;
  readonly updatedAt: string;
}

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

/** Which uniqueness rule an insert broke. */
export type Conflict = 'call_id_taken' | 'room_taken' | 'key_reused';

export class StoreConflict extends Error {
  override readonly name = 'StoreConflict';

  constructor(readonly conflict: Conflict) {
    super(`store conflict: ${conflict}`);
  }
}

export interface CallStore {
  get(callId: string): Promise<CallRecord | undefined>;
  findByRoomName(roomName: string): Promise<CallRecord | undefined>;
  /**
   * Adds a call, atomically refusing (with {@link StoreConflict}) a taken callId, a room name bound to
   * another call, or an encrypted key already seen in another call. Resolves once the write is durable.
   */
  insert(record: CallRecord): Promise<void>;
  /**
   * Changes a call through `change`, which sees the current record and returns the new one (or throws
   * to refuse). Resolves with the stored record once the write is durable; undefined if unknown.
   */
  update(callId: string, change: (current: CallRecord) => CallRecord): Promise<CallRecord | undefined>;
  list(query: ListQuery): Promise<ListPage>;
  /** Calls whose Matrix event does not yet show their status (an edit that failed or was cut short). */
  unmirrored(): Promise<CallRecord[]>;
  close(): Promise<void>;
}
