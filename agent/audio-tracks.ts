/** Finding the person's microphone track, and the oracle's own voice track. */
import { AudioSource, LocalAudioTrack, RoomEvent, TrackKind, TrackPublishOptions, TrackSource } from '@livekit/rtc-node';
import type { RemoteParticipant, RemoteTrack, Room } from '@livekit/rtc-node';

export const VOICE_SAMPLE_RATE = 48_000;

/**
 * Calls `onTrack` with the participant's audio track now (when one is subscribed) and with each one
 * subscribed later: a microphone switched in a call, or published again after a reconnection, is a new
 * track. Stops listening when `signal` aborts.
 */
export function followUserAudio(room: Room, user: RemoteParticipant, signal: AbortSignal, onTrack: (track: RemoteTrack) => void): void {
  if (signal.aborted) return;
  for (const publication of user.trackPublications.values()) {
    if (publication.kind === TrackKind.KIND_AUDIO && publication.track) {
      onTrack(publication.track as RemoteTrack);
      break;
    }
  }
  const onSubscribed = (track: RemoteTrack, _publication: unknown, participant: RemoteParticipant) => {
    if (track.kind === TrackKind.KIND_AUDIO && participant.identity === user.identity) onTrack(track);
  };
  room.on(RoomEvent.TrackSubscribed, onSubscribed);
  signal.addEventListener('abort', () => room.off(RoomEvent.TrackSubscribed, onSubscribed), { once: true });
}

export interface OracleVoice {
  readonly source: AudioSource;
  /** The published track's id (transcript entries name the track they transcribe). */
  readonly trackSid: string | undefined;
  close(): Promise<void>;
}

/**
 * Publishes the oracle's voice track (as a microphone, so clients treat it as speech). Frames given to
 * its source must have `sampleRate`; the native side resamples them for Opus.
 */
export async function publishVoice(room: Room, sampleRate = VOICE_SAMPLE_RATE): Promise<OracleVoice> {
  const source = new AudioSource(sampleRate, 1);
  const track = LocalAudioTrack.createAudioTrack('oracle-voice', source);
  const options = new TrackPublishOptions();
  options.source = TrackSource.SOURCE_MICROPHONE;
  const publication = await room.localParticipant!.publishTrack(track, options);
  return {
    source,
    trackSid: publication.sid,
    async close() {
      await track.close().catch(() => {});
      await source.close().catch(() => {});
    },
  };
}
