/**
 * The backend's configuration, from environment variables, validated at start. A bad or missing
 * setting stops the server with one line per problem naming the variable to set.
 */
import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { parsePublicKey } from '../protocol/index.ts';

const DID_PATTERN = /^did:[a-z0-9]+:[A-Za-z0-9._:%-]+$/;

const required = (what: string) => ({ error: (issue: { input: unknown }) => (issue.input === undefined ? `required: ${what}` : undefined) });

const url = (protocols: string[], what = 'a URL') =>
  z.string(required(what)).refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    `expected a ${protocols.join(' or ')} URL`,
  );

const seconds = (fallback: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(fallback);

/** A secret a person might pick: long enough, and not one character repeated. */
const strongSecret = (what: string) =>
  z
    .string({ error: `required: ${what} (at least 32 characters; e.g. "openssl rand -hex 32")` })
    .min(32, `${what} must be at least 32 characters (e.g. "openssl rand -hex 32")`)
    .refine((value) => new Set(value).size >= 10, `${what} is too weak: use a random value (e.g. "openssl rand -hex 32")`);

export const envSchema = z.object({
  HOST: z.string().default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8787),
  DATA_DIR: z.string().default('./data'),
  DATABASE_URL: url(['postgres:', 'postgresql:'], 'a PostgreSQL URL').optional(),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(1000).default(10),
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(5000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ORACLE_DID: z.string(required("the oracle's DID")).regex(DID_PATTERN, 'expected a DID ("did:method:id")'),
  ORACLE_PUBLIC_KEY: z.string(required("the oracle's public key (base58btc; see oracle-call keygen)")).refine((value) => {
    try {
      parsePublicKey(value);
      return true;
    } catch {
      return false;
    }
  }, 'expected a base58btc secp256k1 public key (oracle-call keygen prints one)'),
  AGENT_API_KEY: strongSecret('the API key the agent sends in x-api-key'),
  SESSION_SECRET: strongSecret('the secret that signs session tokens').optional(),
  SESSION_TTL_SECONDS: seconds(3600, 60, 86_400),
  LIVEKIT_URL: url(['ws:', 'wss:'], 'the LiveKit URL clients connect to (ws:// or wss://)'),
  LIVEKIT_API_KEY: z.string(required('the LiveKit API key')).min(1),
  LIVEKIT_API_SECRET: z.string(required('the LiveKit API secret')).min(1),
  LIVEKIT_AGENT_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .default('oracle'),
  LIVEKIT_TOKEN_TTL_SECONDS: seconds(3600, 60, 3600),
  MATRIX_BASE_URL: url(['http:', 'https:'], "the oracle account's homeserver URL"),
  MATRIX_ACCESS_TOKEN: z.string(required("the oracle account's Matrix access token")).min(1),
  MATRIX_OPENID_SERVERS: z.string().optional(),
  MATRIX_ROOM_KEY_WAIT_SECONDS: seconds(10, 0, 120),
  MATRIX_REQUIRE_ENCRYPTION: z.enum(['true', 'false'], { error: 'expected "true" or "false"' }).default('true'),
  MATRIX_CRYPTO_PASSPHRASE: strongSecret("the passphrase that encrypts the oracle device's Matrix crypto state at rest").optional(),
  CORS_ORIGINS: z.string().default(''),
  ELEMENT_DIR: z.string().optional(),
  WIDGET_FRAME_ANCESTORS: z
    .string()
    .regex(
      /^\s*(\*|https?:\/\/[A-Za-z0-9.:*-]+)(\s*,\s*(https?:\/\/[A-Za-z0-9.:*-]+))*\s*$/,
      'expected * or origins (https://element.example) separated by commas',
    )
    .default('*'),
  // What a call may choose (the call event's agentVoice and language), announced in GET /oracle.
  ORACLE_VOICES: z
    .string()
    .regex(/^[A-Za-z0-9._,\s-]*$/, 'expected voice names separated by commas')
    .default(''),
  ORACLE_LANGUAGES: z
    .string()
    .regex(/^[A-Za-z0-9,\s-]*$/, 'expected BCP 47 language tags separated by commas')
    .default(''),
  CALL_CLOCK_SKEW_SECONDS: seconds(300, 5, 3600),
  CALL_MAX_DURATION_SECONDS: seconds(4 * 3600, 60, 7 * 86_400),
  BODY_LIMIT: z
    .string()
    .regex(/^\d+(kb|mb)?$/i)
    .default('16kb'),
  USER_DID_POLICY: z.enum(['verify', 'claim', 'drop'], { error: 'expected "verify", "claim" or "drop"' }).default('verify'),
  USER_DID_RESOLVER: z.string().min(1).optional(),
  TRUST_PROXY_HOPS: z.coerce.number({ error: 'expected the number of reverse proxies in front of the backend (0 to 10)' }).int().min(0).max(10).default(0),
  RATE_LIMIT_AUTH_PER_MINUTE: z.coerce.number().int().min(1).default(30),
  RATE_LIMIT_API_KEY_FAILURES_PER_MINUTE: z.coerce.number().int().min(1).default(20),
  RATE_LIMIT_LIST_PER_MINUTE: z.coerce.number().int().min(1).default(600),
  USER_SYNCS_PER_MINUTE: z.coerce.number().int().min(1).default(10),
  USER_MAX_OPEN_CALLS: z.coerce.number().int().min(1).max(100).default(2),
  MATRIX_REQUEST_TIMEOUT_SECONDS: seconds(15, 1, 300),
  CALL_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  CALL_SWEEP_SECONDS: seconds(30, 1, 3600),
  CALL_NO_SHOW_SECONDS: seconds(120, 10, 3600),
  ORACLE_ARRIVAL_SECONDS: seconds(15, 0, 600),
  ORACLE_ACCEPT_SECONDS: seconds(3, 0, 60),
});

export interface ServerConfig {
  readonly host: string;
  readonly port: number;
  /** The Matrix crypto state, and the call store when no database is configured. */
  readonly dataDir: string;
  /** The shared call store (PostgreSQL), for several backends; the lowdb file in `dataDir` when absent. */
  readonly database?: {
    readonly url: string;
    readonly poolSize: number;
    readonly statementTimeoutMs: number;
  };
  readonly logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  readonly oracleDid: string;
  readonly oraclePublicKey: string;
  readonly agentApiKey: string;
  /** Signs session tokens; when not configured, a random one per start (sessions end on restart). */
  readonly sessionSecret?: string;
  readonly sessionTtlSeconds: number;
  readonly livekit: {
    readonly url: string;
    readonly apiKey: string;
    readonly apiSecret: string;
    readonly agentName: string;
    readonly tokenTtlSeconds: number;
  };
  readonly matrix: {
    readonly baseUrl: string;
    readonly accessToken: string;
    /** Homeservers whose OpenID tokens are accepted: server name → base URL of its federation API. */
    readonly openIdServers: ReadonlyMap<string, string>;
    /** Calls are taken only in end-to-end encrypted rooms (the default). */
    readonly requireEncryption: boolean;
    /** How long a sync waits for a call event's Megolm room key to reach the oracle's device. */
    readonly roomKeyWaitSeconds: number;
    /** Every request to the homeserver gives up after this long. */
    readonly requestTimeoutSeconds: number;
    /** Encrypts the device's crypto state in the data folder, when set. */
    readonly cryptoPassphrase?: string;
  };
  readonly corsOrigins: readonly string[];
  /** The built element this backend serves (`dist/`), when any; see element-files.ts. */
  readonly elementDir?: string;
  /** Who may frame the widget page (its CSP `frame-ancestors`). */
  readonly widgetFrameAncestors: readonly string[];
  /** The voices and languages a call may choose (empty: no choice offered). */
  readonly voices: readonly string[];
  readonly languages: readonly string[];
  readonly clockSkewSeconds: number;
  readonly callMaxDurationSeconds: number;
  readonly bodyLimit: string;
  /** What a call's `userDid` that is not proven for its user does: refuse the sync, pass it on as a claim, or drop it. */
  readonly userDidPolicy: 'verify' | 'claim' | 'drop';
  /** An ES module whose default export says whether a DID belongs to a Matrix user. */
  readonly userDidResolver?: string;
  /** Reverse proxies in front of the backend: the client's address is read this many hops back in X-Forwarded-For. */
  readonly trustProxyHops: number;
  readonly rateLimits: {
    /** Sign-in attempts per client address. */
    readonly authPerMinute: number;
    /** Requests with a missing or wrong API key per client address (a right key is never counted). */
    readonly apiKeyFailuresPerMinute: number;
    /** Lists per user. */
    readonly listPerMinute: number;
    /** Syncs per user. */
    readonly syncsPerMinute: number;
  };
  /** Pending or active calls one user may have at once. */
  readonly userMaxOpenCalls: number;
  /** Ended calls older than this are deleted from the store. */
  readonly callRetentionDays: number;
  /** How often the sweep runs (ends expired and no-show calls, deletes old ones). */
  readonly sweepSeconds: number;
  /** A call still pending (never synced to the end) after this long is ended as `no_show`. */
  readonly noShowSeconds: number;
  /** A call whose key no agent has fetched this long after the dispatch is ended as `oracle_busy` (0: never). */
  readonly oracleArrivalSeconds: number;
  /** A dispatch that no agent worker has taken (LiveKit shows no job for it) this long after it is ended as `oracle_busy` (0: never). */
  readonly oracleAcceptSeconds: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** A comma-separated setting's items, trimmed, empty ones left out. */
const commaList = (value: string): string[] =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

function parseServerMap(value: string | undefined): Map<string, string> | string {
  const map = new Map<string, string>();
  if (!value) return map;
  for (const entry of commaList(value)) {
    const at = entry.indexOf('=');
    const name = entry.slice(0, at).trim();
    const base = entry.slice(at + 1).trim();
    if (at <= 0 || !/^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(name) || !url(['http:', 'https:']).safeParse(base).success) {
      return `MATRIX_OPENID_SERVERS: "${entry}" is not "server.name=https://homeserver.url"`;
    }
    map.set(name, base.replace(/\/+$/, ''));
  }
  return map;
}

/** The project's own build, served when ELEMENT_DIR is not set (nothing is served while it is not built). */
const DEFAULT_ELEMENT_DIR = fileURLToPath(new URL('../dist', import.meta.url));

/** ELEMENT_DIR: unset, the project's build; empty, none; a folder, which must hold a build. */
function elementFolder(value: string | undefined): string | undefined {
  if (value === undefined) return DEFAULT_ELEMENT_DIR;
  if (value.trim() === '') return undefined;
  const folder = path.resolve(value);
  if (!existsSync(path.join(folder, 'oracle-call.js'))) {
    throw new ConfigError(
      `Invalid configuration:\n  ELEMENT_DIR: ${folder} holds no oracle-call.js (run "npm run build", or set ELEMENT_DIR= to serve the API only)`,
    );
  }
  return folder;
}

/** Reads and checks the configuration; throws a {@link ConfigError} listing every problem. */
export function loadConfig(env: Record<string, string | undefined> = process.env): ServerConfig {
  const parsed = envSchema.safeParse(env);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${issue.path.join('.')}: ${issue.message}`);
  }
  const servers = parseServerMap(env.MATRIX_OPENID_SERVERS);
  if (typeof servers === 'string') problems.push(servers);
  if (parsed.success && parsed.data.DATABASE_URL && !parsed.data.SESSION_SECRET) {
    // Backends sharing a database share their users: a session signed by one must be valid on the others.
    problems.push(
      'SESSION_SECRET: required when DATABASE_URL is set (every backend on the database must sign sessions with the same secret; e.g. "openssl rand -hex 32")',
    );
  }
  if (problems.length > 0 || !parsed.success || typeof servers === 'string') {
    throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const e = parsed.data;
  const elementDir = elementFolder(e.ELEMENT_DIR);
  const dataDir = path.resolve(e.DATA_DIR);
  try {
    mkdirSync(dataDir, { recursive: true });
    accessSync(dataDir, constants.R_OK | constants.W_OK);
  } catch (error) {
    throw new ConfigError(`Invalid configuration:\n  DATA_DIR: ${dataDir} is not a readable and writable folder (${(error as Error).message})`);
  }
  return {
    host: e.HOST,
    port: e.PORT,
    dataDir,
    ...(e.DATABASE_URL ? { database: { url: e.DATABASE_URL, poolSize: e.DATABASE_POOL_SIZE, statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS } } : {}),
    logLevel: e.LOG_LEVEL,
    oracleDid: e.ORACLE_DID,
    oraclePublicKey: e.ORACLE_PUBLIC_KEY,
    agentApiKey: e.AGENT_API_KEY,
    ...(e.SESSION_SECRET ? { sessionSecret: e.SESSION_SECRET } : {}),
    sessionTtlSeconds: e.SESSION_TTL_SECONDS,
    livekit: {
      url: e.LIVEKIT_URL,
      apiKey: e.LIVEKIT_API_KEY,
      apiSecret: e.LIVEKIT_API_SECRET,
      agentName: e.LIVEKIT_AGENT_NAME,
      tokenTtlSeconds: e.LIVEKIT_TOKEN_TTL_SECONDS,
    },
    matrix: {
      baseUrl: e.MATRIX_BASE_URL.replace(/\/+$/, ''),
      accessToken: e.MATRIX_ACCESS_TOKEN,
      openIdServers: servers,
      requireEncryption: e.MATRIX_REQUIRE_ENCRYPTION === 'true',
      roomKeyWaitSeconds: e.MATRIX_ROOM_KEY_WAIT_SECONDS,
      requestTimeoutSeconds: e.MATRIX_REQUEST_TIMEOUT_SECONDS,
      ...(e.MATRIX_CRYPTO_PASSPHRASE ? { cryptoPassphrase: e.MATRIX_CRYPTO_PASSPHRASE } : {}),
    },
    corsOrigins: commaList(e.CORS_ORIGINS),
    ...(elementDir ? { elementDir } : {}),
    widgetFrameAncestors: commaList(e.WIDGET_FRAME_ANCESTORS),
    voices: commaList(e.ORACLE_VOICES),
    languages: commaList(e.ORACLE_LANGUAGES),
    clockSkewSeconds: e.CALL_CLOCK_SKEW_SECONDS,
    callMaxDurationSeconds: e.CALL_MAX_DURATION_SECONDS,
    bodyLimit: e.BODY_LIMIT,
    userDidPolicy: e.USER_DID_POLICY,
    ...(e.USER_DID_RESOLVER ? { userDidResolver: e.USER_DID_RESOLVER } : {}),
    trustProxyHops: e.TRUST_PROXY_HOPS,
    rateLimits: {
      authPerMinute: e.RATE_LIMIT_AUTH_PER_MINUTE,
      apiKeyFailuresPerMinute: e.RATE_LIMIT_API_KEY_FAILURES_PER_MINUTE,
      listPerMinute: e.RATE_LIMIT_LIST_PER_MINUTE,
      syncsPerMinute: e.USER_SYNCS_PER_MINUTE,
    },
    userMaxOpenCalls: e.USER_MAX_OPEN_CALLS,
    callRetentionDays: e.CALL_RETENTION_DAYS,
    sweepSeconds: e.CALL_SWEEP_SECONDS,
    noShowSeconds: e.CALL_NO_SHOW_SECONDS,
    oracleArrivalSeconds: e.ORACLE_ARRIVAL_SECONDS,
    oracleAcceptSeconds: e.ORACLE_ACCEPT_SECONDS,
  };
}
