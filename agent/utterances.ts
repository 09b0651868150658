/**
 * Cuts the person's utterances out of what the oracle hears, with Silero voice activity detection.
 *
 * `@livekit/agents-plugin-silero` 1.9 hands out an END_OF_SPEECH frame that is a view into its own
 * buffer, and overwrites the start of that buffer right after emitting it, so by the time a reader gets
 * the event its first half second is already another part of the audio. The collector therefore keeps
 * its own copy of every sample it feeds the VAD, and takes the utterance from that copy: the event says
 * where the VAD is (`samplesIndex`, in the VAD's 16 kHz samples) and how long the speech is (the frame's
 * length), which together locate it exactly in the input.
 */
import { VADEventType } from '@livekit/agents';
import type { VAD, VADStream } from '@livekit/agents';
import type { AudioFrame } from '@livekit/rtc-node';

/** The sample rate Silero runs at (the plugin's default). */
const VAD_SAMPLE_RATE = 16_000;

/** The input of the last `limit` samples, addressed by absolute sample index. */
export class AudioHistory {
  private readonly chunks: { start: number; data: Int16Array }[] = [];
  private total = 0;

  private readonly limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  get length(): number {
    return this.total;
  }

  push(samples: Int16Array): void {
    this.chunks.push({ start: this.total, data: samples.slice() });
    this.total += samples.length;
    while (this.chunks.length > 1 && this.chunks[0]!.start + this.chunks[0]!.data.length < this.total - this.limit) this.chunks.shift();
  }

  /** Samples [from, to), as far as they are still kept. */
  range(from: number, to: number): Int16Array {
    const out = new Int16Array(Math.max(0, to - from));
    for (const { start, data } of this.chunks) {
      const lo = Math.max(from, start);
      const hi = Math.min(to, start + data.length);
      if (lo < hi) out.set(data.subarray(lo - start, hi - start), lo - from);
    }
    return out;
  }
}

export interface Utterance {
  readonly samples: Int16Array;
  readonly sampleRate: number;
}

/** Feeds frames to a VAD stream and yields each utterance (speech plus its padding) once it ends. */
export class UtteranceCollector {
  private readonly stream: VADStream;
  private readonly maxSeconds: number;
  /** Made with the first frame, which sets the input's sample rate. */
  private history: AudioHistory | undefined;
  private closed = false;
  private sampleRate: number | undefined;

  /** `maxSeconds`: how much input is kept (an utterance longer than this is cut to its end). */
  constructor(vad: VAD, maxSeconds = 70) {
    this.stream = vad.stream();
    this.maxSeconds = maxSeconds;
  }

  push(frame: AudioFrame): void {
    if (this.closed) return;
    this.sampleRate ??= frame.sampleRate;
    this.history ??= new AudioHistory(this.maxSeconds * frame.sampleRate);
    this.history.push(frame.data);
    this.stream.pushFrame(frame);
  }

  async *utterances(): AsyncGenerator<Utterance> {
    for await (const event of this.stream) {
      if (event.type !== VADEventType.END_OF_SPEECH || this.sampleRate === undefined || !this.history) continue;
      const length = event.frames.reduce((total, frame) => total + frame.samplesPerChannel, 0);
      const end = Math.min(this.history.length, Math.round(event.samplesIndex * (this.sampleRate / VAD_SAMPLE_RATE)));
      yield { samples: this.history.range(end - length, end), sampleRate: this.sampleRate };
    }
  }

  /** Ends the stream (once: a second close rejects inside the framework). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stream.close();
  }
}
