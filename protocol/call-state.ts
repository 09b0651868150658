/**
 * The current state of a call as Matrix shows it (`CallEventState`: the element's own UI lifecycle is
 * `CallState` in `widget/state.ts`), from its first event and the edits that relate to it.
 *
 * Only edits of the same type, that replace the original event, from the original sender or an allowed
 * account (the oracle's), with valid content that keeps every immutable field, and that follow the
 * status transitions count. They are applied oldest first (server timestamp, then event ID, as Matrix
 * orders edits), so the newest valid edit wins and a call that has ended stays ended.
 */
import { CALL_EVENT_TYPE, IMMUTABLE_CALL_FIELDS, callContentSchema, parseCallEventContent } from './call-event.ts';
import type { CallContent } from './call-event.ts';
import { canTransition } from './call-status.ts';
import type { CallStatus } from './call-status.ts';

/** The fields of a Matrix room event that the call state needs. */
export interface MatrixEventLike {
  readonly event_id: string;
  readonly type: string;
  readonly sender: string;
  readonly origin_server_ts: number;
  readonly content: unknown;
}

export interface IgnoredEdit {
  readonly eventId: string;
  readonly reason: string;
}

export interface CallEventState {
  readonly eventId: string;
  readonly sender: string;
  readonly status: CallStatus;
  readonly content: CallContent;
  /** The edit that set the current content, if any. */
  readonly lastEditEventId?: string;
  /** Edits that did not count, with why. */
  readonly ignored: readonly IgnoredEdit[];
}

export interface CallEventStateOptions {
  /** Matrix user IDs besides the original sender whose edits count (the oracle's account). */
  readonly editors?: readonly string[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function byMatrixEditOrder(a: MatrixEventLike, b: MatrixEventLike): number {
  if (a.origin_server_ts !== b.origin_server_ts) return a.origin_server_ts - b.origin_server_ts;
  return a.event_id < b.event_id ? -1 : a.event_id > b.event_id ? 1 : 0;
}

function whyNot(edit: MatrixEventLike, original: MatrixEventLike, current: CallContent, editors: ReadonlySet<string>): string | CallContent {
  if (edit.type !== CALL_EVENT_TYPE) return `type ${edit.type} is not ${CALL_EVENT_TYPE}`;
  if (!editors.has(edit.sender)) return `sender ${edit.sender} may not edit this call`;
  const content = isRecord(edit.content) ? edit.content : {};
  const relation = content['m.relates_to'];
  if (!isRecord(relation) || relation.rel_type !== 'm.replace' || relation.event_id !== original.event_id) {
    return 'not an m.replace of the call event';
  }
  const parsed = callContentSchema.safeParse(content['m.new_content']);
  if (!parsed.success) return 'm.new_content is not valid call content';
  const next = parsed.data;
  for (const field of IMMUTABLE_CALL_FIELDS) {
    if (next[field] !== current[field]) return `${field} may not change`;
  }
  if (next.callStatus !== current.callStatus && !canTransition(current.callStatus, next.callStatus)) {
    return `status may not go from ${current.callStatus} to ${next.callStatus}`;
  }
  if (current.callStatus === 'ended') return 'the call has ended';
  return next;
}

/** Throws `invalid_call_content` when the original event's content is not a valid new call. */
export function currentCallState(original: MatrixEventLike, edits: readonly MatrixEventLike[], options: CallEventStateOptions = {}): CallEventState {
  let content: CallContent = parseCallEventContent(original.content);
  let lastEditEventId: string | undefined;
  const ignored: IgnoredEdit[] = [];
  const editors = new Set([original.sender, ...(options.editors ?? [])]);
  for (const edit of [...edits].sort(byMatrixEditOrder)) {
    if (edit.event_id === original.event_id) continue;
    const verdict = whyNot(edit, original, content, editors);
    if (typeof verdict === 'string') {
      ignored.push({ eventId: edit.event_id, reason: verdict });
    } else {
      content = verdict;
      lastEditEventId = edit.event_id;
    }
  }
  return {
    eventId: original.event_id,
    sender: original.sender,
    status: content.callStatus,
    content,
    ...(lastEditEventId === undefined ? {} : { lastEditEventId }),
    ignored,
  };
}
