/**
 * Step 9 of the call (README, "How a call works"): the call key, still encrypted, comes with the
 * dispatch and from the backend's key route (asked with the agent API key, which confirms the call);
 * it is decrypted with the oracle's private key. The answer is parsed with the API's schema
 * (`protocol/api/`): one that does not match is refused naming the route and the field. A failed
 * request is retried a bounded number of times (not when the answer is final: a wrong API key, an
 * unknown or ended call, an answer that does not match the API); a key that does not decrypt is
 * reported to the backend so the call's status says why the oracle stayed out. An answer that says
 * when to come back (429 or 503 with Retry-After, e.g. a limiter on a proxy in front of the backend) is
 * waited for as asked, without using up an attempt, within a total budget (KEY_FETCH_BUDGET_SECONDS)
 * longer than a limiter's one-minute window.
 */
import '../protocol/schema-messages.ts';
import { backoffDelay, decryptCallKey, encryptCallKey, generateCallKey, sleep } from '../protocol/index.ts';
import { API_ROUTES, AnswerMismatchError, parseAnswer, routePath } from '../protocol/api/index.ts';
import { dispatchMetadata } from '../protocol/api/dispatch-metadata.ts';
import type { CallType } from '../protocol/index.ts';
import type { AgentEndReason, AgentFailureReason, KeyAnswer, UpdateBody } from '../protocol/api/index.ts';
import type { AgentConfig } from './config.ts';

export class HandoffError extends Error {
  override readonly name = 'HandoffError';

  readonly reason: AgentFailureReason;
  /** Whether asking again may help (the backend unreachable or failing for a moment). */
  readonly retryable: boolean;
  /** The wait the backend asked for (Retry-After), when it did. */
  readonly retryAfterMs: number | undefined;

  constructor(reason: AgentFailureReason, message: string, retryable = false, retryAfterMs?: number) {
    super(message);
    this.reason = reason;
    this.retryable = retryable;
    this.retryAfterMs = retryAfterMs;
  }
}

export interface CallKeyInfo {
  /** The plaintext call key (64 hex): lives in this process only, never logged. */
  readonly callKey: string;
  /** The caller's DID, proven for that user (absent when the event's DID was not). */
  readonly userDid?: string;
  /** A DID the event announced but nobody proved (the backend's USER_DID_POLICY=claim): never an identity. */
  readonly claimedUserDid?: string;
  readonly oracleDid: string;
  readonly callType: CallType;
  /** The voice and language the person chose (already checked by the backend against what the oracle offers). */
  readonly agentVoice?: string;
  readonly language?: string;
  /** The call's Matrix user, as the backend verified it. */
  readonly userId: string;
}

const FINAL: Partial<Record<number, AgentFailureReason>> = { 401: 'api_key_refused', 403: 'api_key_refused', 404: 'call_not_found', 410: 'call_ended' };

/** Retry-After in seconds (the backend's form; an HTTP date is not used here) as milliseconds, on 429 and 503. */
function retryAfterMs(response: Response): number | undefined {
  if (response.status !== 429 && response.status !== 503) return undefined;
  const seconds = Number(response.headers.get('retry-after') ?? Number.NaN);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

async function fetchOnce(config: AgentConfig, callId: string): Promise<KeyAnswer> {
  const route = API_ROUTES.callKey;
  let response: Response;
  try {
    response = await fetch(`${config.backendUrl}${routePath(route, { callId })}`, {
      headers: { 'x-api-key': config.agentApiKey },
      signal: AbortSignal.timeout(5000),
    });
  } catch (error) {
    throw new HandoffError('backend_unreachable', `the backend could not be reached (${(error as Error).message})`, true);
  }
  const body = (await response.json().catch(() => undefined)) as unknown;
  if (!response.ok) {
    const code = (body as { error?: { code?: unknown } } | undefined)?.error?.code;
    const detail = `${response.status} ${typeof code === 'string' ? code : ''}`.trim();
    const final = FINAL[response.status];
    throw new HandoffError(final ?? 'backend_error', `the backend refused the key request (${detail})`, final === undefined, retryAfterMs(response));
  }
  try {
    return parseAnswer(route, body);
  } catch (error) {
    if (error instanceof AnswerMismatchError) throw new HandoffError('backend_error', error.message);
    throw error;
  }
}

/**
 * Readies the key path in a job process before it takes a call (its prewarm): the first key request of
 * a fresh process otherwise loads fetch (undici), compiles the answer's schema and runs secp256k1, HKDF
 * and AES-GCM for the first time (JIT), hundreds of milliseconds on a busy host, all of it between the
 * dispatch and the oracle's join. Decrypts a key made here for the oracle's own public key, parses an
 * empty key answer, and asks the backend's `GET /health` (no credentials). Never throws.
 */
export async function warmKeyPath(config: AgentConfig): Promise<void> {
  try {
    decryptCallKey(encryptCallKey(generateCallKey(), config.oraclePublicKey), config.oraclePrivateKey);
    API_ROUTES.callKey.answer.safeParse({});
    dispatchMetadata.safeParse({});
    const response = await fetch(`${config.backendUrl}${routePath(API_ROUTES.health, {})}`, { signal: AbortSignal.timeout(2000) });
    await response.body?.cancel();
  } catch {
    // The call's own request says what is wrong, if anything is.
  }
}

/**
 * Asks the key route for the call's key answer (with the bounded retries above); throws
 * {@link HandoffError} with the reason. The backend answers only for a stored call that has not ended.
 */
export async function fetchKeyAnswer(
  config: AgentConfig,
  callId: string,
  onRetry: (attempt: number, error: HandoffError, delayMs: number) => void = () => {},
): Promise<KeyAnswer> {
  const policy = { attempts: config.keyFetchAttempts, baseDelayMs: 500, maxDelayMs: 4000 };
  const deadline = Date.now() + config.keyFetchBudgetMs;
  let failures = 0;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await fetchOnce(config, callId);
    } catch (error) {
      const failure = error as HandoffError;
      if (!failure.retryable) throw failure;
      // A wait the backend asked for is waited as asked and uses up no attempt; the budget bounds it.
      const asked = failure.retryAfterMs !== undefined;
      if (!asked) failures += 1;
      const delay = asked ? failure.retryAfterMs! : backoffDelay(policy, failures);
      if (failures >= policy.attempts || Date.now() + delay > deadline) throw failure;
      onRetry(attempt, failure, delay);
      await sleep(delay);
    }
  }
}

/** Decrypts a key answer's call key with the oracle's private key; throws {@link HandoffError} (`key_decryption_failed`). */
export function openCallKey(config: AgentConfig, answer: KeyAnswer): CallKeyInfo {
  let callKey: string;
  try {
    callKey = decryptCallKey(answer.encryptionKey, config.oraclePrivateKey);
  } catch {
    throw new HandoffError('key_decryption_failed', 'the call key could not be decrypted (wrong oracle key or tampered ciphertext)');
  }
  return {
    callKey,
    userId: answer.userId,
    ...(answer.userDid ? { userDid: answer.userDid } : {}),
    ...(answer.claimedUserDid ? { claimedUserDid: answer.claimedUserDid } : {}),
    oracleDid: answer.oracleDid,
    callType: answer.callType,
    ...(answer.agentVoice ? { agentVoice: answer.agentVoice } : {}),
    ...(answer.language ? { language: answer.language } : {}),
  };
}

/** Fetches and decrypts the call key (a dispatch without the key answer); throws {@link HandoffError} with the reason. */
export async function obtainCallKey(
  config: AgentConfig,
  callId: string,
  onRetry?: (attempt: number, error: HandoffError, delayMs: number) => void,
): Promise<CallKeyInfo> {
  return openCallKey(config, await fetchKeyAnswer(config, callId, onRetry));
}

/**
 * Whether the backend's key answer is the one the dispatch carried: the same encrypted key for the same
 * user and call type. Throws {@link HandoffError} (`backend_error`) when it is not.
 */
export function assertSameCall(dispatched: KeyAnswer, confirmed: KeyAnswer): void {
  const fields = ['encryptionKey', 'userId', 'callType', 'oracleDid'] as const;
  const differing = fields.find((field) => dispatched[field] !== confirmed[field]);
  if (differing) throw new HandoffError('backend_error', `the backend's call differs from the dispatch's (${differing})`);
}

/** Tells the backend the oracle could not join, so the call ends with that reason. Best effort. */
export async function reportFailure(config: AgentConfig, callId: string, reason: AgentEndReason): Promise<boolean> {
  const route = API_ROUTES.updateCall;
  const body: UpdateBody = { status: 'ended', reason };
  try {
    const response = await fetch(`${config.backendUrl}${routePath(route, { callId })}`, {
      method: route.method,
      headers: { 'x-api-key': config.agentApiKey, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(5000),
    });
    return response.ok;
  } catch {
    return false;
  }
}
