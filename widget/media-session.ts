/**
 * The media side of a call as the element sees it: local tracks, the E2EE room, the oracle's presence,
 * devices. `MediaSession` is the seam the element's tests replace with a fake; the real one is
 * `LiveKitMediaSession` (livekit-media-session.ts), loaded only when a call starts.
 */
import type { OracleEndReason } from '../protocol/oracle-room.ts';
import type { OracleState, TranscriptEntry } from './conversation.ts';
import { unnamedDevice } from './copy.ts';
import { CallErrorReason } from './errors.ts';
import type { CallType } from './state.ts';

export type DeviceKind = 'audioinput' | 'videoinput' | 'audiooutput';

export interface DeviceOption {
  readonly deviceId: string;
  readonly label: string;
}

/**
 * What the media says about encryption: `encrypted` only once LiveKit reports our own media encrypted
 * and every track the oracle publishes as encrypted; `not-encrypted` when something is known not to be;
 * `pending` before either is known (never shown as encrypted).
 */
export type EncryptionStatus = 'pending' | 'encrypted' | 'not-encrypted';

export interface MediaSnapshot {
  readonly microphoneEnabled: boolean;
  readonly cameraEnabled: boolean;
  /** The camera's track, for the local preview. */
  readonly localVideo: MediaStreamTrack | null;
  /** The oracle's video (its avatar), decrypted. */
  readonly oracleVideo: MediaStreamTrack | null;
  readonly oracleSpeaking: boolean;
  /** What the oracle says it is doing (`lk.agent.state`); undefined before it says. */
  readonly oracleState: OracleState | undefined;
  /** The oracle's voice, decrypted (for the level visualizer). */
  readonly oracleAudio: MediaStreamTrack | null;
  /** Why the oracle is leaving, when it said so before it left. */
  readonly oracleEndReason: OracleEndReason | undefined;
  /** The call's transcript so far (end-to-end encrypted text streams), oldest first. */
  readonly transcript: readonly TranscriptEntry[];
  readonly encryption: EncryptionStatus;
  readonly devices: Readonly<Record<DeviceKind, readonly DeviceOption[]>>;
  readonly activeDevices: Readonly<Partial<Record<DeviceKind, string>>>;
  /** Whether the browser can choose the speaker (`HTMLMediaElement.setSinkId`). */
  readonly canSelectSpeaker: boolean;
  /** The browser blocked the oracle's sound until the person interacts again (`startAudio`). */
  readonly audioBlocked: boolean;
}

export const EMPTY_SNAPSHOT: MediaSnapshot = {
  microphoneEnabled: false,
  cameraEnabled: false,
  localVideo: null,
  oracleVideo: null,
  oracleSpeaking: false,
  oracleState: undefined,
  oracleAudio: null,
  oracleEndReason: undefined,
  transcript: [],
  encryption: 'pending',
  devices: { audioinput: [], videoinput: [], audiooutput: [] },
  activeDevices: {},
  canSelectSpeaker: false,
  audioBlocked: false,
};

/** What a closed session no longer has: its media and the oracle (the transcript and devices stay, to read after the call). */
export const MEDIA_GONE = {
  microphoneEnabled: false,
  cameraEnabled: false,
  localVideo: null,
  oracleVideo: null,
  oracleAudio: null,
  oracleSpeaking: false,
  oracleState: undefined,
  encryption: 'pending',
} as const satisfies Partial<MediaSnapshot>;

export type MediaSessionEvent =
  | { readonly type: 'change'; readonly snapshot: MediaSnapshot }
  /** The oracle left the room after it had joined. */
  | { readonly type: 'oracle-left' }
  /** The connection dropped; LiveKit is trying to get it back (media, or only signalling). */
  | { readonly type: 'reconnecting' }
  /** LiveKit got the connection back. */
  | { readonly type: 'reconnected' }
  /** The room dropped without the element asking (network, server). */
  | { readonly type: 'disconnected'; readonly reason: string };

export interface ConnectOptions {
  readonly url: string;
  readonly token: string;
  /** The call key (64 hex characters): LiveKit's shared E2EE key. */
  readonly callKey: string;
}

/**
 * The audio processing the call's microphone is opened with, in the lobby and in the call alike (the
 * lobby's microphone becomes the call's).
 */
export const MICROPHONE_PROCESSING = { echoCancellation: true, noiseSuppression: true, autoGainControl: true } as const;

/**
 * The camera's capture, in the lobby and in the call alike (the lobby's camera becomes the call's):
 * LiveKit's default for a camera (its 720p preset).
 */
export const CAMERA_CAPTURE = { width: 1280, height: 720, frameRate: 30, aspectRatio: 1280 / 720 } as const;

export interface PrepareOptions {
  readonly callType: CallType;
  readonly devices?: Partial<Record<DeviceKind, string>>;
  /**
   * The microphone the lobby opened (with `MICROPHONE_PROCESSING`), taken over instead of opened again:
   * the call starts without waiting for the device, and its light does not blink. Ignored once ended.
   */
  readonly microphone?: MediaStreamTrack;
  /** The same for the camera the lobby opened (with `CAMERA_CAPTURE`), in a video call. */
  readonly camera?: MediaStreamTrack;
}

/** What the lobby hands to the call: its open microphone and camera. */
export type LobbyTracks = Pick<PrepareOptions, 'microphone' | 'camera'>;

/** `track` while it still delivers media (not ended: a device unplugged meanwhile ends it). */
export function liveTrack(track: MediaStreamTrack | null | undefined): MediaStreamTrack | undefined {
  return track?.readyState === 'live' ? track : undefined;
}

export interface MediaSession {
  readonly snapshot: MediaSnapshot;
  subscribe(listener: (event: MediaSessionEvent) => void): () => void;
  /** Opens the microphone, and the camera for a video call (or takes the lobby's); throws a `CallError` naming why it could not. */
  prepare(options: PrepareOptions): Promise<void>;
  /** Joins the room with E2EE on under the call key, then publishes the local tracks. */
  connect(options: ConnectOptions, signal?: AbortSignal): Promise<void>;
  /**
   * Resolves once the oracle publishes its audio and it is encrypted; rejects with a `CallError`
   * (`not-encrypted`, `connection-lost`) or the signal's reason.
   */
  waitForOracle(signal: AbortSignal): Promise<void>;
  setMicrophoneEnabled(enabled: boolean): Promise<void>;
  setCameraEnabled(enabled: boolean): Promise<void>;
  selectDevice(kind: DeviceKind, deviceId: string): Promise<void>;
  /** Sends a chat message to the oracle (`lk.chat`, end-to-end encrypted); it joins the transcript. */
  sendChat(text: string): Promise<void>;
  /** Starts the oracle's sound after the browser blocked it; call it from a click. */
  startAudio(): Promise<void>;
  /** Leaves the room and stops every local track; safe to call more than once. */
  close(): Promise<void>;
}

export interface MediaSessionFactory {
  /** Whether this browser can encrypt media end to end (no call is made when it cannot). */
  isE2EESupported(): boolean | Promise<boolean>;
  create(): MediaSession;
}

/** The reason for a getUserMedia failure, from the DOMException's name. */
export function mediaErrorReason(error: unknown): CallErrorReason {
  const name = typeof error === 'object' && error !== null && 'name' in error ? String((error as { name: unknown }).name) : '';
  switch (name) {
    case 'NotAllowedError':
    case 'PermissionDeniedError':
    case 'SecurityError':
      return CallErrorReason.PermissionDenied;
    case 'NotFoundError':
    case 'DevicesNotFoundError':
    case 'OverconstrainedError':
      return CallErrorReason.DeviceNotFound;
    case 'NotReadableError':
    case 'TrackStartError':
    case 'AbortError':
      return CallErrorReason.DeviceInUse;
    default:
      return CallErrorReason.DeviceInUse;
  }
}

/** Device lists from `enumerateDevices`, with readable labels for devices the browser does not name. */
export function toDeviceOptions(devices: readonly MediaDeviceInfo[]): Record<DeviceKind, DeviceOption[]> {
  const lists: Record<DeviceKind, DeviceOption[]> = { audioinput: [], videoinput: [], audiooutput: [] };
  for (const device of devices) {
    const kind = device.kind as DeviceKind;
    const list = lists[kind];
    if (!list || device.deviceId === '' || list.some((d) => d.deviceId === device.deviceId)) continue;
    list.push({ deviceId: device.deviceId, label: device.label || unnamedDevice(kind, list.length + 1) });
  }
  return lists;
}
