/**
 * The offline oracle: it listens (Silero voice activity detection) and, when the person stops
 * speaking, says their utterance back. In video calls it also shows the avatar, moving with its voice.
 * It publishes its state (listening, speaking) as the voice pipeline does, marks each echo "(echo)" in
 * the transcript (it has no speech recognition, so it cannot write down what was said), and answers a
 * chat message with the same text.
 */
import type { VAD } from '@livekit/agents';
import { AudioFrame, AudioStream } from '@livekit/rtc-node';
import { publishAvatar } from '../avatar.ts';
import type { Avatar } from '../avatar.ts';
import { followUserAudio, publishVoice } from '../audio-tracks.ts';
import type { RemoteTrack, Room } from '@livekit/rtc-node';
import type { OracleVoice } from '../audio-tracks.ts';
import type { CallSession, Log, OracleBrain } from '../oracle-brain.ts';
import { UtteranceCollector } from '../utterances.ts';
import { onChat, sendTranscript, setOracleState } from '../room-text.ts';
import { ECHO_MARK } from '../../protocol/index.ts';

/**
 * The echo oracle hears and speaks at Silero's own rate, 16 kHz (speech needs no more). The native side
 * resamples the person's 48 kHz audio for the stream, where the VAD plugin would otherwise resample it
 * in JavaScript and copy three times the samples per window (bench:agent: about a third of the job
 * process's CPU per call), and resamples the echo back up for Opus.
 */
const ECHO_SAMPLE_RATE = 16_000;

/**
 * The person's audio comes in 32 ms frames, not rtc-node's default 10 ms: one Silero window (512
 * samples at 16 kHz) per frame, so each frame is one FFI event decoded in JavaScript, one push into
 * the VAD and one inference, where 10 ms frames took about three of each per window (and the VAD
 * merged four frames per window). The end of speech is seen at most 22 ms later, against Silero's
 * 550 ms of silence.
 */
const ECHO_FRAME_MS = 32;

function rms(samples: Int16Array): number {
  let sum = 0;
  for (const sample of samples) sum += sample * sample;
  return Math.sqrt(sum / Math.max(1, samples.length)) / 32768;
}

export class EchoBrain implements OracleBrain {
  /** The voice track, published by `prepare` (or by `run` when it was not called). */
  #voice: Promise<OracleVoice> | undefined;

  readonly #vad: VAD;

  constructor(vad: VAD) {
    this.#vad = vad;
  }

  async prepare(room: Room, log: Log): Promise<void> {
    await this.#publish(room, log);
  }

  #publish(room: Room, log: Log): Promise<OracleVoice> {
    this.#voice ??= (async () => {
      const voice = await publishVoice(room, ECHO_SAMPLE_RATE);
      log.info({ trackSid: voice.trackSid }, 'voice published');
      await setOracleState(room, 'listening');
      return voice;
    })();
    return this.#voice;
  }

  async run(session: CallSession): Promise<void> {
    const { room, signal, log } = session;
    const voice = await this.#publish(room, log);
    const stopChat = onChat(room, session.user.identity, (text) => {
      log.debug('chat message, echoing it');
      void sendTranscript(room, text).catch(() => {});
    });
    let level = 0;
    let avatar: Avatar | undefined;
    if (session.callType === 'video') avatar = await publishAvatar(room, () => (level *= 0.9));
    const collector = new UtteranceCollector(this.#vad);
    try {
      // The person's latest microphone track is the one listened to: a new one (another device, a
      // republish after a reconnection) replaces the old one, into the same utterance collector.
      let reader: ReadableStreamDefaultReader<AudioFrame> | undefined;
      const listen = (track: RemoteTrack) => {
        void reader?.cancel().catch(() => {});
        const current = new AudioStream(track, { sampleRate: ECHO_SAMPLE_RATE, numChannels: 1, frameSizeMs: ECHO_FRAME_MS }).getReader();
        reader = current;
        log.info({ trackSid: track.sid }, "listening to the person's microphone");
        void (async () => {
          for (;;) {
            const { done, value } = await current.read();
            if (done || signal.aborted || reader !== current) break;
            collector.push(value);
          }
        })().catch((error: Error) => log.debug({ err: error.message }, 'audio stream closed'));
      };
      signal.addEventListener(
        'abort',
        () => {
          void reader?.cancel().catch(() => {});
          collector.close();
        },
        { once: true },
      );
      followUserAudio(room, session.user, signal, listen);
      for await (const utterance of collector.utterances()) {
        if (signal.aborted) break;
        log.info({ speechMs: Math.round((utterance.samples.length / utterance.sampleRate) * 1000) }, 'utterance heard, echoing it');
        await setOracleState(room, 'speaking');
        void sendTranscript(room, ECHO_MARK, voice.trackSid).catch(() => {});
        // 100 ms per frame handed to the source (it queues them and sends 10 ms at a time): each
        // captureFrame is a round trip to rtc-node's native side, which the call pays for in CPU.
        const chunk = utterance.sampleRate / 10;
        for (let offset = 0; offset < utterance.samples.length && !signal.aborted; offset += chunk) {
          const samples = utterance.samples.slice(offset, offset + chunk);
          level = Math.max(level, Math.min(1, rms(samples) * 4));
          await voice.source.captureFrame(new AudioFrame(samples, utterance.sampleRate, 1, samples.length));
        }
        // The source queues what it was given: the state turns back once the echo has been played.
        await voice.source.waitForPlayout();
        if (!signal.aborted) await setOracleState(room, 'listening');
      }
    } finally {
      stopChat();
      collector.close();
      await avatar?.stop();
      await voice.close();
    }
  }
}
