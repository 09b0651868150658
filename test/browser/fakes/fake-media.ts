/**
 * A MediaSession with real (synthetic) MediaStreamTracks, so tests can see the preview and check that
 * tracks are stopped; the oracle's arrival, speaking, leaving and the connection are driven by the test.
 */
import { CallError, CallErrorReason } from '../../../widget/errors.ts';
import { EMPTY_SNAPSHOT, MEDIA_GONE, liveTrack } from '../../../widget/media-session.ts';
import type {
  ConnectOptions,
  DeviceKind,
  MediaSession,
  MediaSessionEvent,
  MediaSessionFactory,
  MediaSnapshot,
  PrepareOptions,
} from '../../../widget/media-session.ts';
import type { CallType } from '../../../widget/state.ts';
import { Gate, pass } from './gate.ts';

function audioTrack(): MediaStreamTrack {
  const context = new AudioContext();
  const track = context.createMediaStreamDestination().stream.getAudioTracks()[0]!;
  track.addEventListener('ended', () => void context.close());
  return track;
}

function videoTrack(): MediaStreamTrack {
  const canvas = document.createElement('canvas');
  canvas.width = 64;
  canvas.height = 48;
  canvas.getContext('2d')!.fillRect(0, 0, 64, 48);
  return canvas.captureStream(5).getVideoTracks()[0]!;
}

export const DEVICES = {
  audioinput: [
    { deviceId: 'mic-1', label: 'Desk microphone' },
    { deviceId: 'mic-2', label: 'Headset microphone' },
  ],
  videoinput: [
    { deviceId: 'cam-1', label: 'Front camera' },
    { deviceId: 'cam-2', label: 'USB camera' },
  ],
  audiooutput: [
    { deviceId: 'spk-1', label: 'Speakers' },
    { deviceId: 'spk-2', label: 'Headphones' },
  ],
};

/** What the factory's sessions do; a test sets it before the call starts. */
export interface FakeMediaBehaviour {
  prepareError?: unknown;
  connectError?: unknown;
  prepareGate?: Gate;
  connectGate?: Gate;
  /** `auto`: the oracle joins right after connect; `manual`: when the test calls `oracleJoins()`. */
  oracle: 'auto' | 'manual';
  /** What LiveKit reports about encryption once connected. */
  encryption: MediaSnapshot['encryption'];
}

export class FakeMediaSession implements MediaSession {
  snapshot: MediaSnapshot = { ...EMPTY_SNAPSHOT, canSelectSpeaker: true };
  readonly listeners = new Set<(event: MediaSessionEvent) => void>();
  readonly tracks: MediaStreamTrack[] = [];
  readonly selected: [DeviceKind, string][] = [];
  callType: CallType | undefined;
  /** The devices the call was asked to use. */
  preparedWith: Partial<Record<DeviceKind, string>> | undefined;
  /** The microphone and camera the lobby handed over, if it did. */
  handedMicrophone: MediaStreamTrack | undefined;
  handedCamera: MediaStreamTrack | undefined;
  connectedWith: ConnectOptions | undefined;
  closed = false;
  closeCount = 0;
  #oracle = new Gate();

  constructor(private readonly behaviour: FakeMediaBehaviour) {}

  subscribe(listener: (event: MediaSessionEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: MediaSessionEvent): void {
    for (const listener of [...this.listeners]) listener(event);
  }

  change(change: Partial<MediaSnapshot>): void {
    this.snapshot = { ...this.snapshot, ...change };
    this.emit({ type: 'change', snapshot: this.snapshot });
  }

  async prepare(options: PrepareOptions): Promise<void> {
    this.callType = options.callType;
    this.preparedWith = options.devices;
    this.handedMicrophone = options.microphone;
    this.handedCamera = options.camera;
    await pass(this.behaviour.prepareGate);
    if (this.behaviour.prepareError) throw this.behaviour.prepareError;
    this.tracks.push(liveTrack(options.microphone) ?? audioTrack());
    if (options.callType === 'video') this.tracks.push(liveTrack(options.camera) ?? videoTrack());
    this.change({
      microphoneEnabled: true,
      cameraEnabled: options.callType === 'video',
      localVideo: this.tracks.find((t) => t.kind === 'video') ?? null,
      devices: DEVICES,
      activeDevices: { audioinput: 'mic-1', videoinput: 'cam-1', audiooutput: 'spk-1' },
    });
  }

  async connect(options: ConnectOptions): Promise<void> {
    this.connectedWith = options;
    await pass(this.behaviour.connectGate);
    if (this.behaviour.connectError) throw this.behaviour.connectError;
    if (this.behaviour.oracle === 'auto') this.oracleJoins();
  }

  /** The oracle publishes its (encrypted, or as `behaviour.encryption` says) audio. */
  oracleJoins(): void {
    this.change({ encryption: this.behaviour.encryption });
    this.#oracle.open();
  }

  /** The room closes while the oracle is awaited (the real session rejects the wait as connection-lost). */
  roomClosedBeforeOracle(): void {
    this.#oracle.fail(new CallError(CallErrorReason.ConnectionLost, 'the room disconnected before the oracle joined'));
  }

  async waitForOracle(signal: AbortSignal): Promise<void> {
    await Promise.race([this.#oracle.promise, new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }))]);
  }

  async setMicrophoneEnabled(enabled: boolean): Promise<void> {
    this.change({ microphoneEnabled: enabled });
  }

  async setCameraEnabled(enabled: boolean): Promise<void> {
    this.change({ cameraEnabled: enabled, localVideo: enabled ? (this.tracks.find((t) => t.kind === 'video') ?? null) : null });
  }

  async selectDevice(kind: DeviceKind, deviceId: string): Promise<void> {
    this.selected.push([kind, deviceId]);
    this.change({ activeDevices: { ...this.snapshot.activeDevices, [kind]: deviceId } });
  }

  readonly chats: string[] = [];

  async sendChat(text: string): Promise<void> {
    this.chats.push(text);
    this.change({ transcript: [...this.snapshot.transcript, { id: `chat-${this.chats.length}`, speaker: 'you', text, final: true, typed: true }] });
  }

  audioStarts = 0;

  async startAudio(): Promise<void> {
    this.audioStarts += 1;
    this.change({ audioBlocked: false });
  }

  async close(): Promise<void> {
    this.closeCount += 1;
    this.closed = true;
    for (const track of this.tracks) track.stop();
    this.change(MEDIA_GONE);
  }
}

export class FakeMediaFactory implements MediaSessionFactory {
  supported = true;
  readonly sessions: FakeMediaSession[] = [];
  behaviour: FakeMediaBehaviour = { oracle: 'auto', encryption: 'encrypted' };

  isE2EESupported(): boolean {
    return this.supported;
  }

  create(): FakeMediaSession {
    const session = new FakeMediaSession(this.behaviour);
    this.sessions.push(session);
    return session;
  }

  get last(): FakeMediaSession {
    const session = this.sessions.at(-1);
    if (!session) throw new Error('no media session was made');
    return session;
  }
}
