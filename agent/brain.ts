/**
 * The oracle's behaviour in a call, behind one interface, chosen by configuration: the offline echo
 * oracle (default) or an OpenAI-compatible voice pipeline.
 */
import type { VAD, log } from '@livekit/agents';
import type { RemoteParticipant, Room } from '@livekit/rtc-node';
import type { AgentConfig } from './config.ts';

/** The agents framework's logger (pino). */
export type Log = ReturnType<typeof log>;

export interface CallSession {
  /** Connected, with E2EE on. */
  readonly room: Room;
  /** The person in the call. */
  readonly user: RemoteParticipant;
  readonly callType: 'audio' | 'video';
  readonly log: Log;
  /** Aborted when the call ends (the user left, or the job shuts down). */
  readonly signal: AbortSignal;
}

export interface OracleBrain {
  /** Runs the oracle's side of the call until the session's signal aborts. */
  run(session: CallSession): Promise<void>;
}

/** What a job process loads once (in prewarm) and shares between its calls. */
export interface BrainResources {
  readonly vad: VAD;
}

export async function createBrain(config: AgentConfig, resources: BrainResources): Promise<OracleBrain> {
  if (config.brain === 'openai') {
    const { OpenAiBrain } = await import('./brains/openai.ts');
    return new OpenAiBrain(config.openai, resources.vad);
  }
  const { EchoBrain } = await import('./brains/echo.ts');
  return new EchoBrain(resources.vad);
}
