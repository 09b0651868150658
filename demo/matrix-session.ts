/**
 * Which Matrix device a tab of the demo uses for the demo user.
 *
 * A browser keeps one device: the first visit logs in with the demo password and remembers the access
 * token and device ID in localStorage, and the device's keys live in IndexedDB (matrix-js-sdk's Rust
 * crypto store, one per origin). A fresh browser profile logs in and gets a device of its own.
 *
 * A device ID is only ever used with the crypto store it was created with: a new login empties the
 * store before it is used (`fresh`), and a remembered device whose store is gone is logged out and
 * replaced. A new store would upload other keys for the same device ID, which the homeserver refuses
 * and which breaks the Olm sessions other devices have with it.
 *
 * One tab at a time holds the browser's device (a Web Lock). Another tab meanwhile logs in with a device
 * of its own whose keys stay in its memory, and logs that device out when it closes. That request can be
 * lost (a crashed tab, a killed browser), so such a device is also listed in localStorage, held by a lock
 * of its own while its tab lives: each load of the demo logs out the listed devices whose tab is gone.
 */
import type { DemoConfig } from './config.ts';

export interface DeviceSession {
  readonly userId: string;
  readonly accessToken: string;
  readonly deviceId: string;
  /** Whether the device's keys are kept in the browser's IndexedDB (false: in this tab's memory). */
  readonly persistent: boolean;
  /** A device this tab has just logged in: its crypto store must start empty. */
  readonly fresh: boolean;
}

interface Remembered {
  readonly homeserverUrl: string;
  readonly userId: string;
  readonly accessToken: string;
  readonly deviceId: string;
}

const REMEMBERED = 'oracle-call-demo:matrix-device';
const LOCK = 'oracle-call-demo:matrix-device';
/** The second tabs' devices not known to be logged out, and the lock each one's tab holds. */
const TEMPORARY = 'oracle-call-demo:temporary-devices';
const temporaryLock = (deviceId: string) => `oracle-call-demo:temporary-device:${deviceId}`;
/** The IndexedDB database of matrix-js-sdk's Rust crypto store (its fixed prefix `matrix-js-sdk`). */
const CRYPTO_DATABASE = 'matrix-js-sdk::matrix-sdk-crypto';

/** Takes the lock `name` for as long as the tab lives; false when another tab has it. */
function holdForLife(name: string): Promise<boolean> {
  if (!navigator.locks) return Promise.resolve(true);
  return new Promise((resolve, reject) => {
    navigator.locks
      .request(name, { ifAvailable: true }, (lock) => {
        resolve(lock !== null);
        // Held until the tab goes away.
        return lock ? new Promise<void>(() => {}) : undefined;
      })
      .catch(reject);
  });
}

/** Runs `task` holding the lock `name` if no tab holds it (nothing if one does). */
async function ifUnheld(name: string, task: () => Promise<void>): Promise<void> {
  await navigator.locks.request(name, { ifAvailable: true }, async (lock) => {
    if (lock) await task();
  });
}

async function matrix(
  config: DemoConfig,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; keepalive?: boolean } = {},
): Promise<Response> {
  return fetch(`${config.homeserverUrl}/_matrix/client/v3${path}`, {
    method,
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.body ? { 'content-type': 'application/json' } : {}),
    },
    ...(options.body ? { body: JSON.stringify(options.body) } : {}),
    ...(options.keepalive ? { keepalive: true } : {}),
  });
}

async function login(config: DemoConfig, deviceName: string): Promise<Remembered> {
  const response = await matrix(config, 'POST', '/login', {
    body: {
      type: 'm.login.password',
      identifier: { type: 'm.id.user', user: config.userId },
      password: config.password,
      initial_device_display_name: deviceName,
    },
  });
  const body = (await response.json().catch(() => ({}))) as { user_id?: string; access_token?: string; device_id?: string; errcode?: string };
  if (!response.ok || !body.access_token || !body.device_id) {
    throw new Error(`the homeserver refused the demo user's login (${response.status} ${body.errcode ?? ''})`.trim());
  }
  return { homeserverUrl: config.homeserverUrl, userId: body.user_id ?? config.userId, accessToken: body.access_token, deviceId: body.device_id };
}

function logout(config: DemoConfig, token: string, keepalive = false): Promise<unknown> {
  return matrix(config, 'POST', '/logout', { token, body: {}, keepalive }).catch(() => undefined);
}

/** Whether the remembered device is still signed in as itself (false: the homeserver forgot it). */
async function stillValid(config: DemoConfig, remembered: Remembered): Promise<boolean> {
  const response = await matrix(config, 'GET', '/account/whoami', { token: remembered.accessToken });
  if (response.status === 401) return false;
  if (!response.ok) throw new Error(`the homeserver answered ${response.status} for the demo user's device`);
  const who = (await response.json()) as { user_id?: string; device_id?: string };
  return who.user_id === remembered.userId && who.device_id === remembered.deviceId;
}

async function cryptoStoreExists(): Promise<boolean> {
  if (!indexedDB.databases) return false;
  return (await indexedDB.databases()).some((database) => database.name === CRYPTO_DATABASE);
}

function readTemporary(): Remembered[] {
  try {
    const value = JSON.parse(localStorage.getItem(TEMPORARY) ?? '[]') as unknown;
    return Array.isArray(value)
      ? (value as Remembered[]).filter((device) => typeof device?.deviceId === 'string' && typeof device.accessToken === 'string')
      : [];
  } catch {
    return [];
  }
}

function updateTemporary(change: (devices: Remembered[]) => Remembered[]): void {
  localStorage.setItem(TEMPORARY, JSON.stringify(change(readTemporary())));
}

/**
 * Logs out the second tabs' devices whose tab is gone (its lock free) and whose logout on `pagehide` may
 * have been lost. A device stays listed until the homeserver has logged it out or no longer knows it.
 */
async function logOutOrphans(config: DemoConfig): Promise<void> {
  if (!navigator.locks) return;
  for (const device of readTemporary()) {
    if (device.homeserverUrl !== config.homeserverUrl) continue;
    await ifUnheld(temporaryLock(device.deviceId), async () => {
      const response = await matrix(config, 'POST', '/logout', { token: device.accessToken, body: {} }).catch(() => undefined);
      if (response && (response.ok || response.status === 401)) {
        updateTemporary((devices) => devices.filter((listed) => listed.deviceId !== device.deviceId));
      }
    });
  }
}

function readRemembered(config: DemoConfig): Remembered | undefined {
  try {
    const value = JSON.parse(localStorage.getItem(REMEMBERED) ?? 'null') as Remembered | null;
    return value?.homeserverUrl === config.homeserverUrl && value.userId === config.userId ? value : undefined;
  } catch {
    return undefined;
  }
}

/** This tab's device: the browser's remembered one, a new one for the browser, or (second tab) one of its own. */
export async function openSession(config: DemoConfig): Promise<DeviceSession> {
  await logOutOrphans(config);
  if (!(await holdForLife(LOCK))) {
    const own = await login(config, 'oracle-call demo (second tab)');
    await holdForLife(temporaryLock(own.deviceId));
    updateTemporary((devices) => [...devices, own]);
    addEventListener('pagehide', () => void logout(config, own.accessToken, true), { once: true });
    return { ...own, persistent: false, fresh: true };
  }
  const remembered = readRemembered(config);
  if (remembered && (await cryptoStoreExists()) && (await stillValid(config, remembered))) {
    return { ...remembered, persistent: true, fresh: false };
  }
  return renewSession(config);
}

/**
 * Gives up the browser's remembered device (logged out: without its keys it cannot be used again) and
 * logs in a new one; its crypto store must be emptied before use.
 */
export async function renewSession(config: DemoConfig): Promise<DeviceSession> {
  const remembered = readRemembered(config);
  localStorage.removeItem(REMEMBERED);
  if (remembered) await logout(config, remembered.accessToken);
  const session = await login(config, 'oracle-call demo');
  localStorage.setItem(REMEMBERED, JSON.stringify(session));
  return { ...session, persistent: true, fresh: true };
}
