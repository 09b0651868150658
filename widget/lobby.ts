/**
 * The lobby before a call: the person sees their camera, hears nothing but sees their microphone's
 * level, chooses the microphone, camera and speaker, and whether the microphone and camera start on.
 * It works on the browser's `MediaDevices` alone (no LiveKit, which loads only when the call starts),
 * remembers the choice (device-choice.ts), and follows devices that come and go: when the one in use
 * disappears it falls back to the browser's default and says so.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { loadChoice, pickDevice, saveChoice } from './device-choice.ts';
import type { DeviceChoice } from './device-choice.ts';
import { CallErrorReason } from './errors.ts';
import { CAMERA_CAPTURE, MICROPHONE_PROCESSING, liveTrack, mediaErrorReason, toDeviceOptions } from './media-session.ts';
import type { DeviceKind, DeviceOption, LobbyTracks } from './media-session.ts';
import type { CallType } from './state.ts';

/** What the lobby needs of `navigator.mediaDevices` (tests pass a fake). */
export type MediaDevicesLike = Pick<MediaDevices, 'getUserMedia' | 'enumerateDevices' | 'addEventListener' | 'removeEventListener'>;

/** `ready`, or why the microphone cannot be used (the call needs it). */
export type LobbyStatus = 'opening' | 'ready' | 'permission-denied' | 'no-microphone' | 'device-in-use';

/** A device in use disappeared: `now` is the one used instead (none when no other is left). */
export interface DeviceNotice {
  readonly kind: DeviceKind;
  readonly gone: string;
  readonly now?: string;
}

export interface LobbySnapshot {
  readonly status: LobbyStatus;
  readonly callType: CallType;
  readonly devices: Readonly<Record<DeviceKind, readonly DeviceOption[]>>;
  readonly active: Readonly<Partial<Record<DeviceKind, string>>>;
  readonly microphoneEnabled: boolean;
  readonly cameraEnabled: boolean;
  /** The camera's preview track (video calls, camera on). */
  readonly videoTrack: MediaStreamTrack | null;
  /** Why the camera cannot be shown, when it cannot (the call can go on without it). */
  readonly cameraProblem?: CallErrorReason;
  /** The microphone's level, 0 to 1. */
  readonly level: number;
  readonly notice?: DeviceNotice;
  readonly canSelectSpeaker: boolean;
}

const NO_DEVICES: Record<DeviceKind, DeviceOption[]> = { audioinput: [], videoinput: [], audiooutput: [] };

function stopped(): never {
  throw new DOMException('The lobby was closed', 'AbortError');
}

export class LobbyController implements ReactiveController {
  snapshot: LobbySnapshot = this.#initial('audio');
  #audio: MediaStreamTrack | null = null;
  #video: MediaStreamTrack | null = null;
  #wanted: Partial<Record<DeviceKind, string>> = {};
  #open = false;
  #meter: { context: AudioContext; timer: ReturnType<typeof setInterval> } | undefined;
  #devices: MediaDevicesLike | undefined;
  readonly #onDeviceChange = () => void this.#devicesChanged();

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly mediaDevices: () => MediaDevicesLike | undefined,
  ) {
    host.addController(this);
  }

  #initial(callType: CallType): LobbySnapshot {
    return {
      status: 'opening',
      callType,
      devices: NO_DEVICES,
      active: {},
      microphoneEnabled: true,
      cameraEnabled: true,
      videoTrack: null,
      level: 0,
      canSelectSpeaker: typeof HTMLMediaElement !== 'undefined' && 'setSinkId' in HTMLMediaElement.prototype,
    };
  }

  #set(change: Partial<LobbySnapshot>): void {
    this.snapshot = { ...this.snapshot, ...change };
    this.host.requestUpdate();
  }

  get isOpen(): boolean {
    return this.#open;
  }

  /** Opens the remembered (or default) devices for a call of `callType`. */
  async open(callType: CallType): Promise<void> {
    this.#release();
    this.#open = true;
    const choice = loadChoice();
    this.#wanted = { ...choice.devices };
    this.snapshot = { ...this.#initial(callType), microphoneEnabled: choice.microphoneEnabled, cameraEnabled: choice.cameraEnabled };
    this.host.requestUpdate();
    this.#devices = this.mediaDevices();
    this.#devices?.addEventListener('devicechange', this.#onDeviceChange);
    await this.#start().catch(() => undefined);
  }

  /** Opens the devices again (after the person allowed them, or connected one). */
  retry(): Promise<void> {
    this.#set({ status: 'opening', notice: undefined });
    return this.#start().catch(() => undefined);
  }

  async #start(): Promise<void> {
    const devices = this.#devices;
    if (!devices) return this.#set({ status: 'no-microphone' });
    this.#stopTracks();
    try {
      this.#audio = await this.#get('audioinput', this.#wanted.audioinput);
    } catch (error) {
      if (!this.#open) return;
      const reason = mediaErrorReason(error);
      await this.#refresh();
      return this.#set({
        status:
          reason === CallErrorReason.PermissionDenied ? 'permission-denied' : reason === CallErrorReason.DeviceNotFound ? 'no-microphone' : 'device-in-use',
      });
    }
    this.#audio.enabled = this.snapshot.microphoneEnabled;
    if (this.snapshot.callType === 'video' && this.snapshot.cameraEnabled) await this.#openCamera(this.#wanted.videoinput);
    await this.#refresh();
    this.#startMeter();
    this.#set({ status: 'ready' });
  }

  async #get(kind: 'audioinput' | 'videoinput', deviceId: string | undefined, exact = false): Promise<MediaStreamTrack> {
    const device = deviceId ? { deviceId: exact ? { exact: deviceId } : { ideal: deviceId } } : undefined;
    // Opened as the call opens them: the call takes them over (handOver).
    const stream = await this.#devices!.getUserMedia(
      kind === 'audioinput' ? { audio: { ...MICROPHONE_PROCESSING, ...device } } : { video: { ...CAMERA_CAPTURE, ...device } },
    );
    const track = (kind === 'audioinput' ? stream.getAudioTracks() : stream.getVideoTracks())[0];
    if (!this.#open) {
      for (const t of stream.getTracks()) t.stop();
      stopped();
    }
    if (!track) throw new DOMException('no track', 'NotFoundError');
    return track;
  }

  async #openCamera(deviceId: string | undefined, exact = false): Promise<void> {
    this.#video?.stop();
    this.#video = null;
    try {
      this.#video = await this.#get('videoinput', deviceId, exact);
      this.#set({ videoTrack: this.#video, cameraProblem: undefined });
    } catch (error) {
      if (!this.#open) return;
      this.#set({ videoTrack: null, cameraProblem: mediaErrorReason(error) });
    }
  }

  /** The device lists and the devices in use; the choice is saved. */
  async #refresh(): Promise<void> {
    const all = this.#devices ? await this.#devices.enumerateDevices() : [];
    if (!this.#open) return;
    const devices = toDeviceOptions(all);
    const active: Partial<Record<DeviceKind, string>> = {};
    const mic = this.#audio?.getSettings().deviceId;
    if (mic) active.audioinput = mic;
    const camera = this.#video?.getSettings().deviceId ?? this.#wanted.videoinput;
    if (camera) active.videoinput = camera;
    const speaker = pickDevice(devices.audiooutput, this.#wanted.audiooutput)?.deviceId;
    if (speaker) active.audiooutput = speaker;
    this.#set({ devices, active });
    this.#save();
  }

  #save(): void {
    saveChoice(this.choice);
  }

  /** What the call should use: the devices in use, and whether the microphone and camera start on. */
  get choice(): DeviceChoice {
    return {
      devices: { ...this.#wanted, ...this.snapshot.active },
      microphoneEnabled: this.snapshot.microphoneEnabled,
      cameraEnabled: this.snapshot.cameraEnabled,
    };
  }

  /** The call type to start: a video call needs a camera; without one it is an audio call. */
  get callType(): CallType {
    return this.snapshot.callType === 'video' && this.snapshot.devices.videoinput.length > 0 ? 'video' : 'audio';
  }

  async selectDevice(kind: DeviceKind, deviceId: string): Promise<void> {
    this.#wanted = { ...this.#wanted, [kind]: deviceId };
    this.#set({ notice: undefined });
    if (kind === 'audioinput' && this.#audio) {
      this.#stopMeter();
      this.#audio.stop();
      this.#audio = null;
      try {
        this.#audio = await this.#get('audioinput', deviceId, true);
        this.#audio.enabled = this.snapshot.microphoneEnabled;
        this.#startMeter();
      } catch {
        return this.retry();
      }
    }
    if (kind === 'videoinput' && this.snapshot.cameraEnabled && this.snapshot.callType === 'video') await this.#openCamera(deviceId, true);
    await this.#refresh();
  }

  setMicrophoneEnabled(enabled: boolean): void {
    if (this.#audio) this.#audio.enabled = enabled;
    this.#set({ microphoneEnabled: enabled, level: enabled ? this.snapshot.level : 0 });
    this.#save();
  }

  /** Off stops the camera (its light goes off); on opens it again. */
  async setCameraEnabled(enabled: boolean): Promise<void> {
    this.#set({ cameraEnabled: enabled });
    if (enabled) await this.#openCamera(this.#wanted.videoinput ?? this.snapshot.active.videoinput);
    else {
      this.#video?.stop();
      this.#video = null;
      this.#set({ videoTrack: null });
    }
    this.#save();
  }

  /** A device in use went away: the browser's default of that kind instead, and a notice. */
  async #devicesChanged(): Promise<void> {
    if (!this.#open || !this.#devices) return;
    const before = this.snapshot.devices;
    const active = this.snapshot.active;
    const devices = toDeviceOptions(await this.#devices.enumerateDevices());
    if (!this.#open) return;
    const gone = (kind: DeviceKind) => active[kind] !== undefined && !devices[kind].some((d) => d.deviceId === active[kind]);
    const label = (kind: DeviceKind) => before[kind].find((d) => d.deviceId === active[kind])?.label ?? '';
    let notice: DeviceNotice | undefined;
    if (gone('audioinput') && this.#audio) {
      const next = devices.audioinput[0];
      notice = { kind: 'audioinput', gone: label('audioinput'), ...(next ? { now: next.label } : {}) };
      delete this.#wanted.audioinput;
      if (next) await this.selectDevice('audioinput', next.deviceId);
      else {
        this.#stopMeter();
        this.#audio.stop();
        this.#audio = null;
        this.#set({ status: 'no-microphone', level: 0 });
      }
    }
    if (gone('videoinput') && this.snapshot.callType === 'video') {
      const next = devices.videoinput[0];
      notice = { kind: 'videoinput', gone: label('videoinput'), ...(next ? { now: next.label } : {}) };
      delete this.#wanted.videoinput;
      if (next && this.snapshot.cameraEnabled) await this.selectDevice('videoinput', next.deviceId);
      else if (!next) {
        this.#video?.stop();
        this.#video = null;
        this.#set({ videoTrack: null });
      }
    }
    if (gone('audiooutput')) {
      const next = devices.audiooutput[0];
      notice = { kind: 'audiooutput', gone: label('audiooutput'), ...(next ? { now: next.label } : {}) };
      delete this.#wanted.audiooutput;
    }
    await this.#refresh();
    if (notice) this.#set({ notice });
  }

  #startMeter(): void {
    this.#stopMeter();
    const track = this.#audio;
    if (!track || typeof AudioContext === 'undefined') return;
    const context = new AudioContext();
    // Made after an await, the context may start suspended: the click that opened the lobby allows resuming it.
    void context.resume().catch(() => undefined);
    const analyser = context.createAnalyser();
    analyser.fftSize = 1024;
    context.createMediaStreamSource(new MediaStream([track])).connect(analyser);
    const samples = new Float32Array(analyser.fftSize);
    const timer = setInterval(() => {
      analyser.getFloatTimeDomainData(samples);
      let energy = 0;
      for (const sample of samples) energy += sample * sample;
      // RMS in dB, from -60 dB (silence) to 0 dB (full scale), as 0 to 1; in tenths, so small noise does not re-render.
      const db = 10 * Math.log10(energy / samples.length || 1e-12);
      const level = track.enabled ? Math.round(Math.min(1, Math.max(0, (db + 60) / 60)) * 10) / 10 : 0;
      if (level !== this.snapshot.level) this.#set({ level });
    }, 100);
    this.#meter = { context, timer };
  }

  #stopMeter(): void {
    if (!this.#meter) return;
    clearInterval(this.#meter.timer);
    void this.#meter.context.close().catch(() => undefined);
    this.#meter = undefined;
  }

  #stopTracks(): void {
    this.#stopMeter();
    this.#audio?.stop();
    this.#video?.stop();
    this.#audio = null;
    this.#video = null;
  }

  #release(): void {
    this.#open = false;
    this.#stopTracks();
    this.#devices?.removeEventListener('devicechange', this.#onDeviceChange);
    this.#devices = undefined;
  }

  /**
   * The open microphone and camera, for the call to take over (the microphone on, whatever the lobby's
   * switch: the call mutes it as chosen); the lobby lets go of them, so closing it does not stop them.
   */
  handOver(): LobbyTracks {
    const microphone = liveTrack(this.#audio);
    const camera = this.snapshot.callType === 'video' ? liveTrack(this.#video) : undefined;
    this.#stopMeter();
    if (microphone) {
      this.#audio = null;
      microphone.enabled = true;
    }
    if (camera) {
      this.#video = null;
      this.#set({ videoTrack: null });
    }
    return { ...(microphone ? { microphone } : {}), ...(camera ? { camera } : {}) };
  }

  /** Stops the preview (tracks, meter, listening for devices); the choice stays saved. */
  close(): void {
    if (!this.#open) return;
    this.#release();
    this.#set({ videoTrack: null, level: 0 });
  }

  hostConnected(): void {}

  hostDisconnected(): void {
    this.close();
  }
}
