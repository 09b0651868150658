/** Stored calls for the benchmark: direct inserts of well-formed records, and records for real Matrix events. */
import { randomBytes } from 'node:crypto';
import { base64urlnopad } from '@scure/base';
import { encryptCallKey, formatCallId, generateCallKey, generateRoomName } from '../../protocol/index.ts';
import type { CallRecord } from '../../server/store/call-store.ts';
import type { StartedCall } from '../../scripts/stack/stack.ts';
import { USER_DID } from '../../test/fixtures/call-events.ts';

export interface Owner {
  readonly userId: string;
  /** The Matrix room the user shares with the oracle. */
  readonly matrixRoomId: string;
}

/** A room version 3+ event ID: `$` and 43 url-safe base64 characters (a made-up SHA-256). */
export function randomEventId(): string {
  return `$${base64urlnopad.encode(randomBytes(32))}`;
}

/** An active call with a fresh room, key and (made-up) event, started now. */
export function syntheticCall(owner: Owner, oracleDid: string, oraclePublicKey: string): CallRecord {
  const eventId = randomEventId();
  const roomName = generateRoomName();
  const now = new Date().toISOString();
  return {
    callId: formatCallId({ eventId, roomName }),
    eventId,
    roomName,
    matrixRoomId: owner.matrixRoomId,
    userId: owner.userId,
    userDid: USER_DID,
    oracleDid,
    sessionId: crypto.randomUUID(),
    callType: 'video',
    encryptionKey: encryptCallKey(generateCallKey(), oraclePublicKey),
    status: 'active',
    callStartedAt: now,
    createdAt: now,
    updatedAt: now,
  };
}

/** An active call for a real call event (from `announceCall`), as sync would have stored it. */
export function recordForEvent(owner: Owner, call: StartedCall): CallRecord {
  const now = new Date().toISOString();
  const { content } = call;
  return {
    callId: call.callId,
    eventId: call.eventId,
    roomName: content.roomId,
    matrixRoomId: owner.matrixRoomId,
    userId: owner.userId,
    userDid: content.userDid,
    oracleDid: content.oracleDid,
    sessionId: content.sessionId,
    callType: content.callType,
    encryptionKey: content.encryptionKey,
    status: 'active',
    callStartedAt: content.callStartedAt,
    createdAt: now,
    updatedAt: now,
  };
}

/** Runs `task` for 0..count-1 with at most `concurrency` at a time; results in order. */
export async function pool<T>(count: number, concurrency: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const index = next;
      next += 1;
      results[index] = await task(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  return results;
}
