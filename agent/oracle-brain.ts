/**
 * The oracle's behaviour in a call, behind one interface (implemented in `brains/`, chosen by
 * `brain.ts`).
 */
import type { VAD, log } from '@livekit/agents';
import type { RemoteParticipant, Room } from '@livekit/rtc-node';
import type { CallType } from '../protocol/index.ts';

/** The agents framework's logger (pino). */
export type Log = ReturnType<typeof log>;

export interface CallSession {
  /** Connected, with E2EE on. */
  readonly room: Room;
  /** The person in the call. */
  readonly user: RemoteParticipant;
  readonly callType: CallType;
  readonly log: Log;
  /** Aborted when the call ends (the user left, or the job shuts down). */
  readonly signal: AbortSignal;
}

export interface OracleBrain {
  /**
   * Called once the room is joined, before the person is there: readies what needs no person (the
   * echo oracle publishes its voice track). Optional.
   */
  prepare?(room: Room, log: Log): Promise<void>;
  /** Runs the oracle's side of the call until the session's signal aborts. */
  run(session: CallSession): Promise<void>;
}

/** What a job process loads once (in prewarm) and shares between its calls. */
export interface BrainResources {
  readonly vad: VAD;
}

/** What the person chose for the call (the echo oracle has neither a voice nor speech recognition to choose). */
export interface CallChoices {
  /** The text-to-speech voice, instead of OPENAI_TTS_VOICE. */
  readonly voice?: string;
  /** The language speech recognition listens for (BCP 47). */
  readonly language?: string;
}
