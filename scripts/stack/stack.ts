/**
 * The local stack that tests, benchmarks and `npm start` build on: real Synapse, real LiveKit server
 * (webhooks pointed at the backend), an oracle account, users with a room shared with the oracle, and
 * the backend itself over real HTTP. Its logs are captured so callers can search them. Node's test
 * runner wraps it in `test/helpers/use-stack.ts`.
 */
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pg from 'pg';
import {
  CALL_EVENT_TYPE,
  encryptCallKey,
  formatCallId,
  generateCallKey,
  generateOracleKeyPair,
  generateRoomName,
  matrixUserDid,
} from '../../protocol/index.ts';
import type { CallEventContent, OracleKeyPair } from '../../protocol/index.ts';
import { startLiveKit } from '../services/livekit.ts';
import type { LiveKitServer } from '../services/livekit.ts';
import { login, registerUser } from '../services/matrix-admin.ts';
import { freeTcpPort } from '../services/process.ts';
import { startSynapse } from '../services/synapse.ts';
import type { SynapseOptions, SynapseServer } from '../services/synapse.ts';
import { loadConfig } from '../../server/config.ts';
import type { ServerConfig } from '../../server/config.ts';
import { createLogger } from '../../server/logger.ts';
import { startServer } from '../../server/server.ts';
import type { RunningServer } from '../../server/server.ts';
import { MatrixRestClient } from './matrix-client.ts';
import { MatrixProxy } from './matrix-proxy.ts';

export const AGENT_API_KEY = 'agent-key-7f3a9c2e5b8d1f4a6c0e9b2d7f5a3c8e';
/** The DIDs the stack's oracle and users go by (test fixtures use the same). */
export const ORACLE_DID = 'did:ixo:ixo1oracle0test';
export const USER_DID = 'did:ixo:ixo1user0test';

export interface TestUser {
  readonly matrix: MatrixRestClient;
  /** A backend session token, from a real OpenID exchange. */
  session: string;
}

export interface Stack {
  readonly synapse: SynapseServer;
  readonly livekit: LiveKitServer;
  readonly oracleKeys: OracleKeyPair;
  readonly oracle: MatrixRestClient;
  readonly env: Record<string, string>;
  readonly config: ServerConfig;
  readonly logs: string[];
  /** Between the backend and Synapse, when the stack was started with `matrixProxy`. */
  readonly matrixProxy?: MatrixProxy;
  backend: RunningServer;
  /**
   * A new access token (a new device) for the oracle's account: a second backend with its own data
   * folder needs its own Matrix device, as two crypto states for one device would clash.
   */
  newOracleDevice(): Promise<string>;
  /** Restarts the backend on the same data folder and port; `whileDown` runs while it is stopped. */
  restart(whileDown?: () => Promise<void>): Promise<void>;
  /** A new user with a room shared with the oracle, signed in to the backend. */
  newUser(name?: string): Promise<TestUser & { roomId: string }>;
  api(method: string, pathname: string, options?: ApiOptions): Promise<ApiResponse>;
}

export interface ApiOptions {
  readonly session?: string;
  readonly apiKey?: string;
  readonly body?: unknown;
  readonly rawBody?: string;
  readonly headers?: Record<string, string>;
}

export interface ApiResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: any;
}

let userCounter = 0;

export interface StackOptions {
  /** Puts a {@link MatrixProxy} between the backend and Synapse. */
  readonly matrixProxy?: boolean;
  readonly synapse?: SynapseOptions;
  /** The LiveKit node's Redis, to make it the first node of a cluster. */
  readonly livekitRedis?: string;
  /** The LiveKit server's media over TCP only (`startLiveKit`'s `tcpOnly`). */
  readonly livekitTcpOnly?: boolean;
  /** A LiveKit config file to start from (`startLiveKit`'s `baseConfig`). */
  readonly livekitBaseConfig?: string;
}

export async function startStack(extraEnv: Record<string, string> = {}, options: StackOptions = {}): Promise<Stack> {
  const synapse = await startSynapse(options.synapse);
  const matrixProxy = options.matrixProxy ? await MatrixProxy.start(synapse.baseUrl) : undefined;
  const port = await freeTcpPort();
  const livekit = await startLiveKit({
    webhookUrls: [`http://127.0.0.1:${port}/livekit/webhook`],
    ...(options.livekitRedis ? { redis: options.livekitRedis } : {}),
    ...(options.livekitTcpOnly ? { tcpOnly: true } : {}),
    ...(options.livekitBaseConfig ? { baseConfig: options.livekitBaseConfig } : {}),
  });
  const oracleAccount = await registerUser(synapse.baseUrl, synapse.registrationSharedSecret, 'oracle');
  const oracle = new MatrixRestClient(synapse.baseUrl, oracleAccount.userId, oracleAccount.accessToken);
  const oracleKeys = generateOracleKeyPair();
  const env: Record<string, string> = {
    HOST: '127.0.0.1',
    PORT: String(port),
    DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'oracle-call-backend-')),
    LOG_LEVEL: 'debug',
    ORACLE_DID,
    ORACLE_PUBLIC_KEY: oracleKeys.publicKey,
    AGENT_API_KEY,
    SESSION_SECRET: 'session-secret-4b8e1d7a2c9f6e3b0a5d8c1f7e4b2a9d',
    LIVEKIT_URL: livekit.url,
    LIVEKIT_API_KEY: livekit.apiKey,
    LIVEKIT_API_SECRET: livekit.apiSecret,
    MATRIX_BASE_URL: matrixProxy?.url ?? synapse.baseUrl,
    MATRIX_ACCESS_TOKEN: oracleAccount.accessToken,
    CORS_ORIGINS: 'http://127.0.0.1:5173',
    // Most backend tests use plain rooms (the REST API is what they test); encrypted rooms have their own.
    MATRIX_REQUIRE_ENCRYPTION: 'false',
    // Tests and benchmarks make many calls per user in a minute; the per-user limits have their own
    // tests (server-abuse.test.ts), which set them.
    USER_MAX_OPEN_CALLS: '100',
    USER_SYNCS_PER_MINUTE: '10000',
    RATE_LIMIT_LIST_PER_MINUTE: '10000',
    // Most stacks run no agent: their calls would end as oracle_busy. Tests of it set them.
    ORACLE_ARRIVAL_SECONDS: '0',
    ORACLE_ACCEPT_SECONDS: '0',
    ...extraEnv,
  };
  const config = loadConfig(env);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const log = createLogger(config.logLevel, sink);
  const api = (method: string, pathname: string, options: ApiOptions = {}) => callApi(stack.backend.url, method, pathname, options);
  const stack: Stack = {
    synapse,
    livekit,
    oracleKeys,
    oracle,
    env,
    config,
    logs,
    ...(matrixProxy ? { matrixProxy } : {}),
    backend: await startServer(config, log),
    async newOracleDevice() {
      return (await login(synapse.baseUrl, oracleAccount.userId, oracleAccount.password)).accessToken;
    },
    async restart(whileDown) {
      await stack.backend.close();
      await whileDown?.();
      stack.backend = await startServer(config, log);
    },
    async newUser(name = `user${++userCounter}`) {
      const account = await registerUser(synapse.baseUrl, synapse.registrationSharedSecret, name);
      const matrix = new MatrixRestClient(synapse.baseUrl, account.userId, account.accessToken);
      const roomId = await matrix.createRoom({ invite: [oracle.userId] });
      await oracle.joinRoom(roomId);
      const openId = await matrix.openIdToken();
      const response = await api('POST', '/auth/matrix-openid', { body: openId });
      if (response.status !== 200) throw new Error(`sign-in failed: ${JSON.stringify(response.body)}`);
      return { matrix, roomId, session: response.body.token as string };
    },
    api,
  };
  return stack;
}

export async function stopStack(stack: Stack | undefined): Promise<void> {
  if (!stack) return;
  await stack.backend.close().catch(() => {});
  await stack.matrixProxy?.stop();
  await Promise.all([stack.livekit.stop(), stack.synapse.stop()]);
  await rm(stack.env.DATA_DIR!, { recursive: true, force: true });
}

export interface StartedCall {
  readonly callId: string;
  readonly eventId: string;
  readonly callKey: string;
  readonly content: CallEventContent;
}

/** What the element does before sync: a call key, encrypted to the oracle, announced in Matrix. */
export async function announceCall(
  stack: Stack,
  user: { matrix: Pick<MatrixRestClient, 'sendEvent'> & { readonly userId?: string }; roomId: string },
  overrides: Partial<CallEventContent> = {},
): Promise<StartedCall> {
  const callKey = generateCallKey();
  const content: CallEventContent = {
    callType: 'video',
    callStatus: 'pending',
    callStartedAt: new Date().toISOString(),
    encryptionKey: encryptCallKey(callKey, stack.oracleKeys.publicKey),
    sessionId: crypto.randomUUID(),
    roomId: generateRoomName(),
    // The element's default: the DID derived from the user's Matrix ID, which the backend takes as proven.
    userDid: user.matrix.userId ? matrixUserDid(user.matrix.userId) : USER_DID,
    oracleDid: ORACLE_DID,
    ...overrides,
  };
  const eventId = await user.matrix.sendEvent(user.roomId, CALL_EVENT_TYPE, content);
  return { callId: formatCallId({ eventId, roomName: content.roomId }), eventId, callKey, content };
}

export function syncCall(stack: Stack, user: { session: string; roomId: string }, call: StartedCall, body?: unknown) {
  return stack.api('POST', `/calls/${encodeURIComponent(call.callId)}/sync`, {
    session: user.session,
    body: body ?? { matrixRoomId: user.roomId, sessionId: call.content.sessionId },
  });
}

/**
 * The calls in the store (the file, or the database when `DATABASE_URL` is set), as text: compared
 * before and after a refused request to prove nothing changed.
 */
export async function storeSnapshot(stack: Stack): Promise<string> {
  if (stack.env.DATABASE_URL) {
    const client = new pg.Client({ connectionString: stack.env.DATABASE_URL });
    await client.connect();
    try {
      return JSON.stringify((await client.query('SELECT * FROM calls ORDER BY call_id')).rows);
    } finally {
      await client.end();
    }
  }
  const { readFile } = await import('node:fs/promises');
  const text = await readFile(path.join(stack.env.DATA_DIR!, 'calls.json'), 'utf8').catch(() => '{}');
  return JSON.stringify((JSON.parse(text) as { calls?: unknown }).calls ?? []);
}

/** One request to a backend's API: the session or API key set as the backend expects, the answer parsed when it is JSON. */
export async function callApi(baseUrl: string, method: string, pathname: string, options: ApiOptions = {}): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.session) headers.authorization = `Bearer ${options.session}`;
  if (options.apiKey !== undefined) headers['x-api-key'] = options.apiKey;
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${baseUrl}${pathname}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, headers: response.headers, body: parsed };
}
