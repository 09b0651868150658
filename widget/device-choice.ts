/**
 * The person's device choice (microphone, camera, speaker, and whether the microphone and camera start
 * on), remembered per origin in localStorage so the next call, in any page of the site, starts with it.
 */
import type { DeviceKind, DeviceOption } from './media-session.ts';

export interface DeviceChoice {
  readonly devices: Readonly<Partial<Record<DeviceKind, string>>>;
  readonly microphoneEnabled: boolean;
  readonly cameraEnabled: boolean;
}

export const DEFAULT_CHOICE: DeviceChoice = { devices: {}, microphoneEnabled: true, cameraEnabled: true };

/** The localStorage key (one per origin, as localStorage is). */
export const CHOICE_KEY = 'oracle-call:devices';

const KINDS: readonly DeviceKind[] = ['audioinput', 'videoinput', 'audiooutput'];

/** The remembered choice; the default when none is kept, storage is off, or what is kept is not a choice. */
export function loadChoice(storage: Storage | undefined = globalThis.localStorage): DeviceChoice {
  try {
    const raw = storage?.getItem(CHOICE_KEY);
    if (!raw) return DEFAULT_CHOICE;
    const value = JSON.parse(raw) as Partial<Record<string, unknown>>;
    const kept = (value.devices ?? {}) as Record<string, unknown>;
    const devices: Partial<Record<DeviceKind, string>> = {};
    for (const kind of KINDS) if (typeof kept[kind] === 'string' && kept[kind]) devices[kind] = kept[kind] as string;
    return {
      devices,
      microphoneEnabled: value.microphoneEnabled !== false,
      cameraEnabled: value.cameraEnabled !== false,
    };
  } catch {
    return DEFAULT_CHOICE;
  }
}

export function saveChoice(choice: DeviceChoice, storage: Storage | undefined = globalThis.localStorage): void {
  try {
    storage?.setItem(CHOICE_KEY, JSON.stringify(choice));
  } catch {
    // Storage full or blocked (private modes): the choice holds for this call only.
  }
}

/** The device to use from `list`: the wanted one when it is there, else the first (the browser's default). */
export function pickDevice(list: readonly DeviceOption[], wanted: string | undefined): DeviceOption | undefined {
  return list.find((device) => device.deviceId === wanted) ?? list[0];
}
