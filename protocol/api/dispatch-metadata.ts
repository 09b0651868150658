/**
 * The agent dispatch's metadata: what the backend tells the oracle's agent, through LiveKit, when it
 * dispatches it into a call's room. It is the callId and the key answer (`GET /calls/:callId/key`) of
 * the stored call: the call key still encrypted to the oracle's public key, never in clear. The agent
 * can then open the key and join the room at once; it asks the key route all the same, while its room
 * connection is made, and says nothing in the call until the backend has confirmed it (README, "How a
 * call works").
 *
 * A dispatch whose metadata is a bare callId (a backend of before this format) is read too: the agent
 * then fetches the key first, as it did.
 *
 * Not exported from `protocol/api/index.ts`: only the backend and the agent use it, and the element,
 * which imports that index, would carry the schema.
 */
import * as z from '../schema.ts';
import { firstIssue } from './answers.ts';
import { keyAnswer } from './schemas.ts';
import type { KeyAnswer } from './schemas.ts';

export const dispatchMetadata = z.object({
  callId: z.string().check(z.minLength(1)),
  ...keyAnswer.shape,
});
export type DispatchMetadata = z.infer<typeof dispatchMetadata>;

/** The metadata of a call's dispatch, as JSON. */
export function encodeDispatchMetadata(callId: string, answer: KeyAnswer): string {
  return JSON.stringify({ callId, ...answer } satisfies DispatchMetadata);
}

/** What a dispatch says: the callId, and the key answer when the backend sent it along. */
export interface ReadDispatch {
  readonly callId: string;
  readonly answer?: KeyAnswer;
}

/**
 * Reads a dispatch's metadata: this format, or a bare callId. Throws an Error naming the field when it
 * is JSON that does not match (the callId itself is checked by the caller, with `parseCallId`).
 */
export function readDispatchMetadata(metadata: string): ReadDispatch {
  if (!metadata.startsWith('{')) return { callId: metadata };
  let json: unknown;
  try {
    json = JSON.parse(metadata);
  } catch {
    throw new Error('the dispatch metadata is not valid JSON');
  }
  const result = dispatchMetadata.safeParse(json);
  if (!result.success) {
    const { field, detail } = firstIssue(result.error);
    throw new Error(`the dispatch metadata does not match at "${field || '(body)'}": ${detail}`);
  }
  const { callId, ...answer } = result.data;
  return { callId, answer };
}
