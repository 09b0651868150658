/**
 * The offline oracle: it listens (Silero voice activity detection) and, when the person stops
 * speaking, says their utterance back. In video calls it also shows the avatar, moving with its voice.
 */
import { VADEventType } from '@livekit/agents';
import type { VAD } from '@livekit/agents';
import { AudioFrame, AudioStream } from '@livekit/rtc-node';
import { publishAvatar } from '../avatar.ts';
import type { Avatar } from '../avatar.ts';
import { VOICE_SAMPLE_RATE, publishVoice, userAudioTrack } from '../audio-tracks.ts';
import type { CallSession, OracleBrain } from '../brain.ts';

/** 10 ms chunks at 48 kHz: what the audio source is fed. */
const CHUNK = VOICE_SAMPLE_RATE / 100;

function rms(samples: Int16Array): number {
  let sum = 0;
  for (const sample of samples) sum += sample * sample;
  return Math.sqrt(sum / Math.max(1, samples.length)) / 32768;
}

export class EchoBrain implements OracleBrain {
  constructor(private readonly vad: VAD) {}

  async run(session: CallSession): Promise<void> {
    const { room, signal, log } = session;
    const voice = await publishVoice(room);
    let level = 0;
    let avatar: Avatar | undefined;
    if (session.callType === 'video') avatar = await publishAvatar(room, () => (level *= 0.9));
    const vadStream = this.vad.stream();
    let vadClosed = false;
    const closeVad = () => {
      // Closing twice rejects inside the framework ("WritableStream is closed"): close once.
      if (vadClosed) return;
      vadClosed = true;
      vadStream.close();
    };
    try {
      const track = await userAudioTrack(room, session.user, signal);
      const audio = new AudioStream(track, VOICE_SAMPLE_RATE, 1);
      const reader = audio.getReader();
      signal.addEventListener('abort', () => void reader.cancel().catch(() => {}), { once: true });
      const pump = (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done || signal.aborted) break;
          vadStream.pushFrame(value);
        }
      })().catch((error: Error) => log.debug({ err: error.message }, 'audio stream closed'));
      signal.addEventListener('abort', closeVad, { once: true });
      for await (const event of vadStream) {
        if (signal.aborted) break;
        if (event.type !== VADEventType.END_OF_SPEECH) continue;
        const samples = event.frames.reduce((total, frame) => total + frame.samplesPerChannel, 0);
        log.info({ speechMs: Math.round((samples / VOICE_SAMPLE_RATE) * 1000) }, 'utterance heard, echoing it');
        for (const frame of event.frames) {
          for (let offset = 0; offset + CHUNK <= frame.data.length && !signal.aborted; offset += CHUNK) {
            const chunk = frame.data.slice(offset, offset + CHUNK);
            level = Math.max(level, Math.min(1, rms(chunk) * 4));
            await voice.source.captureFrame(new AudioFrame(chunk, frame.sampleRate, 1, CHUNK));
          }
        }
      }
      await pump;
    } finally {
      closeVad();
      await avatar?.stop();
      await voice.close();
    }
  }
}
