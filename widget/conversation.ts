/**
 * The conversation beside the voice: the oracle's state and the transcript (the person's words and
 * the oracle's, from the agent's `lk.transcription` text streams, and the chat the person typed).
 * Pure data and the one function that folds a stream's progress into the transcript.
 */
import { msg } from '@lit/localize';
import { ECHO_MARK } from '../protocol/oracle-room.ts';
import type { OracleState } from '../protocol/oracle-room.ts';

export type { OracleState };

export type Speaker = 'you' | 'oracle';

export interface TranscriptEntry {
  /** Stable while the entry grows: the transcription segment, or the chat message's stream. */
  readonly id: string;
  readonly speaker: Speaker;
  readonly text: string;
  /** Interim entries may still change; the end of a stream makes its entry final. */
  readonly final: boolean;
  /** Typed in the call rather than spoken. */
  readonly typed?: boolean;
  /** The echo oracle's mark: it said the person's voice back, it did not understand it. */
  readonly echo?: boolean;
}

/** At most this many entries are kept (the oldest go first): a long call stays light. */
export const TRANSCRIPT_LIMIT = 200;

/** The transcript with `entry` added, or replacing the entry with the same id where it stands. */
export function upsertEntry(transcript: readonly TranscriptEntry[], entry: TranscriptEntry): readonly TranscriptEntry[] {
  const marked: TranscriptEntry = entry.speaker === 'oracle' && entry.text.trim() === ECHO_MARK ? { ...entry, echo: true } : entry;
  const index = transcript.findIndex((existing) => existing.id === entry.id);
  if (index === -1) return [...transcript, marked].slice(-TRANSCRIPT_LIMIT);
  const next = transcript.slice();
  next[index] = marked;
  return next;
}

/** Words for the oracle's state: the label in the call and what a screen reader hears. */
export function oracleStateText(state: OracleState): string {
  switch (state) {
    case 'listening':
      return msg('The oracle is listening', { id: 'oracle-listening' });
    case 'thinking':
      return msg('The oracle is thinking', { id: 'oracle-thinking' });
    case 'speaking':
      return msg('The oracle is speaking', { id: 'oracle-speaking' });
  }
}
