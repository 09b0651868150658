/**
 * The person's side of a call for the agent benchmark, on `@livekit/rtc-node` with the call key (E2EE,
 * as the product and scripts/stack/participants.ts do it):
 *
 * - {@link joinAndWaitForOracle}: joins with listeners attached before connecting, so the moments the
 *   oracle joined and its voice track was subscribed are taken when they happen.
 * - {@link Speaker}: a microphone track that speaks the test utterance (test/fixtures, with the quiet
 *   marker tone of `speakUtterance`) on request, silence otherwise.
 * - {@link EchoListener}: reads the oracle's voice track without pause and cuts it into echoes (runs
 *   of loud 10 ms windows), noting when each began and every dropout inside it.
 */
import { AudioFrame, AudioSource, AudioStream, LocalAudioTrack, Room, RoomEvent, TrackKind, TrackPublishOptions, TrackSource } from '@livekit/rtc-node';
import type { RemoteParticipant, RemoteTrack, RemoteTrackPublication } from '@livekit/rtc-node';
import { UTTERANCE_WAV, encryptedRoomOptions, readWav } from '../../scripts/stack/participants.ts';

export const RECEIVE_RATE = 48_000;
/** Analysis window: 10 ms. */
const WINDOW = RECEIVE_RATE / 100;

export interface JoinedCall {
  readonly room: Room;
  readonly track: RemoteTrack;
  /** performance.now() when `room.connect` resolved. */
  readonly joinedAt: number;
  /** performance.now() when the oracle's participant was first seen (or `joinedAt` if it was already in). */
  readonly oracleSeenAt: number;
  /** performance.now() when the oracle's audio track was subscribed. */
  readonly subscribedAt: number;
}

/**
 * Joins the call's room with the token the backend gave and the call key, and waits for the oracle's
 * audio track. The room is handed to `onRoom` as soon as it exists, so the caller can close it even
 * when the wait fails.
 */
export async function joinAndWaitForOracle(url: string, token: string, callKey: string, onRoom: (room: Room) => void, timeoutMs: number): Promise<JoinedCall> {
  const room = new Room();
  onRoom(room);
  let oracleSeenAt: number | undefined;
  room.on(RoomEvent.ParticipantConnected, () => (oracleSeenAt ??= performance.now()));
  let timer: NodeJS.Timeout | undefined;
  const subscribed = new Promise<{ track: RemoteTrack; at: number }>((resolve, reject) => {
    const onTrack = (track: RemoteTrack, _publication: RemoteTrackPublication, _participant: RemoteParticipant) => {
      if (track.kind !== TrackKind.KIND_AUDIO) return;
      const at = performance.now();
      room.off(RoomEvent.TrackSubscribed, onTrack);
      clearTimeout(timer);
      resolve({ track, at });
    };
    room.on(RoomEvent.TrackSubscribed, onTrack);
    timer = setTimeout(() => {
      room.off(RoomEvent.TrackSubscribed, onTrack);
      reject(new Error(`no oracle audio track within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  subscribed.catch(() => {});
  try {
    await room.connect(url, token, encryptedRoomOptions(callKey));
  } catch (error) {
    clearTimeout(timer);
    throw error;
  }
  const joinedAt = performance.now();
  if (room.remoteParticipants.size > 0) oracleSeenAt ??= joinedAt;
  const { track, at } = await subscribed;
  return { room, track, joinedAt, oracleSeenAt: oracleSeenAt ?? at, subscribedAt: at };
}

let utterance: { samples: Int16Array; sampleRate: number } | undefined;

/** The utterance's length in seconds. */
export function utteranceSeconds(): number {
  utterance ??= readWav(UTTERANCE_WAV);
  return utterance.samples.length / utterance.sampleRate;
}

/** Where the voice in the utterance ends (seconds): after it, only the marker tone is sent. */
export function voiceEndSeconds(): number {
  utterance ??= readWav(UTTERANCE_WAV);
  let last = utterance.samples.length - 1;
  while (last > 0 && Math.abs(utterance.samples[last]!) < 100) last -= 1;
  return (last + 1) / utterance.sampleRate;
}

export interface Spoken {
  /** performance.now() when the utterance's last sample was sent. */
  readonly sentAt: number;
  /** Frames of the utterance that found the source's queue empty (its audio had a gap). */
  readonly starved: number;
}

/**
 * A microphone that sends silence and, when asked, the utterance with a marker tone mixed in (the same
 * signal as `speakUtterance` in scripts/stack/participants.ts, which speaks only once).
 *
 * When an utterance has been "spoken": `speakUtterance` resolves `spoken` once its last frame has been
 * handed to the AudioSource, but the source queues up to a second of audio ahead of what it sends, so
 * that moment comes up to ~1 s before the audio leaves. Here the moment is that hand-over plus what was
 * still queued at it (AudioSource.queuedDuration): the time the last sample is sent.
 */
export class Speaker {
  private running = true;
  private pending: { resolve: (spoken: Spoken) => void }[] = [];
  private current: { resolve: (spoken: Spoken) => void; at: number; starved: number } | undefined;
  private readonly loop: Promise<void>;
  /** How early `speakUtterance`'s notion of spoken would have been, per utterance (ms). */
  readonly queuedAtEnd: number[] = [];
  /**
   * Times the source ran dry in the middle of an utterance (its queue empty when the next frame came):
   * the simulated person's own audio had a gap, because this process (the load generator) was late.
   */
  starved = 0;

  private constructor(
    private readonly source: AudioSource,
    private readonly track: LocalAudioTrack,
    private readonly markerHz: number,
  ) {
    this.loop = this.run();
  }

  /**
   * Publishes the microphone and waits (up to `timeoutMs`) until the oracle has subscribed to it, so
   * that nothing said afterwards is lost while the oracle is still setting up its side.
   */
  static async start(room: Room, markerHz: number, timeoutMs = 10_000): Promise<Speaker> {
    utterance ??= readWav(UTTERANCE_WAV);
    const source = new AudioSource(utterance.sampleRate, 1);
    const track = LocalAudioTrack.createAudioTrack('microphone', source);
    const options = new TrackPublishOptions();
    options.source = TrackSource.SOURCE_MICROPHONE;
    let timer: NodeJS.Timeout | undefined;
    const subscribed = new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        room.off(RoomEvent.LocalTrackSubscribed, done);
        resolve();
      };
      room.on(RoomEvent.LocalTrackSubscribed, done);
      timer = setTimeout(done, timeoutMs);
    });
    await room.localParticipant!.publishTrack(track, options);
    const speaker = new Speaker(source, track, markerHz);
    await subscribed;
    return speaker;
  }

  /** Speaks the utterance from the next frame on; resolves once its last sample has been sent. */
  say(): Promise<Spoken> {
    return new Promise((resolve) => this.pending.push({ resolve }));
  }

  private async run(): Promise<void> {
    const { samples, sampleRate } = utterance!;
    const frame = sampleRate / 100;
    let markerPhase = 0;
    while (this.running) {
      const chunk = new Int16Array(frame);
      if (!this.current && this.pending.length > 0) this.current = { ...this.pending.shift()!, at: 0, starved: 0 };
      const speaking = this.current;
      if (speaking) {
        for (let j = 0; j < frame; j += 1) {
          const i = speaking.at + j;
          const voice = i < samples.length ? samples[i]! : 0;
          const marker = i < samples.length ? 0.12 * 32767 * Math.sin((2 * Math.PI * this.markerHz * (markerPhase + j)) / sampleRate) : 0;
          chunk[j] = Math.round(voice * 0.8 + marker);
        }
        if (speaking.at > 0 && this.source.queuedDuration === 0) {
          this.starved += 1;
          speaking.starved += 1;
        }
        speaking.at += frame;
        markerPhase += frame;
      }
      try {
        await this.source.captureFrame(new AudioFrame(chunk, sampleRate, 1, frame));
      } catch (error) {
        if (this.running) throw error;
        return;
      }
      if (speaking && speaking.at >= samples.length) {
        const queued = this.source.queuedDuration;
        this.queuedAtEnd.push(queued);
        speaking.resolve({ sentAt: performance.now() + queued, starved: speaking.starved });
        this.current = undefined;
      }
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop.catch(() => {});
    await this.track.close().catch(() => {});
    await this.source.close().catch(() => {});
  }
}

export interface Echo {
  /** performance.now() when the frame holding its first loud window was read. */
  readonly startAt: number;
  /** Position of its first loud window in the received stream (samples). */
  readonly startSample: number;
  /** From the first to the last loud window (ms of audio). */
  spanMs: number;
  /** The quiet runs inside it that were at least the dropout length (ms each). */
  readonly dropouts: number[];
  /** Where each dropout began, in ms from the echo's start. */
  readonly dropoutOffsets: number[];
  /** Still being received. */
  open: boolean;
}

export interface ListenerOptions {
  /** RMS (16-bit scale) above which a 10 ms window is loud. */
  readonly loudRms: number;
  /** A quiet run inside an echo at least this long is a dropout (ms). */
  readonly dropoutMs: number;
  /** A quiet run this long ends an echo (ms). */
  readonly endQuietMs: number;
}

/**
 * Reads the oracle's track continuously (the native side delivers 10 ms frames at the playout rate,
 * silence included, so the sample count is a timeline) and cuts it into echoes.
 */
export class EchoListener {
  readonly echoes: Echo[] = [];
  private readonly reader: ReadableStreamDefaultReader<AudioFrame>;
  private readonly loop: Promise<void>;
  private samplesSeen = 0;
  private partial = new Int16Array(WINDOW);
  private partialFill = 0;
  private quietRun = 0;
  private current: Echo | undefined;
  private lastLoudEnd = 0;
  private waiters: { after: number; resolve: (at: number) => void }[] = [];
  private stopped = false;
  /** Samples received so far, and when the last frame came: to check the stream keeps flowing. */
  framesRead = 0;

  constructor(
    track: RemoteTrack,
    private readonly options: ListenerOptions,
  ) {
    const stream = new AudioStream(track, RECEIVE_RATE, 1);
    this.reader = stream.getReader();
    this.loop = this.run();
  }

  get receivedSeconds(): number {
    return this.samplesSeen / RECEIVE_RATE;
  }

  /** Resolves with performance.now() of the first loud window read after `after`. */
  firstLoudAfter(after: number): Promise<number> {
    return new Promise((resolve) => this.waiters.push({ after, resolve }));
  }

  private async run(): Promise<void> {
    for (;;) {
      let next: ReadableStreamReadResult<AudioFrame>;
      try {
        next = await this.reader.read();
      } catch {
        break;
      }
      if (next.done || !next.value) break;
      const at = performance.now();
      this.framesRead += 1;
      const data = next.value.data;
      for (let i = 0; i < data.length; ) {
        const take = Math.min(WINDOW - this.partialFill, data.length - i);
        this.partial.set(data.subarray(i, i + take), this.partialFill);
        this.partialFill += take;
        i += take;
        if (this.partialFill === WINDOW) {
          this.window(this.partial, at);
          this.partialFill = 0;
        }
      }
    }
  }

  private window(samples: Int16Array, at: number): void {
    let energy = 0;
    for (const sample of samples) energy += sample * sample;
    const loud = Math.sqrt(energy / samples.length) >= this.options.loudRms;
    const position = this.samplesSeen;
    this.samplesSeen += samples.length;
    const toMs = (n: number) => (n / RECEIVE_RATE) * 1000;
    if (loud) {
      for (const waiter of [...this.waiters]) {
        if (at > waiter.after) {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          waiter.resolve(at);
        }
      }
      if (!this.current) {
        this.current = { startAt: at, startSample: position, spanMs: 0, dropouts: [], dropoutOffsets: [], open: true };
        this.echoes.push(this.current);
      } else if (toMs(this.quietRun) >= this.options.dropoutMs) {
        this.current.dropouts.push(toMs(this.quietRun));
        this.current.dropoutOffsets.push(toMs(this.lastLoudEnd - this.current.startSample));
      }
      this.quietRun = 0;
      this.lastLoudEnd = this.samplesSeen;
      this.current.spanMs = toMs(this.lastLoudEnd - this.current.startSample);
      return;
    }
    if (!this.current) return;
    this.quietRun += samples.length;
    if (toMs(this.quietRun) >= this.options.endQuietMs) {
      this.current.open = false;
      this.current = undefined;
      this.quietRun = 0;
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.reader.cancel().catch(() => {});
    await this.loop.catch(() => {});
  }
}
