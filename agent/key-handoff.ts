/**
 * Step 9 of the call (README, "How a call works"): fetch the call key, still encrypted, from the backend with the agent API key,
 * and decrypt it with the oracle's private key. A failed request is retried a bounded number of times
 * (not when the answer is final: a wrong API key, an unknown or ended call); a key that does not
 * decrypt is reported to the backend so the call's status says why the oracle stayed out.
 */
import { decryptCallKey } from '../protocol/index.ts';
import type { AgentConfig } from './config.ts';

export type HandoffFailure =
  | 'backend_unreachable'
  | 'api_key_refused'
  | 'call_not_found'
  | 'call_ended'
  | 'backend_error'
  | 'key_decryption_failed';

export class HandoffError extends Error {
  override readonly name = 'HandoffError';

  constructor(
    readonly reason: HandoffFailure,
    message: string,
  ) {
    super(message);
  }
}

export interface CallKeyInfo {
  /** The plaintext call key (64 hex): lives in this process only, never logged. */
  readonly callKey: string;
  readonly userDid: string;
  readonly oracleDid: string;
  readonly callType: 'audio' | 'video';
}

interface KeyResponse {
  encryptionKey: string;
  userDid: string;
  oracleDid: string;
  callType?: 'audio' | 'video';
}

const FINAL: Record<number, HandoffFailure> = { 401: 'api_key_refused', 403: 'api_key_refused', 404: 'call_not_found', 410: 'call_ended' };

async function fetchOnce(config: AgentConfig, callId: string): Promise<KeyResponse> {
  let response: Response;
  try {
    response = await fetch(`${config.backendUrl}/calls/${encodeURIComponent(callId)}/key`, {
      headers: { 'x-api-key': config.agentApiKey },
      signal: AbortSignal.timeout(5000),
    });
  } catch (error) {
    throw new HandoffError('backend_unreachable', `the backend could not be reached (${(error as Error).message})`);
  }
  const body = (await response.json().catch(() => ({}))) as KeyResponse & { error?: { code?: string; message?: string } };
  if (response.ok) return body;
  const detail = `${response.status} ${body.error?.code ?? ''}`.trim();
  throw new HandoffError(FINAL[response.status] ?? 'backend_error', `the backend refused the key request (${detail})`);
}

/** Fetches and decrypts the call key; throws {@link HandoffError} with the reason. */
export async function obtainCallKey(
  config: AgentConfig,
  callId: string,
  onRetry: (attempt: number, error: HandoffError) => void = () => {},
): Promise<CallKeyInfo> {
  let answer: KeyResponse | undefined;
  for (let attempt = 1; !answer; attempt += 1) {
    try {
      answer = await fetchOnce(config, callId);
    } catch (error) {
      const failure = error as HandoffError;
      const final = ['api_key_refused', 'call_not_found', 'call_ended'].includes(failure.reason);
      if (final || attempt >= config.keyFetchAttempts) throw failure;
      onRetry(attempt, failure);
      await new Promise((resolve) => setTimeout(resolve, Math.min(4000, 250 * 2 ** attempt) * (0.5 + Math.random() / 2)));
    }
  }
  let callKey: string;
  try {
    callKey = decryptCallKey(answer.encryptionKey, config.oraclePrivateKey);
  } catch {
    throw new HandoffError('key_decryption_failed', 'the call key could not be decrypted (wrong oracle key or tampered ciphertext)');
  }
  return { callKey, userDid: answer.userDid, oracleDid: answer.oracleDid, callType: answer.callType === 'audio' ? 'audio' : 'video' };
}

/** Tells the backend the oracle could not join, so the call ends with that reason. Best effort. */
export async function reportFailure(config: AgentConfig, callId: string, reason: HandoffFailure): Promise<boolean> {
  try {
    const response = await fetch(`${config.backendUrl}/calls/${encodeURIComponent(callId)}/update`, {
      method: 'POST',
      headers: { 'x-api-key': config.agentApiKey, 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'ended', reason }),
      signal: AbortSignal.timeout(5000),
    });
    return response.ok;
  } catch {
    return false;
  }
}
