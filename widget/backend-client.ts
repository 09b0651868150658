/**
 * The backend API the element calls (`protocol/api/`): the oracle's public facts, sign-in with a
 * Matrix OpenID token, admitting a call (sync) and ending it. Answers are parsed with the API's own
 * schemas: one that does not match is a `BackendError` (`invalid_response`) naming the route and the
 * field. `BackendClient` is the seam the element's tests replace; `HttpBackendClient` is the real one,
 * on `fetch`.
 */
import type {
  AnswerOf,
  ApiCall,
  ApiErrorCode,
  ApiRoutes,
  OracleAnswer,
  RouteName,
  SessionAnswer,
  SyncAnswer,
  SyncBody,
  UpdateBody,
} from '../protocol/api/index.ts';
import type { UserEndReason } from '../protocol/index.ts';
import type { OpenIdToken } from './transport/matrix-transport.ts';

/**
 * The API's route table and schemas, loaded with the first request (a call is starting then, and
 * loads LiveKit too): a page that only shows the element does not pay for them up front.
 */
let contract: Promise<typeof import('../protocol/api/index.ts')> | undefined;
const loadContract = () => (contract ??= import('../protocol/api/index.ts'));

/** The oracle's facts the element needs: from `GET /oracle`, or pinned by the page (DID and key only). */
export type OracleInfo = Pick<OracleAnswer, 'oracleDid' | 'publicKey'> & Partial<Pick<OracleAnswer, 'livekitUrl' | 'matrixUserId' | 'voices' | 'languages'>>;

export type BackendSession = SessionAnswer;

export interface BackendClient {
  /** GET /oracle */
  getOracle(signal?: AbortSignal): Promise<OracleInfo>;
  /** POST /auth/matrix-openid */
  signIn(token: OpenIdToken, signal?: AbortSignal): Promise<BackendSession>;
  /** POST /calls/:callId/sync */
  syncCall(session: BackendSession, callId: string, body: SyncBody, signal?: AbortSignal): Promise<SyncAnswer>;
  /** POST /calls/:callId/update {status: "ended"}, with the reason when it is not a hang-up */
  endCall(session: BackendSession, callId: string, signal?: AbortSignal, reason?: UserEndReason): Promise<void>;
  /** The call as the backend has it (GET /calls?sessionId=…), to learn why it ended; undefined when not listed. */
  getCall?(session: BackendSession, sessionId: string, callId: string, signal?: AbortSignal): Promise<ApiCall | undefined>;
}

/**
 * A backend failure's code: one of the API's codes, or the client's own: `network_error` (no answer),
 * `invalid_response` (an answer that does not match the API), `http_<status>` (an error answer with a
 * code this client does not know).
 */
export type BackendErrorCode = ApiErrorCode | 'network_error' | 'invalid_response' | `http_${number}`;

/** A failed backend request: `status` 0 when no answer came (network, CORS, abort). */
export class BackendError extends Error {
  override readonly name = 'BackendError';

  constructor(
    readonly status: number,
    readonly code: BackendErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** No answer, a 5xx, or 429: the service is the problem, not the request. */
  get isUnavailable(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface RequestOptions {
  readonly params?: Readonly<Record<string, string>>;
  readonly query?: Readonly<Record<string, string>>;
  readonly body?: unknown;
  readonly session?: BackendSession;
  readonly signal?: AbortSignal | undefined;
}

export class HttpBackendClient implements BackendClient {
  private readonly base: string;

  constructor(
    baseUrl: string,
    private readonly fetchImpl: typeof fetch = (input, init) => fetch(input, init),
  ) {
    this.base = baseUrl.replace(/\/+$/, '');
  }

  /** Calls the route and answers its success as the route's schema reads it. */
  private async request<N extends RouteName>(name: N, options: RequestOptions): Promise<AnswerOf<ApiRoutes[N]>> {
    const { API_ROUTES, AnswerMismatchError, isApiErrorCode, parseAnswer, routePath } = await loadContract();
    const route: ApiRoutes[N] = API_ROUTES[name];
    const { method } = route;
    const path = routePath(route, options.params) + (options.query ? `?${new URLSearchParams(options.query)}` : '');
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.session) headers.authorization = `Bearer ${options.session.token}`;
    let response: Response;
    try {
      response = await this.fetchImpl(`${this.base}${path}`, {
        method,
        headers,
        credentials: 'omit',
        ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (cause) {
      if (options.signal?.aborted) throw cause;
      throw new BackendError(0, 'network_error', `${method} ${path}: no answer from the backend`, { cause });
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      body = undefined;
    }
    if (!response.ok) {
      const error = isRecord(body) && isRecord(body.error) ? body.error : {};
      const sent = typeof error.code === 'string' ? error.code : undefined;
      const code: BackendErrorCode = isApiErrorCode(sent) ? sent : `http_${response.status}`;
      const message = typeof error.message === 'string' ? error.message : response.statusText;
      throw new BackendError(response.status, code, `${method} ${path}: ${response.status} ${sent ?? code}: ${message}`);
    }
    try {
      return parseAnswer(route, body);
    } catch (error) {
      if (error instanceof AnswerMismatchError) throw new BackendError(response.status, 'invalid_response', error.message, { cause: error });
      throw error;
    }
  }

  getOracle(signal?: AbortSignal): Promise<OracleAnswer> {
    return this.request('oracle', { signal });
  }

  signIn(token: OpenIdToken, signal?: AbortSignal): Promise<BackendSession> {
    return this.request('signIn', { body: token, signal });
  }

  syncCall(session: BackendSession, callId: string, body: SyncBody, signal?: AbortSignal): Promise<SyncAnswer> {
    return this.request('syncCall', { params: { callId }, body, session, signal });
  }

  async endCall(session: BackendSession, callId: string, signal?: AbortSignal, reason?: UserEndReason): Promise<void> {
    const body: UpdateBody = reason ? { status: 'ended', reason } : { status: 'ended' };
    await this.request('updateCall', { params: { callId }, body, session, signal });
  }

  async getCall(session: BackendSession, sessionId: string, callId: string, signal?: AbortSignal): Promise<ApiCall | undefined> {
    const page = await this.request('listCalls', { query: { sessionId, limit: '100' }, session, signal });
    return page.calls.find((call) => call.callId === callId);
  }
}
