/** Finding the person's microphone track, and the oracle's own voice track. */
import { AudioSource, LocalAudioTrack, RoomEvent, TrackKind, TrackPublishOptions, TrackSource } from '@livekit/rtc-node';
import type { RemoteParticipant, RemoteTrack, Room } from '@livekit/rtc-node';

export const VOICE_SAMPLE_RATE = 48_000;

/** Resolves with the participant's first audio track once subscribed; rejects when `signal` aborts. */
export function userAudioTrack(room: Room, user: RemoteParticipant, signal: AbortSignal): Promise<RemoteTrack> {
  for (const publication of user.trackPublications.values()) {
    if (publication.kind === TrackKind.KIND_AUDIO && publication.track) return Promise.resolve(publication.track as RemoteTrack);
  }
  return new Promise((resolve, reject) => {
    const onTrack = (track: RemoteTrack, _publication: unknown, participant: RemoteParticipant) => {
      if (track.kind !== TrackKind.KIND_AUDIO || participant.identity !== user.identity) return;
      cleanup();
      resolve(track);
    };
    const onAbort = () => {
      cleanup();
      reject(new Error('the call ended before the person published audio'));
    };
    const cleanup = () => {
      room.off(RoomEvent.TrackSubscribed, onTrack);
      signal.removeEventListener('abort', onAbort);
    };
    room.on(RoomEvent.TrackSubscribed, onTrack);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export interface OracleVoice {
  readonly source: AudioSource;
  /** The published track's id (transcript entries name the track they transcribe). */
  readonly trackSid: string | undefined;
  close(): Promise<void>;
}

/** Publishes the oracle's voice track (as a microphone, so clients treat it as speech). */
export async function publishVoice(room: Room): Promise<OracleVoice> {
  const source = new AudioSource(VOICE_SAMPLE_RATE, 1);
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
