/**
 * What the oracle says in the LiveKit room besides its voice, for the element and the agent alike.
 *
 * Participant attributes (`lk.agent.state`, `oracle.ended`) travel in LiveKit's signalling, which the
 * LiveKit server reads: it sees when the oracle listens, thinks or speaks, and why it left, but nothing
 * that was said. Text (the transcript, the chat) travels as data streams on the E2EE data channel
 * (the `encryption` room option), readable only with the call key.
 */

/** The agents framework's participant attribute for the oracle's state. */
export const AGENT_STATE_ATTRIBUTE = 'lk.agent.state';

export const ORACLE_STATES = ['listening', 'thinking', 'speaking'] as const;
export type OracleState = (typeof ORACLE_STATES)[number];

/** The framework's other values (`initializing`, `idle`) read as listening: the oracle is there, quiet. */
export function parseOracleState(value: string | undefined): OracleState | undefined {
  if (value === undefined) return undefined;
  return (ORACLE_STATES as readonly string[]).includes(value) ? (value as OracleState) : 'listening';
}

/** Set by the oracle just before it leaves a call it cannot carry on. */
export const ORACLE_ENDED_ATTRIBUTE = 'oracle.ended';

export const ORACLE_END_REASONS = ['cannot-hear', 'cannot-answer'] as const;
export type OracleEndReason = (typeof ORACLE_END_REASONS)[number];

export function parseOracleEndReason(value: string | undefined): OracleEndReason | undefined {
  return (ORACLE_END_REASONS as readonly string[]).includes(value ?? '') ? (value as OracleEndReason) : undefined;
}

/** The data-stream topics: the agents framework's transcription and chat. */
export const TRANSCRIPTION_TOPIC = 'lk.transcription';
export const CHAT_TOPIC = 'lk.chat';
/** Stream attributes of a transcription: `"true"` when final, the segment it belongs to, the track it transcribes. */
export const TRANSCRIPTION_FINAL_ATTRIBUTE = 'lk.transcription_final';
export const TRANSCRIPTION_SEGMENT_ATTRIBUTE = 'lk.segment_id';
export const TRANSCRIBED_TRACK_ATTRIBUTE = 'lk.transcribed_track_id';

/** The echo oracle's mark on what it says back (it has no speech recognition). */
export const ECHO_MARK = '(echo)';
