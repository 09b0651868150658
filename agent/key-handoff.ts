/**
 * Step 9 of the call (README, "How a call works"): fetch the call key, still encrypted, from the backend with the agent API key,
 * and decrypt it with the oracle's private key. The answer is parsed with the API's schema
 * (`protocol/api/`): one that does not match is refused naming the route and the field. A failed
 * request is retried a bounded number of times (not when the answer is final: a wrong API key, an
 * unknown or ended call, an answer that does not match the API); a key that does not decrypt is
 * reported to the backend so the call's status says why the oracle stayed out.
 */
import { decryptCallKey, withRetry } from '../protocol/index.ts';
import { API_ROUTES, AnswerMismatchError, parseAnswer, routePath } from '../protocol/api/index.ts';
import type { CallType } from '../protocol/index.ts';
import type { AgentFailureReason, KeyAnswer, UpdateBody } from '../protocol/api/index.ts';
import type { AgentConfig } from './config.ts';

export class HandoffError extends Error {
  override readonly name = 'HandoffError';

  constructor(
    readonly reason: AgentFailureReason,
    message: string,
    /** Whether asking again may help (the backend unreachable or failing for a moment). */
    readonly retryable = false,
  ) {
    super(message);
  }
}

export interface CallKeyInfo {
  /** The plaintext call key (64 hex): lives in this process only, never logged. */
  readonly callKey: string;
  readonly userDid: string;
  readonly oracleDid: string;
  readonly callType: CallType;
  /** The voice and language the person chose (already checked by the backend against what the oracle offers). */
  readonly agentVoice?: string;
  readonly language?: string;
  /** The call's Matrix user, as the backend verified it. */
  readonly userId: string;
}

const FINAL: Partial<Record<number, AgentFailureReason>> = { 401: 'api_key_refused', 403: 'api_key_refused', 404: 'call_not_found', 410: 'call_ended' };

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
    throw new HandoffError(final ?? 'backend_error', `the backend refused the key request (${detail})`, final === undefined);
  }
  try {
    return parseAnswer(route, body);
  } catch (error) {
    if (error instanceof AnswerMismatchError) throw new HandoffError('backend_error', error.message);
    throw error;
  }
}

/** Fetches and decrypts the call key; throws {@link HandoffError} with the reason. */
export async function obtainCallKey(
  config: AgentConfig,
  callId: string,
  onRetry: (attempt: number, error: HandoffError) => void = () => {},
): Promise<CallKeyInfo> {
  const answer = await withRetry(() => fetchOnce(config, callId), { attempts: config.keyFetchAttempts, baseDelayMs: 500, maxDelayMs: 4000 }, {
    onRetry: (attempt, error) => onRetry(attempt, error as HandoffError),
  });
  let callKey: string;
  try {
    callKey = decryptCallKey(answer.encryptionKey, config.oraclePrivateKey);
  } catch {
    throw new HandoffError('key_decryption_failed', 'the call key could not be decrypted (wrong oracle key or tampered ciphertext)');
  }
  return {
    callKey,
    userDid: answer.userDid,
    oracleDid: answer.oracleDid,
    callType: answer.callType,
    userId: answer.userId,
    ...(answer.agentVoice ? { agentVoice: answer.agentVoice } : {}),
    ...(answer.language ? { language: answer.language } : {}),
  };
}

/** Tells the backend the oracle could not join, so the call ends with that reason. Best effort. */
export async function reportFailure(config: AgentConfig, callId: string, reason: AgentFailureReason): Promise<boolean> {
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
