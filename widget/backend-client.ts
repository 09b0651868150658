/**
 * The backend API the element calls (see server/openapi.ts): the oracle's public facts, sign-in with a
 * Matrix OpenID token, admitting a call (sync) and ending it. `BackendClient` is the seam the element's
 * tests replace; `HttpBackendClient` is the real one, on `fetch`.
 */
import type { UserEndReason } from '../protocol/index.ts';
import type { OpenIdToken } from './transport/matrix-transport.ts';

export interface OracleInfo {
  readonly oracleDid: string;
  /** base58btc, compressed secp256k1. */
  readonly publicKey: string;
  readonly livekitUrl?: string;
  readonly matrixUserId?: string;
}

export interface BackendSession {
  readonly token: string;
  readonly userId: string;
  readonly expiresAt: string;
}

/** The call as the backend shows it (the fields the element reads). */
export interface BackendCall {
  readonly callId: string;
  readonly status: 'pending' | 'active' | 'ended';
  readonly callType: 'audio' | 'video';
  readonly [field: string]: unknown;
}

export interface SyncResult {
  readonly call: BackendCall;
  readonly livekit: { readonly url: string; readonly token: string };
}

export interface BackendClient {
  /** GET /oracle */
  getOracle(signal?: AbortSignal): Promise<OracleInfo>;
  /** POST /auth/matrix-openid */
  signIn(token: OpenIdToken, signal?: AbortSignal): Promise<BackendSession>;
  /** POST /calls/:callId/sync */
  syncCall(session: BackendSession, callId: string, body: { matrixRoomId: string; sessionId: string }, signal?: AbortSignal): Promise<SyncResult>;
  /** POST /calls/:callId/update {status: "ended"}, with the reason when it is not a hang-up */
  endCall(session: BackendSession, callId: string, signal?: AbortSignal, reason?: UserEndReason): Promise<void>;
}

/** A failed backend request: `status` 0 when no answer came (network, CORS, abort). */
export class BackendError extends Error {
  override readonly name = 'BackendError';

  constructor(
    readonly status: number,
    readonly code: string,
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

function requireString(body: Record<string, unknown>, field: string, what: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value === '') {
    throw new BackendError(200, 'invalid_response', `${what}: the answer has no "${field}"`);
  }
  return value;
}

export class HttpBackendClient implements BackendClient {
  private readonly base: string;

  constructor(
    baseUrl: string,
    private readonly fetchImpl: typeof fetch = (input, init) => fetch(input, init),
  ) {
    this.base = baseUrl.replace(/\/+$/, '');
  }

  private async request(method: 'GET' | 'POST', path: string, options: { body?: unknown; session?: BackendSession; signal?: AbortSignal | undefined }): Promise<Record<string, unknown>> {
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
      const code = typeof error.code === 'string' ? error.code : `http_${response.status}`;
      const message = typeof error.message === 'string' ? error.message : response.statusText;
      throw new BackendError(response.status, code, `${method} ${path}: ${response.status} ${code}: ${message}`);
    }
    if (!isRecord(body)) throw new BackendError(response.status, 'invalid_response', `${method} ${path}: the answer is not a JSON object`);
    return body;
  }

  async getOracle(signal?: AbortSignal): Promise<OracleInfo> {
    const body = await this.request('GET', '/oracle', { signal });
    const oracleDid = requireString(body, 'oracleDid', 'GET /oracle');
    const publicKey = requireString(body, 'publicKey', 'GET /oracle');
    return {
      oracleDid,
      publicKey,
      ...(typeof body.livekitUrl === 'string' ? { livekitUrl: body.livekitUrl } : {}),
      ...(typeof body.matrixUserId === 'string' ? { matrixUserId: body.matrixUserId } : {}),
    };
  }

  async signIn(token: OpenIdToken, signal?: AbortSignal): Promise<BackendSession> {
    const body = await this.request('POST', '/auth/matrix-openid', { body: token, signal });
    return {
      token: requireString(body, 'token', 'sign-in'),
      userId: requireString(body, 'userId', 'sign-in'),
      expiresAt: typeof body.expiresAt === 'string' ? body.expiresAt : '',
    };
  }

  async syncCall(session: BackendSession, callId: string, body: { matrixRoomId: string; sessionId: string }, signal?: AbortSignal): Promise<SyncResult> {
    const answer = await this.request('POST', `/calls/${encodeURIComponent(callId)}/sync`, { body, session, signal });
    const livekit = isRecord(answer.livekit) ? answer.livekit : {};
    const call = isRecord(answer.call) ? answer.call : {};
    return {
      call: { ...call, callId: requireString(call, 'callId', 'sync') } as BackendCall,
      livekit: { url: requireString(livekit, 'url', 'sync'), token: requireString(livekit, 'token', 'sync') },
    };
  }

  async endCall(session: BackendSession, callId: string, signal?: AbortSignal, reason?: UserEndReason): Promise<void> {
    const body = reason ? { status: 'ended', reason } : { status: 'ended' };
    await this.request('POST', `/calls/${encodeURIComponent(callId)}/update`, { body, session, signal });
  }
}
