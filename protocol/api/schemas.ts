/**
 * The shapes that cross HTTP between the backend, the element and the agent: requests (strict, unknown
 * fields refused) and answers (unknown fields ignored, so a newer backend may add one). Types come from
 * the schemas; the server builds its answers as these types and the clients parse them with these
 * schemas, so a renamed field breaks all three at compile time.
 */
import * as z from '../schema.ts';
import { CALL_TYPES } from '../call-event.ts';
import { CALL_STATUSES } from '../call-status.ts';
import type { ApiErrorCode } from './error-codes.ts';

// ---------------------------------------------------------------- requests

/** `!opaque:server`, or (room version 12 and later) `!` and the room's hash with no server part. */
const matrixRoomId = z.string().check(z.maxLength(255), z.regex(/^![A-Za-z0-9._=\-/+]+(:[A-Za-z0-9.-]+(:\d{1,5})?)?$/, 'expected a Matrix room ID ("!…")'));

/** The path parameter of the call routes; the server checks its form with `parseCallId`. */
export const callIdParams = z.object({
  callId: z.string().check(z.describe('`eventId@roomName`: the Matrix event ID of the call event, "@", the LiveKit room name')),
});

/** `POST /auth/matrix-openid`: the OpenID token as Matrix's `/openid/request_token` returns it. */
export const openIdBody = z.strictObject({
  access_token: z.string().check(z.minLength(1), z.maxLength(512)),
  matrix_server_name: z.string().check(z.minLength(1), z.maxLength(255)),
  token_type: z.optional(z.literal('Bearer')),
  expires_in: z.optional(z.int().check(z.nonnegative())),
});
export type OpenIdBody = z.infer<typeof openIdBody>;

export const syncBody = z.strictObject({
  matrixRoomId,
  sessionId: z.string().check(z.minLength(1), z.maxLength(256)),
});
export type SyncBody = z.infer<typeof syncBody>;

export const updateBody = z.strictObject({
  status: z.enum(CALL_STATUSES),
  /** Why the agent ended a call it could not join (one of `AGENT_FAILURE_REASONS`, e.g. `key_decryption_failed`). */
  reason: z.optional(z.string().check(z.regex(/^[a-z][a-z0-9_]{0,63}$/, 'expected a snake_case reason'))),
});
export type UpdateBody = z.infer<typeof updateBody>;

export const listQuery = z.strictObject({
  sessionId: z.optional(z.string().check(z.minLength(1), z.maxLength(256))),
  status: z.optional(z.enum(CALL_STATUSES)),
  limit: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(100)), 20),
  cursor: z.optional(z.string().check(z.minLength(1), z.maxLength(512))),
});
export type ListQueryParams = z.infer<typeof listQuery>;

// ---------------------------------------------------------------- answers

/** The oracle's DID: one definition for every answer that carries it (the oracle, a call, a key). */
const oracleFields = { oracleDid: z.string().check(z.minLength(1)) };

export const healthAnswer = z.object({ status: z.literal('ok') });
export type HealthAnswer = z.infer<typeof healthAnswer>;

export const oracleAnswer = z.object({
  ...oracleFields,
  /** base58btc, compressed secp256k1. */
  publicKey: z.string().check(z.minLength(1)),
  livekitUrl: z.string(),
  matrixUserId: z.string(),
  /** The voices a call may ask for (`agentVoice`); empty: the oracle's own only. */
  voices: z._default(z.array(z.string()), []),
  /** The languages a call may ask for (`language`); empty: the speech recognition's own choice only. */
  languages: z._default(z.array(z.string()), []),
});
export type OracleAnswer = z.infer<typeof oracleAnswer>;

export const sessionAnswer = z.object({
  token: z.string().check(z.minLength(1)),
  /** The Matrix user ID the homeserver vouched for. */
  userId: z.string().check(z.minLength(1)),
  expiresAt: z.string(),
});
export type SessionAnswer = z.infer<typeof sessionAnswer>;

/** A call as the API shows it: everything the backend keeps but the encrypted key and its bookkeeping. */
export const apiCall = z.object({
  callId: z.string().check(z.minLength(1)),
  eventId: z.string(),
  /** The LiveKit room name (the call event's `roomId`). */
  roomName: z.string(),
  matrixRoomId: z.string(),
  /** The Matrix user who started the call (the event's sender). */
  userId: z.string(),
  userDid: z.string(),
  ...oracleFields,
  sessionId: z.string(),
  callType: z.enum(CALL_TYPES),
  agentVoice: z.optional(z.string()),
  language: z.optional(z.string()),
  status: z.enum(CALL_STATUSES),
  callStartedAt: z.string(),
  callEndedAt: z.optional(z.string()),
  /**
   * Who or what ended the call: `user` (`user: connection_lost` when the person's page gave up
   * reconnecting), `agent`, `oracle`, `matrix`, `livekit`, `user_left` (`user_left: connection_lost`
   * when the LiveKit server lost the person's connection), `no_show` (nobody joined), `oracle_busy`
   * (no agent took it), `oracle_left` (the oracle was gone from the call before it ended: its worker
   * stopped), `expired` (past the longest call allowed), or `agent_failed: <reason>`.
   */
  endReason: z.optional(z.string()),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type ApiCall = z.infer<typeof apiCall>;

export const syncAnswer = z.object({
  call: apiCall,
  /** Where and how the person joins: the LiveKit URL and a token for this one room. */
  livekit: z.object({ url: z.string().check(z.minLength(1)), token: z.string().check(z.minLength(1)) }),
});
export type SyncAnswer = z.infer<typeof syncAnswer>;

/** The agent's key answer: the call key still encrypted to the oracle, and whose call it is. */
export const keyAnswer = z.object({
  /** The ECIES ciphertext of the call key (base58btc), as the call event carries it. */
  encryptionKey: z.string().check(z.minLength(1)),
  /** The call event's `userDid`, present only when proven for `userId` (the backend's USER_DID_POLICY). */
  userDid: z.optional(apiCall.shape.userDid),
  /** The call event's `userDid`, unproven, passed on as a claim only (USER_DID_POLICY=claim): never an identity. */
  claimedUserDid: z.optional(z.string()),
  ...oracleFields,
  callType: apiCall.shape.callType,
  /** The voice and language the person chose for this call, when they did (checked against GET /oracle). */
  agentVoice: apiCall.shape.agentVoice,
  language: apiCall.shape.language,
  /** The call's user as the backend verified it (Matrix OpenID at sign-in, and the event's sender). */
  userId: apiCall.shape.userId,
});
export type KeyAnswer = z.infer<typeof keyAnswer>;

export const updateAnswer = z.object({
  call: apiCall,
  /** Whether the change reached the Matrix event (as an edit by the oracle's account). */
  mirrored: z.boolean(),
});
export type UpdateAnswer = z.infer<typeof updateAnswer>;

export const callListAnswer = z.object({
  calls: z.array(apiCall),
  /** Present when there are more: pass it as `cursor` for the next page. */
  nextCursor: z.optional(z.string()),
});
export type CallListAnswer = z.infer<typeof callListAnswer>;

export const webhookAnswer = z.object({
  received: z.string(),
  /** The event ID was seen lately: nothing was done again (the handling is idempotent anyway). */
  duplicate: z.optional(z.boolean()),
});
export type WebhookAnswer = z.infer<typeof webhookAnswer>;

/** `GET /openapi.json`: an OpenAPI 3.1 document (described, not restated). */
export const openApiAnswer = z.looseObject({ openapi: z.string() });

/**
 * Every failure. The server sends an {@link ApiErrorCode} (the route table lists which, per route); a
 * client reads `code` as any string, so that a code added by a newer backend is not an unreadable answer.
 */
export const errorAnswer = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
export interface ErrorAnswer {
  readonly error: { readonly code: ApiErrorCode; readonly message: string };
}
