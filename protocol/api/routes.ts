/**
 * The backend API, route by route: method, path (`:name` marks a path parameter), who may call it, the
 * schemas of the request and of the answer, and the error codes it can answer with, by HTTP status.
 * The server registers its routes from this table and validates with its schemas, `/openapi.json` is
 * generated from it, and the element's and the agent's clients parse answers with the same schemas.
 */
import type * as z from '../schema.ts';
import type { ApiErrorCode } from './error-codes.ts';
import {
  callIdParams,
  callListAnswer,
  healthAnswer,
  keyAnswer,
  listQuery,
  openApiAnswer,
  openIdBody,
  oracleAnswer,
  sessionAnswer,
  syncAnswer,
  syncBody,
  updateAnswer,
  updateBody,
  webhookAnswer,
} from './schemas.ts';

/** Who may call a route: anyone, a user (session token), the agent (`x-api-key`), either, or LiveKit (signed webhook). */
export type RouteAuth = 'none' | 'session' | 'apiKey' | 'sessionOrApiKey' | 'livekit';

export type ErrorStatus = 400 | 401 | 403 | 404 | 405 | 409 | 410 | 413 | 415 | 422 | 429 | 500 | 502 | 503 | 504;

export interface ApiRoute {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly summary: string;
  readonly auth: RouteAuth;
  readonly params?: z.ZodMiniObject;
  readonly query?: z.ZodMiniObject;
  readonly body?: z.ZodMiniType;
  /** The body's media type; `application/json` unless said. */
  readonly bodyType?: string;
  /** The body schema's name in the API description (`components.schemas`). */
  readonly bodyName?: string;
  /** The answer of a success (200). */
  readonly answer: z.ZodMiniType;
  readonly answerDescription: string;
  /** The codes of the failures the route itself can answer, by status (see {@link routeErrors} for all). */
  readonly errors: Readonly<Partial<Record<ErrorStatus, readonly ApiErrorCode[]>>>;
}

/** Failures any route can answer. */
const ANY_ROUTE_ERRORS = { 400: ['bad_request'], 405: ['method_not_allowed'], 500: ['internal_error'] } as const;
/** Failures of a route that reads a body (before the route itself runs). */
const BODY_ERRORS = { 400: ['malformed_json'], 413: ['body_too_large'], 415: ['unsupported_media_type'] } as const;

const CALL_ID = ['invalid_call_id', 'invalid_room_name', 'invalid_event_id'] as const;
const SESSION = ['missing_session', 'invalid_session', 'session_expired'] as const;
const API_KEY = ['missing_api_key', 'invalid_api_key'] as const;

const route = <const R extends ApiRoute>(definition: R): R => definition;

export const API_ROUTES = {
  health: route({
    method: 'GET',
    path: '/health',
    summary: 'Liveness',
    auth: 'none',
    answer: healthAnswer,
    answerDescription: 'Alive',
    errors: {},
  }),
  oracle: route({
    method: 'GET',
    path: '/oracle',
    summary: "The oracle's public facts",
    auth: 'none',
    answer: oracleAnswer,
    answerDescription: 'DID, public key (base58btc), LiveKit URL, Matrix user ID',
    errors: {},
  }),
  openApi: route({
    method: 'GET',
    path: '/openapi.json',
    summary: 'This document',
    auth: 'none',
    answer: openApiAnswer,
    answerDescription: 'OpenAPI 3.1',
    errors: {},
  }),
  signIn: route({
    method: 'POST',
    path: '/auth/matrix-openid',
    summary: 'Exchange a Matrix OpenID token for a session token',
    auth: 'none',
    body: openIdBody,
    bodyName: 'OpenIdToken',
    answer: sessionAnswer,
    answerDescription: 'A session',
    errors: {
      400: ['invalid_body'],
      401: ['invalid_openid_token'],
      403: ['server_not_allowed'],
      429: ['rate_limited'],
      502: ['homeserver_unreachable', 'homeserver_error'],
    },
  }),
  syncCall: route({
    method: 'POST',
    path: '/calls/:callId/sync',
    summary: 'Admit a call from its Matrix event, dispatch the oracle, get a LiveKit token',
    auth: 'session',
    params: callIdParams,
    body: syncBody,
    bodyName: 'SyncRequest',
    answer: syncAnswer,
    answerDescription: 'The call, and where and how to join it',
    errors: {
      400: [...CALL_ID, 'invalid_body'],
      401: SESSION,
      403: ['not_your_event', 'oracle_not_in_room', 'user_did_unverified'],
      404: ['event_not_found'],
      409: ['call_id_taken', 'room_taken', 'key_reused', 'call_ended'],
      429: ['too_many_syncs', 'too_many_open_calls'],
      422: [
        'call_mismatch',
        'wrong_event_type',
        'not_a_call_start',
        'room_mismatch',
        'wrong_oracle',
        'session_mismatch',
        'stale_call',
        'future_call',
        'voice_not_offered',
        'language_not_offered',
        'room_not_encrypted',
        'unencrypted_event',
        'undecryptable_event',
        'invalid_call_content',
        'invalid_ciphertext',
      ],
      502: ['matrix_unavailable', 'matrix_rate_limited', 'dispatch_failed'],
      503: ['room_key_unavailable'],
      504: ['matrix_timeout'],
    },
  }),
  callKey: route({
    method: 'GET',
    path: '/calls/:callId/key',
    summary: "The call key, still encrypted to the oracle's public key (for the agent)",
    auth: 'apiKey',
    params: callIdParams,
    answer: keyAnswer,
    answerDescription: 'The encrypted key, the DIDs, the call type and the verified Matrix user',
    errors: {
      400: CALL_ID,
      401: API_KEY,
      404: ['call_not_found'],
      410: ['call_ended', 'call_expired'],
      429: ['rate_limited'],
    },
  }),
  updateCall: route({
    method: 'POST',
    path: '/calls/:callId/update',
    summary: "Change a call's status (its user, or the agent)",
    auth: 'sessionOrApiKey',
    params: callIdParams,
    body: updateBody,
    bodyName: 'UpdateRequest',
    answer: updateAnswer,
    answerDescription: 'The call; `mirrored` says whether Matrix was told',
    errors: {
      400: [...CALL_ID, 'invalid_body'],
      401: [...SESSION, ...API_KEY],
      404: ['call_not_found'],
      409: ['invalid_transition'],
      429: ['rate_limited'],
    },
  }),
  listCalls: route({
    method: 'GET',
    path: '/calls',
    summary: "The signed-in user's calls, newest first",
    auth: 'session',
    query: listQuery,
    answer: callListAnswer,
    answerDescription: 'A page of calls',
    errors: {
      400: ['invalid_query', 'invalid_cursor'],
      401: SESSION,
      429: ['rate_limited'],
    },
  }),
  livekitWebhook: route({
    method: 'POST',
    path: '/livekit/webhook',
    summary: 'LiveKit webhooks (signed); room_finished and the user leaving end the call',
    auth: 'livekit',
    bodyType: 'application/webhook+json',
    answer: webhookAnswer,
    answerDescription: 'Received',
    errors: { 401: ['invalid_webhook'] },
  }),
} as const;

export type ApiRoutes = typeof API_ROUTES;
export type RouteName = keyof ApiRoutes;
/** The answer a route's success carries. */
export type AnswerOf<R extends ApiRoute> = z.infer<R['answer']>;

/** Every failure a route can answer, by status: its own, a body's (POST), and any route's. */
export function routeErrors(route: ApiRoute): Partial<Record<ErrorStatus, readonly ApiErrorCode[]>> {
  const all: Partial<Record<ErrorStatus, ApiErrorCode[]>> = {};
  const add = (errors: Readonly<Partial<Record<ErrorStatus, readonly ApiErrorCode[]>>>) => {
    for (const [status, codes] of Object.entries(errors) as [string, readonly ApiErrorCode[]][]) {
      const list = (all[Number(status) as ErrorStatus] ??= []);
      for (const code of codes) if (!list.includes(code)) list.push(code);
    }
  };
  add(route.errors);
  if (route.method === 'POST') add(BODY_ERRORS);
  add(ANY_ROUTE_ERRORS);
  return all;
}

/** `/calls/:callId/key` with its parameters filled in (each encoded as a path segment). */
export function routePath(route: ApiRoute, params: Readonly<Record<string, string>> = {}): string {
  return route.path.replace(/:([A-Za-z]+)/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`${route.method} ${route.path}: no value for :${name}`);
    return encodeURIComponent(value);
  });
}
