/**
 * The real media session, on livekit-client: local tracks from getUserMedia, a `Room` with end-to-end
 * encryption (`ExternalE2EEKeyProvider` keyed with the call key, the E2EE worker, room option
 * `encryption` as the Node agent uses), the oracle (identity `agent-…`, or LiveKit's agent kind),
 * its audio played and its video handed to the element, active speakers, devices.
 *
 * The element loads this module only when a call starts (dynamic import), so LiveKit is not in the
 * element's first load.
 */
import {
  ConnectionState,
  ExternalE2EEKeyProvider,
  ParticipantKind,
  Room,
  RoomEvent,
  LocalAudioTrack,
  LocalVideoTrack,
  Track,
  createLocalTracks,
  isE2EESupported,
  supportsAudioOutputSelection,
} from 'livekit-client';
import type { LocalTrack, Participant, RemoteParticipant, RemoteTrack, RemoteTrackPublication, TextStreamReader } from 'livekit-client';
import {
  AGENT_STATE_ATTRIBUTE,
  CHAT_TOPIC,
  ORACLE_ENDED_ATTRIBUTE,
  TRANSCRIBED_TRACK_ATTRIBUTE,
  TRANSCRIPTION_FINAL_ATTRIBUTE,
  TRANSCRIPTION_SEGMENT_ATTRIBUTE,
  TRANSCRIPTION_TOPIC,
  parseOracleEndReason,
  parseOracleState,
} from '../protocol/oracle-room.ts';
import { upsertEntry } from './conversation.ts';
import type { Speaker } from './conversation.ts';
import { CallError, CallErrorReason } from './errors.ts';
import { CAMERA_CAPTURE, EMPTY_SNAPSHOT, MEDIA_GONE, MICROPHONE_PROCESSING, liveTrack, mediaErrorReason, toDeviceOptions } from './media-session.ts';
import type {
  ConnectOptions,
  DeviceKind,
  EncryptionStatus,
  MediaSession,
  MediaSessionEvent,
  MediaSessionFactory,
  MediaSnapshot,
  PrepareOptions,
} from './media-session.ts';
import { abortError } from './retry.ts';

export interface LiveKitMediaSessionOptions {
  /**
   * Makes the E2EE worker. The default resolves `livekit-client/e2ee-worker` next to this module (what
   * bundlers rewrite); a Vite build can pass `() => new E2EEWorker()` from `livekit-client/e2ee-worker?worker`.
   */
  readonly createWorker?: () => Worker;
}

/**
 * The lobby's microphone or camera as LiveKit's, as `createLocalTracks` would have made it from the
 * same constraints: LiveKit manages it (mutes, switches devices, stops it) like one it opened itself.
 */
function lobbyTrack(track: MediaStreamTrack): LocalTrack {
  const deviceId = track.getSettings().deviceId;
  if (track.kind === 'audio') {
    const microphone = new LocalAudioTrack(track, { ...MICROPHONE_PROCESSING, deviceId }, false);
    microphone.source = Track.Source.Microphone;
    return microphone;
  }
  const camera = new LocalVideoTrack(track, { ...CAMERA_CAPTURE, deviceId }, false);
  camera.source = Track.Source.Camera;
  return camera;
}

function defaultWorker(): Worker {
  return new Worker(new URL('livekit-client/e2ee-worker', import.meta.url), { type: 'module' });
}

/** The oracle's agent joins as `agent-<job>` (LiveKit agents' default identity) with the agent kind. */
export function isOracleParticipant(participant: Participant): boolean {
  return participant.identity.startsWith('agent-') || participant.kind === ParticipantKind.AGENT;
}

export class LiveKitMediaSessionFactory implements MediaSessionFactory {
  constructor(private readonly options: LiveKitMediaSessionOptions = {}) {}

  isE2EESupported(): boolean {
    return isE2EESupported();
  }

  create(): MediaSession {
    return new LiveKitMediaSession(this.options);
  }
}

export class LiveKitMediaSession implements MediaSession {
  #snapshot: MediaSnapshot = { ...EMPTY_SNAPSHOT, canSelectSpeaker: supportsAudioOutputSelection() };
  readonly #listeners = new Set<(event: MediaSessionEvent) => void>();
  #tracks: LocalTrack[] = [];
  #room: Room | undefined;
  #worker: Worker | undefined;
  #oracleJoined = false;
  #closed = false;
  /** Why the E2EE worker failed to load, once it has (see connect). */
  #workerFailure: string | undefined;
  readonly #workerFailed = new EventTarget();
  readonly #audioElements = new Map<string, HTMLMediaElement>();
  #speaker: string | undefined;
  readonly #onDeviceChange = () => void this.#refreshDevices();

  constructor(private readonly options: LiveKitMediaSessionOptions = {}) {}

  get snapshot(): MediaSnapshot {
    return this.#snapshot;
  }

  subscribe(listener: (event: MediaSessionEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(event: MediaSessionEvent): void {
    for (const listener of this.#listeners) listener(event);
  }

  #track(kind: Track.Kind): LocalTrack | undefined {
    return this.#tracks.find((track) => track.kind === kind);
  }

  #oracle(): RemoteParticipant | undefined {
    return this.#room ? [...this.#room.remoteParticipants.values()].find(isOracleParticipant) : undefined;
  }

  #encryption(): EncryptionStatus {
    const room = this.#room;
    if (!room || room.state !== ConnectionState.Connected) return 'pending';
    const oracle = this.#oracle();
    if (oracle && [...oracle.trackPublications.values()].some((publication) => !publication.isEncrypted)) return 'not-encrypted';
    return room.isE2EEEnabled ? 'encrypted' : 'pending';
  }

  #update(change: Partial<MediaSnapshot> = {}): void {
    const audio = this.#track(Track.Kind.Audio);
    const video = this.#track(Track.Kind.Video);
    const oracle = this.#oracle();
    const oracleVideo = oracle?.getTrackPublication(Track.Source.Camera)?.videoTrack;
    const oracleAudio = oracle?.getTrackPublication(Track.Source.Microphone)?.audioTrack;
    this.#snapshot = {
      ...this.#snapshot,
      microphoneEnabled: audio !== undefined && !audio.isMuted,
      cameraEnabled: video !== undefined && !video.isMuted,
      localVideo: video && !video.isMuted ? video.mediaStreamTrack : null,
      oracleVideo: oracleVideo?.mediaStreamTrack ?? null,
      oracleAudio: oracleAudio?.mediaStreamTrack ?? null,
      encryption: this.#encryption(),
      ...change,
    };
    this.#emit({ type: 'change', snapshot: this.#snapshot });
  }

  async #refreshDevices(): Promise<void> {
    if (this.#closed) return;
    const devices = toDeviceOptions(await navigator.mediaDevices.enumerateDevices());
    const activeDevices: Partial<Record<DeviceKind, string>> = {};
    for (const track of this.#tracks) {
      const id = await track.getDeviceId(true);
      if (id) activeDevices[track.kind === Track.Kind.Audio ? 'audioinput' : 'videoinput'] = id;
    }
    if (this.#speaker) activeDevices.audiooutput = this.#speaker;
    this.#update({ devices, activeDevices });
  }

  async prepare(options: PrepareOptions): Promise<void> {
    const wanted = options.devices ?? {};
    const lobbyMicrophone = liveTrack(options.microphone);
    const lobbyCamera = options.callType === 'video' ? liveTrack(options.camera) : undefined;
    try {
      const audio = lobbyMicrophone ? false : { ...MICROPHONE_PROCESSING, ...(wanted.audioinput ? { deviceId: wanted.audioinput } : {}) };
      const video = options.callType === 'video' && !lobbyCamera ? (wanted.videoinput ? { deviceId: wanted.videoinput } : true) : false;
      const opened = audio || video ? await createLocalTracks({ audio, video }) : [];
      const taken = [lobbyMicrophone && lobbyTrack(lobbyMicrophone), lobbyCamera && lobbyTrack(lobbyCamera)].filter((track) => track !== undefined);
      this.#tracks = [...taken, ...opened];
    } catch (error) {
      throw new CallError(mediaErrorReason(error), error instanceof Error ? `${error.name}: ${error.message}` : String(error), { cause: error });
    }
    if (this.#closed) {
      for (const track of this.#tracks) track.stop();
      throw new DOMException('The session was closed', 'AbortError');
    }
    if (wanted.audiooutput) this.#speaker = wanted.audiooutput;
    navigator.mediaDevices.addEventListener('devicechange', this.#onDeviceChange);
    await this.#refreshDevices();
  }

  async connect(options: ConnectOptions, signal?: AbortSignal): Promise<void> {
    const keyProvider = new ExternalE2EEKeyProvider();
    const worker = (this.options.createWorker ?? defaultWorker)();
    this.#worker = worker;
    // A worker whose script cannot load (a page's Content-Security-Policy refusing it, say) fails
    // silently inside livekit-client: the call would wait for an oracle it can never hear.
    worker.addEventListener(
      'error',
      (event) => {
        this.#workerFailure = `the E2EE worker did not start (${event.message || 'its script could not be loaded'}): a page's Content-Security-Policy must allow its origin in worker-src, and blob: for an element loaded from another origin`;
        this.#workerFailed.dispatchEvent(new Event('failed'));
      },
      { once: true },
    );
    const room = new Room({
      adaptiveStream: true,
      dynacast: true,
      // livekit-client 2.x: `encryption` (its `e2ee` is the deprecated name of the same option).
      encryption: { keyProvider, worker },
      ...(this.#speaker ? { audioOutput: { deviceId: this.#speaker } } : {}),
    });
    this.#room = room;
    this.#wire(room);
    // Text arrives on the data channel, which the room's `encryption` option encrypts with the call key.
    room.registerTextStreamHandler(TRANSCRIPTION_TOPIC, (reader, sender) => void this.#readTranscription(reader, sender.identity));
    // A string key goes through PBKDF2, as the agent's shared key (the same 64 characters) does.
    await keyProvider.setKey(options.callKey);
    // Before connecting, so nothing is ever published unencrypted (it throws if E2EE is not configured).
    await room.setE2EEEnabled(true);
    try {
      await room.connect(options.url, options.token, { autoSubscribe: true });
    } catch (error) {
      if (signal?.aborted || this.#closed) throw abortError(signal);
      throw new CallError(CallErrorReason.ConnectionFailed, error instanceof Error ? error.message : String(error), { cause: error });
    }
    if (signal?.aborted || this.#closed) throw abortError(signal);
    for (const track of this.#tracks) await room.localParticipant.publishTrack(track);
    this.#update();
  }

  #wire(room: Room): void {
    const changed = () => this.#update();
    room
      .on(RoomEvent.ActiveSpeakersChanged, (speakers) => this.#update({ oracleSpeaking: speakers.some(isOracleParticipant) }))
      .on(RoomEvent.TrackSubscribed, (track, publication, participant) => this.#onSubscribed(track, publication, participant))
      .on(RoomEvent.TrackUnsubscribed, (track) => {
        track.detach();
        this.#audioElements.delete(track.sid ?? '');
        changed();
      })
      .on(RoomEvent.TrackPublished, changed)
      .on(RoomEvent.TrackMuted, changed)
      .on(RoomEvent.TrackUnmuted, changed)
      .on(RoomEvent.LocalTrackPublished, changed)
      .on(RoomEvent.ParticipantEncryptionStatusChanged, changed)
      .on(RoomEvent.MediaDevicesChanged, () => void this.#refreshDevices())
      .on(RoomEvent.AudioPlaybackStatusChanged, () => this.#update({ audioBlocked: !room.canPlaybackAudio }))
      .on(RoomEvent.ParticipantAttributesChanged, (_changed, participant) => this.#readOracleAttributes(participant))
      // An oracle already in the room set its attributes before we came: they arrive with it, not as a change.
      .on(RoomEvent.ParticipantConnected, (participant) => this.#readOracleAttributes(participant))
      .on(RoomEvent.ParticipantDisconnected, (participant) => {
        if (isOracleParticipant(participant) && this.#oracleJoined) this.#emit({ type: 'oracle-left' });
        changed();
      })
      .on(RoomEvent.Reconnecting, () => this.#emit({ type: 'reconnecting' }))
      .on(RoomEvent.SignalReconnecting, () => this.#emit({ type: 'reconnecting' }))
      .on(RoomEvent.Reconnected, () => {
        this.#emit({ type: 'reconnected' });
        changed();
      })
      .on(RoomEvent.Disconnected, (reason) => {
        if (!this.#closed) this.#emit({ type: 'disconnected', reason: String(reason ?? 'unknown') });
      });
  }

  /** Whose words a transcription stream carries: the person's own track's, or the oracle's. */
  #speakerOf(reader: TextStreamReader, identity: string): Speaker {
    const local = this.#room?.localParticipant;
    const track = reader.info.attributes?.[TRANSCRIBED_TRACK_ATTRIBUTE];
    if (identity === local?.identity) return 'you';
    if (track && local && [...local.trackPublications.values()].some((publication) => publication.trackSid === track)) return 'you';
    return 'oracle';
  }

  /** Folds a transcription stream into the transcript as it arrives; its end makes it final. */
  async #readTranscription(reader: TextStreamReader, identity: string): Promise<void> {
    const attributes = reader.info.attributes ?? {};
    const id = attributes[TRANSCRIPTION_SEGMENT_ATTRIBUTE] ?? reader.info.id;
    const speaker = this.#speakerOf(reader, identity);
    const finalAttribute = attributes[TRANSCRIPTION_FINAL_ATTRIBUTE] === 'true';
    let text = '';
    const show = (final: boolean) => {
      if (this.#closed || (!text && !final)) return;
      this.#update({ transcript: upsertEntry(this.#snapshot.transcript, { id, speaker, text, final }) });
    };
    try {
      for await (const chunk of reader) {
        text += chunk;
        show(finalAttribute);
      }
    } catch {
      // A stream cut short (the oracle left) keeps what arrived.
    }
    if (text) show(true);
  }

  async sendChat(text: string): Promise<void> {
    const room = this.#room;
    if (!room || room.state !== ConnectionState.Connected) throw new CallError(CallErrorReason.ConnectionLost, 'not connected');
    const info = await room.localParticipant.sendText(text, { topic: CHAT_TOPIC });
    this.#update({ transcript: upsertEntry(this.#snapshot.transcript, { id: info.id, speaker: 'you', text, final: true, typed: true }) });
  }

  #onSubscribed(track: RemoteTrack, _publication: RemoteTrackPublication, participant: RemoteParticipant): void {
    if (track.kind === Track.Kind.Audio) {
      // LiveKit plays the element it makes; it stays out of the DOM, held here until unsubscribed.
      const element = track.attach();
      this.#audioElements.set(track.sid ?? String(this.#audioElements.size), element);
    }
    if (isOracleParticipant(participant)) this.#readOracleAttributes(participant);
  }

  /** What the oracle says of itself in its participant attributes: its state, and why it left. */
  #readOracleAttributes(participant: Participant): void {
    if (!isOracleParticipant(participant)) return;
    const ended = parseOracleEndReason(participant.attributes[ORACLE_ENDED_ATTRIBUTE]);
    this.#update({ oracleState: parseOracleState(participant.attributes[AGENT_STATE_ATTRIBUTE]), ...(ended ? { oracleEndReason: ended } : {}) });
  }

  /** The oracle's audio, subscribed and encrypted, with our own media reported encrypted. */
  #oracleReady(): 'ready' | 'waiting' | 'not-encrypted' {
    const oracle = this.#oracle();
    const audio = oracle?.getTrackPublication(Track.Source.Microphone) ?? [...(oracle?.audioTrackPublications.values() ?? [])][0];
    if (!audio) return 'waiting';
    if (!audio.isEncrypted) return 'not-encrypted';
    if (!audio.track || !this.#room?.isE2EEEnabled) return 'waiting';
    return 'ready';
  }

  waitForOracle(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const room = this.#room;
      if (!room) return reject(new CallError(CallErrorReason.ConnectionFailed, 'not connected'));
      const events = [
        RoomEvent.TrackSubscribed,
        RoomEvent.TrackPublished,
        RoomEvent.ParticipantEncryptionStatusChanged,
        RoomEvent.ParticipantConnected,
      ] as const;
      const done = () => {
        for (const event of events) room.off(event, check);
        room.off(RoomEvent.Disconnected, onDisconnected);
        signal.removeEventListener('abort', onAbort);
        this.#workerFailed.removeEventListener('failed', onWorkerFailed);
      };
      const check = () => {
        const state = this.#oracleReady();
        if (state === 'waiting') return;
        done();
        if (state === 'not-encrypted') {
          reject(new CallError(CallErrorReason.NotEncrypted, "the oracle's audio is not end-to-end encrypted"));
        } else {
          this.#oracleJoined = true;
          this.#update();
          resolve();
        }
      };
      const onDisconnected = () => {
        done();
        reject(new CallError(CallErrorReason.ConnectionLost, 'the room disconnected before the oracle joined'));
      };
      const onAbort = () => {
        done();
        reject(abortError(signal));
      };
      const onWorkerFailed = () => {
        done();
        reject(new CallError(CallErrorReason.NotEncrypted, this.#workerFailure));
      };
      for (const event of events) room.on(event, check);
      room.on(RoomEvent.Disconnected, onDisconnected);
      signal.addEventListener('abort', onAbort, { once: true });
      if (this.#workerFailure) return onWorkerFailed();
      this.#workerFailed.addEventListener('failed', onWorkerFailed);
      check();
    });
  }

  async setMicrophoneEnabled(enabled: boolean): Promise<void> {
    const audio = this.#track(Track.Kind.Audio);
    if (audio) await (enabled ? audio.unmute() : audio.mute());
    this.#update();
  }

  async setCameraEnabled(enabled: boolean): Promise<void> {
    // A muted LiveKit camera track stops the camera (its light goes off); unmuting restarts it.
    const video = this.#track(Track.Kind.Video);
    if (video) await (enabled ? video.unmute() : video.mute());
    this.#update();
  }

  async selectDevice(kind: DeviceKind, deviceId: string): Promise<void> {
    if (kind === 'audiooutput') {
      this.#speaker = deviceId;
      if (this.#room) await this.#room.switchActiveDevice('audiooutput', deviceId);
    } else {
      await this.#track(kind === 'audioinput' ? Track.Kind.Audio : Track.Kind.Video)?.setDeviceId({ exact: deviceId });
    }
    await this.#refreshDevices();
  }

  async startAudio(): Promise<void> {
    await this.#room?.startAudio();
    this.#update({ audioBlocked: this.#room ? !this.#room.canPlaybackAudio : false });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    navigator.mediaDevices.removeEventListener('devicechange', this.#onDeviceChange);
    const room = this.#room;
    try {
      if (room) await room.disconnect(true);
    } finally {
      // A room that never connected leaves its E2EE worker running otherwise.
      this.#worker?.terminate();
      for (const track of this.#tracks) track.stop();
      for (const element of this.#audioElements.values()) element.srcObject = null;
      this.#audioElements.clear();
      // The transcript stays, so the person can read it once the call is over.
      this.#snapshot = { ...this.#snapshot, ...MEDIA_GONE };
      this.#emit({ type: 'change', snapshot: this.#snapshot });
    }
  }
}
