/**
 * An oracle that talks: the agents framework's voice pipeline with OpenAI-compatible speech-to-text,
 * language model and text-to-speech. `OPENAI_BASE_URL` points it at any compatible server (a local
 * one works); `OPENAI_API_KEY` is sent when set. Nothing here runs without such a server.
 */
import { voice } from '@livekit/agents';
import type { VAD } from '@livekit/agents';
import * as openai from '@livekit/agents-plugin-openai';
import type { CallSession, OracleBrain } from '../oracle-brain.ts';
import type { OpenAiSettings } from '../config.ts';

export class OpenAiBrain implements OracleBrain {
  readonly stt: openai.STT;
  readonly llm: openai.LLM;
  readonly tts: openai.TTS;

  constructor(
    private readonly settings: OpenAiSettings,
    private readonly vad: VAD,
  ) {
    const client = { ...(settings.baseUrl ? { baseURL: settings.baseUrl } : {}), ...(settings.apiKey ? { apiKey: settings.apiKey } : { apiKey: 'unused' }) };
    this.stt = new openai.STT({ ...client, model: settings.sttModel });
    this.llm = new openai.LLM({ ...client, model: settings.llmModel });
    this.tts = new openai.TTS({ ...client, model: settings.ttsModel, voice: settings.ttsVoice as openai.TTSOptions['voice'] });
  }

  async run(session: CallSession): Promise<void> {
    const agentSession = new voice.AgentSession({ vad: this.vad, stt: this.stt, llm: this.llm, tts: this.tts });
    await agentSession.start({
      agent: new voice.Agent({ instructions: this.settings.instructions }),
      room: session.room,
    });
    await new Promise<void>((resolve) => session.signal.addEventListener('abort', () => resolve(), { once: true }));
    await agentSession.close();
  }
}
