/**
 * The DOM events `<oracle-call>` fires, their details (declared once here), and the one helper that
 * fires them: every event bubbles and is composed, so it crosses shadow roots to the page.
 */
import type { OracleState, TranscriptEntry } from './conversation.ts';
import type { CallErrorInfo } from './errors.ts';
import type { CallPhase, CallType, EndReason } from './state.ts';

export interface OracleCallStateDetail {
  readonly state: CallPhase;
  readonly previous: CallPhase;
  readonly callType?: CallType;
  readonly callId?: string;
}

export interface OracleCallEndedDetail {
  readonly callType: CallType;
  readonly callId?: string;
  readonly reason: EndReason;
  /** Whole seconds spent with the oracle (0 when it never joined). */
  readonly durationSeconds: number;
}

export interface OracleCallErrorDetail extends CallErrorInfo {
  readonly callType?: CallType;
  readonly callId?: string;
}

export interface OracleCallOracleStateDetail {
  /** undefined once the call is over. */
  readonly state: OracleState | undefined;
  readonly previous: OracleState | undefined;
}

export interface OracleCallTranscriptDetail {
  /** The entry that was added or changed (interim entries change until they are final). */
  readonly entry: TranscriptEntry;
  readonly transcript: readonly TranscriptEntry[];
}

export interface OracleCallEventDetails {
  'oracle-call-state': OracleCallStateDetail;
  'oracle-call-ended': OracleCallEndedDetail;
  'oracle-call-error': OracleCallErrorDetail;
  'oracle-call-oracle-state-change': OracleCallOracleStateDetail;
  'oracle-call-transcript': OracleCallTranscriptDetail;
}

export type OracleCallEventName = keyof OracleCallEventDetails;

declare global {
  interface GlobalEventHandlersEventMap {
    'oracle-call-state': CustomEvent<OracleCallStateDetail>;
    'oracle-call-ended': CustomEvent<OracleCallEndedDetail>;
    'oracle-call-error': CustomEvent<OracleCallErrorDetail>;
    'oracle-call-oracle-state-change': CustomEvent<OracleCallOracleStateDetail>;
    'oracle-call-transcript': CustomEvent<OracleCallTranscriptDetail>;
  }
}

/** Fires one of the element's events (bubbling and composed) and answers it. */
export function emit<K extends OracleCallEventName>(target: EventTarget, name: K, detail: OracleCallEventDetails[K]): CustomEvent<OracleCallEventDetails[K]> {
  const event = new CustomEvent(name, { detail, bubbles: true, composed: true });
  target.dispatchEvent(event);
  return event;
}
