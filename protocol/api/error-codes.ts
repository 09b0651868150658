/**
 * Every `code` the backend can answer a failure with (`{"error": {"code", "message"}}`), and why the
 * agent can stay out of a call. To add a code, add it here, then list it under the routes that can
 * answer it (`routes.ts`): the server's `ApiError` accepts only these, and `/openapi.json` lists them.
 */
import { PROTOCOL_ERROR_REASONS } from '../errors.ts';

/** The backend's own codes (the protocol rules' refusals are added below). */
const SERVER_ERROR_CODES = [
  // Any route
  'bad_request',
  'not_found',
  'method_not_allowed',
  'body_too_large',
  'unsupported_media_type',
  'malformed_json',
  'invalid_body',
  'invalid_query',
  'rate_limited',
  'internal_error',
  // Per user
  'too_many_syncs',
  'too_many_open_calls',
  // Credentials
  'missing_session',
  'invalid_session',
  'session_expired',
  'missing_api_key',
  'invalid_api_key',
  'invalid_openid_token',
  'server_not_allowed',
  'homeserver_unreachable',
  'homeserver_error',
  'invalid_webhook',
  // Calls
  'invalid_cursor',
  'call_not_found',
  'event_not_found',
  'not_your_event',
  'call_id_taken',
  'room_taken',
  'key_reused',
  'call_ended',
  'call_expired',
  'call_mismatch',
  'wrong_event_type',
  'not_a_call_start',
  'room_mismatch',
  'wrong_oracle',
  'session_mismatch',
  'stale_call',
  'future_call',
  'room_not_encrypted',
  'unencrypted_event',
  'undecryptable_event',
  'room_key_unavailable',
  'oracle_not_in_room',
  'user_did_unverified',
  'matrix_unavailable',
  'matrix_timeout',
  'matrix_rate_limited',
  'dispatch_failed',
  'voice_not_offered',
  'language_not_offered',
] as const;

/** Every code the backend answers with: its own, and a protocol rule's reason (`ProtocolError`). */
export const API_ERROR_CODES = [...SERVER_ERROR_CODES, ...PROTOCOL_ERROR_REASONS] as const;
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

export function isApiErrorCode(value: unknown): value is ApiErrorCode {
  return typeof value === 'string' && (API_ERROR_CODES as readonly string[]).includes(value);
}

/**
 * Why the oracle's agent stayed out of a call. `key_decryption_failed` is also sent to the backend
 * (`POST /calls/:callId/update` with `reason`), which ends the call with `agent_failed: <reason>`.
 */
export const AGENT_FAILURE_REASONS = [
  'backend_unreachable',
  'api_key_refused',
  'call_not_found',
  'call_ended',
  'backend_error',
  'key_decryption_failed',
] as const;
export type AgentFailureReason = (typeof AGENT_FAILURE_REASONS)[number];

/**
 * Why the agent ends a call (`POST /calls/:callId/update` with `reason`): a failure above, or the person
 * never joined within AGENT_JOIN_TIMEOUT_SECONDS (`no_show`, which the call keeps as its `endReason`).
 */
export type AgentEndReason = AgentFailureReason | 'no_show';
