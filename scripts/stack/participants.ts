import { readFileSync } from 'node:fs';
/** LiveKit participants for tests, on `@livekit/rtc-node`, with shared-key E2EE as the product uses it. */
import {
  AudioFrame,
  AudioSource,
  AudioStream,
  EncryptionType,
  dispose,
  LocalAudioTrack,
  Room,
  RoomEvent,
  TrackKind,
  TrackPublishOptions,
  TrackSource,
} from '@livekit/rtc-node';
import type { RemoteTrack } from '@livekit/rtc-node';
import { AccessToken } from 'livekit-server-sdk';
import type { LiveKitServer } from '../services/livekit.ts';
import { sineFrame } from './tone.ts';

export const SAMPLE_RATE = 48_000;

export async function participantToken(livekit: LiveKitServer, room: string, identity: string): Promise<string> {
  const token = new AccessToken(livekit.apiKey, livekit.apiSecret, { identity, ttl: '10m' });
  token.addGrant({ room, roomJoin: true, canPublish: true, canSubscribe: true });
  return token.toJwt();
}

/** Joins with E2EE on, the key being the hex call key's UTF-8 bytes (PBKDF2 path, as the browser's string key). */
export async function joinEncrypted(livekit: LiveKitServer, roomName: string, identity: string, callKey: string): Promise<Room> {
  return joinCall(livekit.url, await participantToken(livekit, roomName, identity), callKey);
}

/** The room options of a participant with E2EE on, as the product joins: the hex call key's UTF-8 bytes as the shared key. */
export function encryptedRoomOptions(callKey: string) {
  return {
    autoSubscribe: true,
    dynacast: false,
    encryption: {
      keyProviderOptions: { sharedKey: new TextEncoder().encode(callKey) },
      encryptionType: EncryptionType.GCM,
    },
  };
}

export interface TonePublisher {
  stop(): Promise<void>;
}

/** Publishes a continuous sine tone in 10 ms frames until stopped. */
export async function publishTone(room: Room, frequency: number): Promise<TonePublisher> {
  const source = new AudioSource(SAMPLE_RATE, 1);
  const track = LocalAudioTrack.createAudioTrack('tone', source);
  const options = new TrackPublishOptions();
  options.source = TrackSource.SOURCE_MICROPHONE;
  await room.localParticipant!.publishTrack(track, options);
  const frameSamples = SAMPLE_RATE / 100;
  let running = true;
  const loop = (async () => {
    let sample = 0;
    while (running) {
      const data = sineFrame(frequency, SAMPLE_RATE, frameSamples, sample);
      sample += frameSamples;
      await source.captureFrame(new AudioFrame(data, SAMPLE_RATE, 1, frameSamples));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      await track.close();
      await source.close();
    },
  };
}

/** Resolves with the first remote audio track from `identity` (or any participant when omitted). */
export function firstRemoteAudioTrack(room: Room, identity?: string, timeoutMs = 15_000): Promise<RemoteTrack> {
  for (const participant of room.remoteParticipants.values()) {
    if (identity && participant.identity !== identity) continue;
    for (const publication of participant.trackPublications.values()) {
      if (publication.kind === TrackKind.KIND_AUDIO && publication.track) return Promise.resolve(publication.track as RemoteTrack);
    }
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      room.off(RoomEvent.TrackSubscribed, onTrack);
      reject(new Error(`no remote audio track${identity ? ` from ${identity}` : ''} within ${timeoutMs} ms`));
    }, timeoutMs);
    const onTrack = (track: RemoteTrack, _publication: unknown, participant: { identity: string }) => {
      if (track.kind !== TrackKind.KIND_AUDIO || (identity && participant.identity !== identity)) return;
      clearTimeout(timer);
      room.off(RoomEvent.TrackSubscribed, onTrack);
      resolve(track);
    };
    room.on(RoomEvent.TrackSubscribed, onTrack);
  });
}

/**
 * Reads 48 kHz mono frames from a track and hands each to `onFrame` until it returns true, the track
 * ends, or `timeoutMs` passes.
 */
async function readFrames(track: RemoteTrack, timeoutMs: number, onFrame: (data: Int16Array) => boolean): Promise<void> {
  const reader = new AudioStream(track, SAMPLE_RATE, 1).getReader();
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      const next = await Promise.race([
        reader.read(),
        new Promise<{ done: true; value: undefined }>((resolve) =>
          setTimeout(() => resolve({ done: true, value: undefined }), Math.max(0, deadline - Date.now())),
        ),
      ]);
      if (next.done || !next.value || onFrame(next.value.data)) break;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}

/** Collects `durationMs` of mono audio from a track, after skipping `skipMs` (jitter buffer warm-up). */
export async function recordAudio(track: RemoteTrack, durationMs: number, skipMs = 500, timeoutMs = 10_000): Promise<Int16Array> {
  const out = new Int16Array((SAMPLE_RATE * durationMs) / 1000);
  let skip = (SAMPLE_RATE * skipMs) / 1000;
  let filled = 0;
  await readFrames(track, timeoutMs, (data) => {
    const from = Math.min(skip, data.length);
    skip -= from;
    const take = Math.min(data.length - from, out.length - filled);
    out.set(data.subarray(from, from + take), filled);
    filled += take;
    return filled === out.length;
  });
  return out.subarray(0, filled);
}

/**
 * Disconnects the rooms and shuts the native LiveKit client down: without this the FFI keeps the
 * process (and the test runner) alive.
 */
export async function closeRtc(rooms: readonly Room[]): Promise<void> {
  // A room the server closed is already released on the native side: disconnecting it again passes
  // rtc-node a freed handle ("null pointer passed to rust", thrown outside any promise).
  await Promise.all(rooms.filter((room) => room.isConnected).map((room) => room.disconnect().catch(() => {})));
  await dispose();
}

/** Joins with a token the backend gave (the user's side of a real call), E2EE with the call key. */
export async function joinCall(url: string, token: string, callKey: string): Promise<Room> {
  const room = new Room();
  await room.connect(url, token, encryptedRoomOptions(callKey));
  return room;
}

/** Reads a 16-bit PCM mono WAV file. */
export function readWav(file: string): { samples: Int16Array; sampleRate: number } {
  const bytes = readFileSync(file);
  if (bytes.toString('ascii', 0, 4) !== 'RIFF' || bytes.toString('ascii', 8, 12) !== 'WAVE') throw new Error(`${file} is not a WAV file`);
  let offset = 12;
  let sampleRate = 0;
  while (offset + 8 <= bytes.length) {
    const id = bytes.toString('ascii', offset, offset + 4);
    const size = bytes.readUInt32LE(offset + 4);
    if (id === 'fmt ') sampleRate = bytes.readUInt32LE(offset + 12);
    if (id === 'data') {
      const data = bytes.subarray(offset + 8, offset + 8 + size);
      return { samples: new Int16Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.length)), sampleRate };
    }
    offset += 8 + size + (size % 2);
  }
  throw new Error(`${file} has no data chunk`);
}

export const UTTERANCE_WAV = new URL('../../test/fixtures/audio/utterance-16k.wav', import.meta.url).pathname;

/**
 * Speaks the utterance once (with a quiet marker tone mixed in, so its echo can be recognised), then
 * keeps sending silence until stopped, as a microphone would.
 */
export async function speakUtterance(room: Room, markerHz: number): Promise<TonePublisher & { spoken: Promise<void> }> {
  const { samples, sampleRate } = readWav(UTTERANCE_WAV);
  const source = new AudioSource(sampleRate, 1);
  const track = LocalAudioTrack.createAudioTrack('microphone', source);
  const options = new TrackPublishOptions();
  options.source = TrackSource.SOURCE_MICROPHONE;
  await room.localParticipant!.publishTrack(track, options);
  const frame = sampleRate / 100;
  let running = true;
  let resolveSpoken: () => void = () => {};
  const spoken = new Promise<void>((resolve) => (resolveSpoken = resolve));
  const loop = (async () => {
    for (let i = 0; running; i += frame) {
      const chunk = new Int16Array(frame);
      if (i + frame <= samples.length) {
        for (let j = 0; j < frame; j += 1) {
          chunk[j] = Math.round(samples[i + j]! * 0.8 + 0.12 * 32767 * Math.sin((2 * Math.PI * markerHz * (i + j)) / sampleRate));
        }
      } else if (i < samples.length + frame) {
        resolveSpoken();
      }
      await source.captureFrame(new AudioFrame(chunk, sampleRate, 1, frame));
    }
  })();
  return {
    spoken,
    async stop() {
      running = false;
      await loop;
      await track.close();
      await source.close();
    },
  };
}

/** Records until `durationMs` of audio louder than `minRms` has arrived, or `timeoutMs` passes. */
export async function recordLoudAudio(track: RemoteTrack, durationMs: number, timeoutMs: number, minRms = 500): Promise<Int16Array> {
  const out = new Int16Array((SAMPLE_RATE * durationMs) / 1000);
  let filled = 0;
  await readFrames(track, timeoutMs, (data) => {
    let energy = 0;
    for (const sample of data) energy += sample * sample;
    if (Math.sqrt(energy / data.length) < minRms) return false;
    const take = Math.min(data.length, out.length - filled);
    out.set(data.subarray(0, take), filled);
    filled += take;
    return filled === out.length;
  });
  return out.subarray(0, filled);
}
