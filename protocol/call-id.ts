import { ProtocolError } from './errors.ts';

/** A LiveKit room name made by the client: letters, digits, `_` and `-`, 8 to 64 long. */
export const ROOM_NAME_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;

/** Room version 3+ event IDs: `$` then the unpadded (url-safe or standard) base64 of a SHA-256 hash. */
const HASHED_EVENT_ID = /^\$[A-Za-z0-9+/_-]{43}$/;
/** Room versions 1 and 2: `$opaque:server_name`, the server name being a host with an optional port. */
const LEGACY_EVENT_ID = /^\$[A-Za-z0-9._=/+-]{1,200}:(?:[A-Za-z0-9.-]{1,230}|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;
const MAX_EVENT_ID_LENGTH = 255;

/** The longest callId the protocol allows: the longest event ID, `@`, the longest room name. */
export const MAX_CALL_ID_LENGTH = MAX_EVENT_ID_LENGTH + 1 + 64;

export interface CallIdParts {
  /** The Matrix event ID of the call event. */
  readonly eventId: string;
  /** The LiveKit room name of the call. */
  readonly roomName: string;
}

export function isEventId(value: string): boolean {
  return value.length <= MAX_EVENT_ID_LENGTH && (HASHED_EVENT_ID.test(value) || LEGACY_EVENT_ID.test(value));
}

export function assertEventId(value: string): void {
  if (typeof value !== 'string' || !isEventId(value)) {
    throw ProtocolError.invalidEventId('expected "$" then a base64 hash, or the "$local:server" form');
  }
}

export function assertRoomName(value: string): void {
  if (typeof value !== 'string' || !ROOM_NAME_PATTERN.test(value)) {
    throw ProtocolError.invalidRoomName('expected 8 to 64 characters of A-Z, a-z, 0-9, "_" or "-"');
  }
}

/** `eventId@roomName`, after checking both parts. */
export function formatCallId(parts: CallIdParts): string {
  assertEventId(parts.eventId);
  assertRoomName(parts.roomName);
  return `${parts.eventId}@${parts.roomName}`;
}

/** Splits a callId at its first `@` and checks both parts; throws a {@link ProtocolError} saying what is wrong. */
export function parseCallId(callId: unknown): CallIdParts {
  if (typeof callId !== 'string' || callId.length === 0) {
    throw ProtocolError.invalidCallId('expected a non-empty string "eventId@roomName"');
  }
  const at = callId.indexOf('@');
  if (at < 0) {
    throw ProtocolError.invalidCallId('missing "@" between the event ID and the room name');
  }
  const eventId = callId.slice(0, at);
  const roomName = callId.slice(at + 1);
  if (!isEventId(eventId)) {
    throw ProtocolError.invalidCallId('the part before "@" is not a Matrix event ID ("$" then a base64 hash, or "$local:server")');
  }
  if (!ROOM_NAME_PATTERN.test(roomName)) {
    throw ProtocolError.invalidCallId('the part after "@" is not a room name (8 to 64 characters of A-Z, a-z, 0-9, "_" or "-")');
  }
  return { eventId, roomName };
}

/** A fresh LiveKit room name from 16 random bytes: `call-` and 22 url-safe base64 characters. */
export function generateRoomName(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  // btoa's base64 made url-safe: the element then keeps only @scure/base's base58 (0.3 KB gzipped less).
  const base64 = btoa(String.fromCharCode(...bytes));
  return `call-${base64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}`;
}
