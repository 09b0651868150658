/**
 * An oracle that talks: the agents framework's voice pipeline with OpenAI-compatible speech-to-text,
 * language model and text-to-speech. `OPENAI_BASE_URL` points it at any compatible server (a local
 * one works); `OPENAI_API_KEY` is sent when set.
 *
 * The framework publishes the oracle's state (`lk.agent.state`), the transcript (`lk.transcription`
 * text streams, for the person's words and the oracle's) and answers text sent on `lk.chat`. When the
 * voice session closes on an error it cannot recover from, the oracle says why (`oracle.ended`) and
 * leaves, so the person is never left with a silent oracle.
 */
import { voice } from '@livekit/agents';
import type { VAD } from '@livekit/agents';
import * as openai from '@livekit/agents-plugin-openai';
import { ORACLE_ENDED_ATTRIBUTE } from '../../protocol/index.ts';
import type { OracleEndReason } from '../../protocol/index.ts';
import type { CallChoices, CallSession, OracleBrain } from '../oracle-brain.ts';
import type { OpenAiSettings } from '../config.ts';

/** The reason the person is given for an error that closed the voice session. */
export function endReasonFor(errorType: string | undefined): OracleEndReason {
  return errorType === 'stt_error' ? 'cannot-hear' : 'cannot-answer';
}

export class OpenAiBrain implements OracleBrain {
  readonly stt: openai.STT;
  readonly llm: openai.LLM;
  readonly tts: openai.TTS;

  private readonly settings: OpenAiSettings;
  private readonly vad: VAD;

  constructor(settings: OpenAiSettings, vad: VAD, choices: CallChoices = {}) {
    this.settings = settings;
    this.vad = vad;
    const client = { ...(settings.baseUrl ? { baseURL: settings.baseUrl } : {}), ...(settings.apiKey ? { apiKey: settings.apiKey } : { apiKey: 'unused' }) };
    this.stt = new openai.STT({
      ...client,
      model: settings.sttModel,
      useRealtime: settings.sttRealtime,
      ...(choices.language ? { language: choices.language } : {}),
    });
    this.llm = new openai.LLM({ ...client, model: settings.llmModel });
    this.tts = new openai.TTS({ ...client, model: settings.ttsModel, voice: (choices.voice ?? settings.ttsVoice) as openai.TTSOptions['voice'] });
  }

  async run(session: CallSession): Promise<void> {
    const { room, log, signal } = session;
    const agentSession = new voice.AgentSession({ vad: this.vad, stt: this.stt, llm: this.llm, tts: this.tts });
    const failed = new Promise<OracleEndReason>((resolve) => {
      agentSession.on(voice.AgentSessionEventTypes.Close, (event) => {
        if (event.reason === voice.CloseReason.ERROR) resolve(endReasonFor(event.error?.type));
      });
    });
    const ended = new Promise<undefined>((resolve) => signal.addEventListener('abort', () => resolve(undefined), { once: true }));
    await agentSession.start({
      agent: new voice.Agent({ instructions: this.settings.instructions }),
      room,
      inputOptions: { participantIdentity: session.user.identity },
    });
    const reason = await Promise.race([failed, ended]);
    if (reason !== undefined) {
      log.error({ reason }, 'the voice session failed; telling the person and leaving the call');
      await room.localParticipant?.setAttributes({ [ORACLE_ENDED_ATTRIBUTE]: reason }).catch(() => {});
      return;
    }
    await agentSession.close();
  }
}
