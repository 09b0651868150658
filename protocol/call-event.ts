/**
 * The Matrix call event `m.ixo.oracles_call`: its content schema, and the edit (`m.replace`) that
 * changes its status. Types come from the schemas, so the two cannot drift apart.
 */
import * as z from './schema.ts';
import { CALL_STATUSES } from './call-status.ts';
import { ROOM_NAME_PATTERN } from './call-id.ts';
import { ProtocolError } from './errors.ts';

export const CALL_EVENT_TYPE = 'm.ixo.oracles_call';

export const CALL_TYPES = ['audio', 'video'] as const;
export type CallType = (typeof CALL_TYPES)[number];

export function isCallType(value: unknown): value is CallType {
  return typeof value === 'string' && (CALL_TYPES as readonly string[]).includes(value);
}

const DID_PATTERN = /^did:[a-z0-9]+:[A-Za-z0-9._:%-]+$/;
const BASE58_PATTERN = /^[1-9A-HJ-NP-Za-km-z]+$/;
const VOICE_PATTERN = /^[A-Za-z0-9._-]+$/;
const LANGUAGE_PATTERN = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

const did = z.string().check(z.maxLength(512), z.regex(DID_PATTERN, 'expected a DID ("did:method:id")'));
const timestamp = z.iso.datetime({ offset: true });

/** The fields every version of the content carries; none of them may change after the first event. */
const callFields = {
  callType: z.enum(CALL_TYPES),
  callStartedAt: timestamp,
  encryptionKey: z.string().check(z.minLength(1), z.maxLength(1024), z.regex(BASE58_PATTERN, 'expected base58btc')),
  sessionId: z.string().check(z.minLength(1), z.maxLength(256)),
  /** The LiveKit room name (the seed's wire name; code calls it the room name). */
  roomId: z.string().check(z.regex(ROOM_NAME_PATTERN, 'expected a LiveKit room name (8 to 64 of A-Z a-z 0-9 _ -)')),
  userDid: did,
  oracleDid: did,
  /** The oracle's voice for this call, one of those the oracle announces (`GET /oracle`). */
  agentVoice: z.optional(z.string().check(z.minLength(1), z.maxLength(64), z.regex(VOICE_PATTERN, 'expected a voice name'))),
  /** The language the person speaks (BCP 47, e.g. `en`, `pt-BR`), one of those the oracle announces. */
  language: z.optional(z.string().check(z.regex(LANGUAGE_PATTERN, 'expected a BCP 47 language tag (en, pt-BR)'))),
};

/** Content of the event that starts a call. */
export const callEventContentSchema = z.object({
  ...callFields,
  callStatus: z.literal('pending'),
});
export type CallEventContent = z.infer<typeof callEventContentSchema>;

/** The whole content as an edit states it (`m.new_content`). */
export const callContentSchema = z.object({
  ...callFields,
  callStatus: z.enum(CALL_STATUSES),
  callId: z.optional(z.string().check(z.maxLength(512))),
  callEndedAt: z.optional(timestamp),
});
export type CallContent = z.infer<typeof callContentSchema>;

export const IMMUTABLE_CALL_FIELDS = Object.keys(callFields) as (keyof typeof callFields)[];

const relatesToSchema = z.object({
  rel_type: z.literal('m.replace'),
  event_id: z.string().check(z.minLength(1)),
});

/** Content of an edit event: the new content, and the relation to the original event. */
export const callEditContentSchema = z.object({
  'm.new_content': callContentSchema,
  'm.relates_to': relatesToSchema,
});
export type CallEditContent = z.infer<typeof callEditContentSchema>;

function describe(error: z.core.$ZodError): string {
  return error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'content'}: ${issue.message}`).join('; ');
}

/** Parses the content of a call's first event; throws `invalid_call_content` naming each bad field. */
export function parseCallEventContent(content: unknown): CallEventContent {
  const result = callEventContentSchema.safeParse(content);
  if (!result.success) throw ProtocolError.invalidCallContent(describe(result.error));
  return result.data;
}

/** Parses the content of an edit; throws `invalid_call_content` naming each bad field. */
export function parseCallEditContent(content: unknown): CallEditContent {
  const result = callEditContentSchema.safeParse(content);
  if (!result.success) throw ProtocolError.invalidCallContent(describe(result.error));
  return result.data;
}

/**
 * The content of an edit that gives the call a new status. The top level repeats the new content as
 * the fallback for clients that do not apply edits.
 */
export function makeCallEdit(
  originalEventId: string,
  current: CallContent,
  change: { callStatus: CallContent['callStatus']; callId?: string; callEndedAt?: string },
): CallEditContent & CallContent {
  const newContent: CallContent = {
    callType: current.callType,
    callStartedAt: current.callStartedAt,
    encryptionKey: current.encryptionKey,
    sessionId: current.sessionId,
    roomId: current.roomId,
    userDid: current.userDid,
    oracleDid: current.oracleDid,
    ...(current.agentVoice ? { agentVoice: current.agentVoice } : {}),
    ...(current.language ? { language: current.language } : {}),
    callStatus: change.callStatus,
    ...((change.callId ?? current.callId) ? { callId: change.callId ?? current.callId } : {}),
    ...((change.callEndedAt ?? current.callEndedAt) ? { callEndedAt: change.callEndedAt ?? current.callEndedAt } : {}),
  };
  return {
    ...newContent,
    'm.new_content': newContent,
    'm.relates_to': { rel_type: 'm.replace', event_id: originalEventId },
  };
}
