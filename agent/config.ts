/**
 * The agent's configuration, from environment variables, validated at start. A missing or malformed
 * setting (the oracle private key above all) stops it with one line per problem naming the variable.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { parsePrivateKey, publicKeyFromPrivateKey } from '../protocol/index.ts';

const required = (what: string) => ({ error: (issue: { input: unknown }) => (issue.input === undefined ? `required: ${what}` : undefined) });

const url = (protocols: string[], what: string) =>
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

const flag = z
  .enum(['true', 'false'], { error: 'expected true or false' })
  .default('false')
  .transform((value) => value === 'true');

const envSchema = z.object({
  LIVEKIT_URL: url(['ws:', 'wss:'], 'the LiveKit server URL (ws:// or wss://)'),
  LIVEKIT_API_KEY: z.string(required('the LiveKit API key')).min(1),
  LIVEKIT_API_SECRET: z.string(required('the LiveKit API secret')).min(1),
  ORACLE_BACKEND_URL: url(['http:', 'https:'], 'the oracle-call backend URL'),
  AGENT_API_KEY: z.string(required('the API key the backend expects in x-api-key')).min(32, 'AGENT_API_KEY must be at least 32 characters'),
  ORACLE_PRIVATE_KEY: z.string().optional(),
  ORACLE_PRIVATE_KEY_FILE: z.string().optional(),
  LIVEKIT_AGENT_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .default('oracle'),
  ORACLE_BRAIN: z.enum(['echo', 'openai']).default('echo'),
  OPENAI_BASE_URL: z.string().url().optional(),
  OPENAI_API_KEY: z.string().optional(),
  OPENAI_LLM_MODEL: z.string().default('gpt-4o-mini'),
  OPENAI_STT_MODEL: z.string().default('whisper-1'),
  OPENAI_TTS_MODEL: z.string().default('tts-1'),
  OPENAI_TTS_VOICE: z.string().default('alloy'),
  // Most OpenAI-compatible servers have only POST /v1/audio/transcriptions, not the realtime WebSocket.
  OPENAI_STT_REALTIME: flag,
  ORACLE_INSTRUCTIONS: z.string().default('You are a helpful oracle. Answer briefly and kindly.'),
  KEY_FETCH_ATTEMPTS: z.coerce.number().int().min(1).max(10).default(4),
  KEY_FETCH_BUDGET_SECONDS: z.coerce.number().int().min(1).max(600).default(90),
  AGENT_JOIN_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
  // The framework treats 0 as "its default" (up to 4), so at least one warm process is asked for.
  AGENT_IDLE_PROCESSES: z.coerce.number().int().min(1).max(16).optional(),
  AGENT_MAX_CALLS: z.coerce.number().int().min(1).max(256).optional(),
  AGENT_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(8081),
  AGENT_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
  AGENT_LOG_CONVERSATION: flag,
});

export interface OpenAiSettings {
  readonly baseUrl?: string;
  readonly apiKey?: string;
  readonly llmModel: string;
  readonly sttModel: string;
  readonly ttsModel: string;
  readonly ttsVoice: string;
  /** Speech-to-text over the realtime WebSocket instead of POST /v1/audio/transcriptions. */
  readonly sttRealtime: boolean;
  readonly instructions: string;
}

export interface AgentConfig {
  readonly livekit: { readonly url: string; readonly apiKey: string; readonly apiSecret: string };
  readonly backendUrl: string;
  readonly agentApiKey: string;
  /** 64 hex characters; never logged. */
  readonly oraclePrivateKey: string;
  /** The public key that belongs to it (base58btc), for the start-up log line. */
  readonly oraclePublicKey: string;
  readonly agentName: string;
  readonly brain: 'echo' | 'openai';
  readonly openai: OpenAiSettings;
  readonly keyFetchAttempts: number;
  /** The longest the key handoff may take in all, waits the backend asks for (Retry-After) included. */
  readonly keyFetchBudgetMs: number;
  /** How long the oracle waits in the room for the person before it leaves (`no_show`). */
  readonly joinTimeoutMs: number;
  /** Job processes kept warm for the next calls. */
  readonly idleProcesses: number;
  /** Calls the worker takes at once; its load is the share of these in use. */
  readonly maxCalls: number;
  /** The worker's health endpoint. */
  readonly httpPort: number;
  readonly logLevel: string;
  /** Conversation text in debug and trace records (never above, never by default). */
  readonly logConversation: boolean;
}

/**
 * Calls per CPU core when AGENT_MAX_CALLS is not set. An echo call costs the agent about 0.12–0.15 of
 * a core (bench:agent), and the job processes, the VAD and the E2EE need room to breathe: two per core
 * keeps every call's audio on time on a small host.
 */
export const CALLS_PER_CORE = 2;

/**
 * Warm job processes when AGENT_IDLE_PROCESSES is not set: one per call slot, up to this many. The
 * framework starts job processes one at a time (about 1.5 CPU-s each), so a burst of calls beyond the
 * warm ones waits for them in turn; each warm one holds a job process's memory (bench/README.md).
 */
export const MAX_DEFAULT_IDLE_PROCESSES = 4;

export class AgentConfigError extends Error {
  override readonly name = 'AgentConfigError';
}

function privateKeyFrom(env: z.infer<typeof envSchema>, problems: string[]): string | undefined {
  if (env.ORACLE_PRIVATE_KEY && env.ORACLE_PRIVATE_KEY_FILE) {
    problems.push('ORACLE_PRIVATE_KEY and ORACLE_PRIVATE_KEY_FILE: set one, not both');
    return undefined;
  }
  let value = env.ORACLE_PRIVATE_KEY;
  let source = 'ORACLE_PRIVATE_KEY';
  if (env.ORACLE_PRIVATE_KEY_FILE) {
    source = 'ORACLE_PRIVATE_KEY_FILE';
    try {
      value = readFileSync(env.ORACLE_PRIVATE_KEY_FILE, 'utf8').trim();
    } catch (error) {
      problems.push(`ORACLE_PRIVATE_KEY_FILE: cannot read ${env.ORACLE_PRIVATE_KEY_FILE} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      return undefined;
    }
  }
  if (value === undefined) {
    problems.push('ORACLE_PRIVATE_KEY or ORACLE_PRIVATE_KEY_FILE: required: the oracle private key (64 hex; npx oracle-call keygen)');
    return undefined;
  }
  try {
    parsePrivateKey(value);
    return value.trim().toLowerCase();
  } catch {
    problems.push(`${source}: not an oracle private key (expected 64 hex characters of a valid secp256k1 key; npx oracle-call keygen)`);
    return undefined;
  }
}

export function loadAgentConfig(env: Record<string, string | undefined> = process.env): AgentConfig {
  const parsed = envSchema.safeParse(env);
  const problems = parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  const privateKey = parsed.success ? privateKeyFrom(parsed.data, problems) : undefined;
  if (parsed.success && parsed.data.ORACLE_BRAIN === 'openai' && !parsed.data.OPENAI_BASE_URL && !parsed.data.OPENAI_API_KEY) {
    problems.push('ORACLE_BRAIN=openai: set OPENAI_BASE_URL (a local OpenAI-compatible server) and/or OPENAI_API_KEY');
  }
  if (!parsed.success || privateKey === undefined || problems.length > 0) {
    throw new AgentConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const e = parsed.data;
  const maxCalls = e.AGENT_MAX_CALLS ?? CALLS_PER_CORE * availableParallelism();
  return {
    livekit: { url: e.LIVEKIT_URL, apiKey: e.LIVEKIT_API_KEY, apiSecret: e.LIVEKIT_API_SECRET },
    backendUrl: e.ORACLE_BACKEND_URL.replace(/\/+$/, ''),
    agentApiKey: e.AGENT_API_KEY,
    oraclePrivateKey: privateKey,
    oraclePublicKey: publicKeyFromPrivateKey(privateKey),
    agentName: e.LIVEKIT_AGENT_NAME,
    brain: e.ORACLE_BRAIN,
    openai: {
      ...(e.OPENAI_BASE_URL ? { baseUrl: e.OPENAI_BASE_URL } : {}),
      ...(e.OPENAI_API_KEY ? { apiKey: e.OPENAI_API_KEY } : {}),
      llmModel: e.OPENAI_LLM_MODEL,
      sttModel: e.OPENAI_STT_MODEL,
      ttsModel: e.OPENAI_TTS_MODEL,
      ttsVoice: e.OPENAI_TTS_VOICE,
      sttRealtime: e.OPENAI_STT_REALTIME,
      instructions: e.ORACLE_INSTRUCTIONS,
    },
    keyFetchAttempts: e.KEY_FETCH_ATTEMPTS,
    keyFetchBudgetMs: e.KEY_FETCH_BUDGET_SECONDS * 1000,
    joinTimeoutMs: e.AGENT_JOIN_TIMEOUT_SECONDS * 1000,
    idleProcesses: e.AGENT_IDLE_PROCESSES ?? Math.min(maxCalls, MAX_DEFAULT_IDLE_PROCESSES),
    maxCalls,
    httpPort: e.AGENT_HTTP_PORT,
    logLevel: e.AGENT_LOG_LEVEL,
    logConversation: e.AGENT_LOG_CONVERSATION,
  };
}
