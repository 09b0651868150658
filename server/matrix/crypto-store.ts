/**
 * Where the oracle device's Matrix crypto state lives: `matrix-crypto-<device ID>.v8` in the data
 * folder (see {@link IndexedDbSnapshot}); a new access token for another device starts a new file. It
 * is written when the state changed: after each /sync has been processed and before the next one is
 * sent (so the to-device messages that carried room keys are on disk before the homeserver is told
 * they arrived), before each request that changes what the homeserver knows, every few seconds, and on
 * stop.
 */
import path from 'node:path';
import { LoggerLevel, Tracing } from '@matrix-org/matrix-sdk-crypto-wasm';
import * as fakeIndexedDb from 'fake-indexeddb';
import { MemoryStore, Method } from 'matrix-js-sdk';
import type { MatrixClient } from 'matrix-js-sdk';
import type { IndexedDbSnapshot } from './indexeddb-snapshot.ts';

/** matrix-js-sdk's in-memory store, saving the crypto state at each point the SDK calls consistent. */
export class CryptoSavingStore extends MemoryStore {
  constructor(private readonly crypto: IndexedDbSnapshot) {
    super();
  }

  override wantsSave(): boolean {
    return true;
  }

  override async save(): Promise<void> {
    await this.crypto.save();
  }
}

type RequestOtherUrl = MatrixClient['http']['requestOtherUrl'];

export function cryptoStateFile(dataDir: string, deviceId: string): string {
  const safe = /^[A-Za-z0-9_.-]{1,64}$/.test(deviceId) ? deviceId : Buffer.from(deviceId).toString('base64url');
  return path.join(dataDir, `matrix-crypto-${safe}.v8`);
}

let opening: Promise<unknown> = Promise.resolve();

/**
 * The IndexedDB classes (`IDBDatabase`, `IDBRequest`, `IDBTransaction`, ...) of `fake-indexeddb`. The
 * Rust crypto (matrix-sdk-crypto-wasm 18) checks each object it gets back against the global class of
 * that name (wasm-bindgen's `dyn_into`); without them its store fails to open with "Dynamic cast failed".
 */
const IDB_CLASSES = Object.entries(fakeIndexedDb).filter(([name]) => name.startsWith('IDB'));

/**
 * Runs `task` (the crypto's open of its databases) with `snapshot`'s IndexedDB as the global one. The
 * Rust crypto looks IndexedDB up globally when it opens its store and then keeps the connection, so
 * two backends in one process (tests) each get their own when they start one after the other.
 */
export function withIndexedDb<T>(snapshot: IndexedDbSnapshot, task: () => Promise<T>): Promise<T> {
  const run = opening.then(() => {
    const global = globalThis as Record<string, unknown>;
    for (const [name, value] of IDB_CLASSES) global[name] = value;
    global.indexedDB = snapshot.factory;
    return task();
  });
  opening = run.catch(() => {});
  return run;
}

/**
 * Runs the Rust crypto's start (`initRustCrypto`) with `console.debug`/`console.info` silenced and
 * the crypto's global tracing layer off. Since matrix-js-sdk 43 (crypto-wasm 18) the Rust crypto logs
 * through the client's logger instead (filtered in sdk-logger.ts) and a start prints nothing here;
 * this stays as a guard against a later version printing store migrations and key IDs to the console.
 */
export async function quietly<T>(start: () => Promise<T>): Promise<T> {
  const { debug, info } = console;
  console.debug = () => {};
  console.info = () => {};
  try {
    return await start();
  } finally {
    console.debug = debug;
    console.info = info;
    new Tracing(LoggerLevel.Error).turnOff();
  }
}

/**
 * Saves the crypto state before the client sends anything that changes what the homeserver knows
 * (every POST and PUT: key uploads, key claims, to-device messages, events). The Rust crypto stores
 * new one-time keys or Olm sessions first and uploads them after; saving in between means a crash can
 * never leave the homeserver with keys the saved state does not have (the next start would make new
 * keys under the same IDs, which the homeserver refuses for good).
 */
export function saveBeforeSending(client: MatrixClient, snapshot: IndexedDbSnapshot): void {
  const http = client.http;
  const original: RequestOtherUrl = http.requestOtherUrl.bind(http);
  http.requestOtherUrl = (async (method, url, body, opts) => {
    if (method !== Method.Get) await snapshot.save();
    return original(method, url, body, opts);
  }) as RequestOtherUrl;
}
