/**
 * `navigator.mediaDevices` for the lobby, with devices a test lists, removes and refuses: getUserMedia
 * gives synthetic tracks (a tone for the microphone, a canvas for the camera) that report the device
 * they came from, and a removed device fires `devicechange`.
 */
import { DEVICES } from './fake-media.ts';
import type { MediaDevicesLike } from '../../../widget/lobby.ts';

type Kind = 'audioinput' | 'videoinput' | 'audiooutput';

function tone(): MediaStreamTrack {
  const context = new AudioContext();
  const oscillator = context.createOscillator();
  const destination = context.createMediaStreamDestination();
  oscillator.connect(destination);
  oscillator.start();
  void context.resume().catch(() => undefined);
  const track = destination.stream.getAudioTracks()[0]!;
  const stop = track.stop.bind(track);
  track.stop = () => {
    stop();
    if (context.state !== 'closed') void context.close().catch(() => undefined);
  };
  return track;
}

function picture(): MediaStreamTrack {
  const canvas = document.createElement('canvas');
  canvas.width = 64;
  canvas.height = 48;
  canvas.getContext('2d')!.fillRect(0, 0, 64, 48);
  return canvas.captureStream(5).getVideoTracks()[0]!;
}

export class FakeMediaDevices extends EventTarget implements MediaDevicesLike {
  devices: { deviceId: string; label: string; kind: Kind }[] = (Object.entries(DEVICES) as [Kind, { deviceId: string; label: string }[]][]).flatMap(
    ([kind, list]) => list.map((device) => ({ ...device, kind })),
  );
  /** The error getUserMedia throws (a DOMException name), for every request or only the camera's. */
  refuse: { name: string; only?: 'videoinput' } | undefined;
  /** Every track handed out, with the device it is from. */
  readonly tracks: { deviceId: string; track: MediaStreamTrack }[] = [];

  async enumerateDevices(): Promise<MediaDeviceInfo[]> {
    return this.devices.map((device) => ({ ...device, groupId: 'g', toJSON: () => device }) as MediaDeviceInfo);
  }

  async getUserMedia(constraints: MediaStreamConstraints = {}): Promise<MediaStream> {
    const kind: Kind = constraints.audio ? 'audioinput' : 'videoinput';
    const wanted = (constraints.audio ?? constraints.video) as boolean | MediaTrackConstraints;
    if (this.refuse && (!this.refuse.only || this.refuse.only === kind)) throw new DOMException('refused', this.refuse.name);
    const list = this.devices.filter((device) => device.kind === kind);
    const id = typeof wanted === 'object' ? (wanted.deviceId as ConstrainDOMStringParameters | undefined) : undefined;
    const exact = id?.exact as string | undefined;
    const ideal = id?.ideal as string | undefined;
    const device = exact ? list.find((d) => d.deviceId === exact) : (list.find((d) => d.deviceId === ideal) ?? list[0]);
    if (!device) throw new DOMException('no such device', exact ? 'OverconstrainedError' : 'NotFoundError');
    const track = kind === 'audioinput' ? tone() : picture();
    const settings = track.getSettings.bind(track);
    track.getSettings = () => ({ ...settings(), deviceId: device.deviceId });
    this.tracks.push({ deviceId: device.deviceId, track });
    return new MediaStream([track]);
  }

  /** Unplugs a device: it leaves the list, its tracks end, and the page hears `devicechange`. */
  remove(deviceId: string): void {
    this.devices = this.devices.filter((device) => device.deviceId !== deviceId);
    for (const entry of this.tracks) if (entry.deviceId === deviceId) entry.track.stop();
    this.dispatchEvent(new Event('devicechange'));
  }

  /** Tracks not stopped yet. */
  get live(): { deviceId: string; track: MediaStreamTrack }[] {
    return this.tracks.filter((entry) => entry.track.readyState === 'live');
  }
}
