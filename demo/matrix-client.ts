/**
 * A matrix-js-sdk client for the demo user with end-to-end encryption (the Rust crypto, as wasm), synced
 * once so the room and its encryption are known: `sendEvent` then encrypts (Megolm) in an encrypted room
 * and shares the room key with the members' devices itself. Which device it is: `matrix-session.ts`.
 */
import { ClientEvent, SyncState, createClient } from 'matrix-js-sdk';
import type { MatrixClient } from 'matrix-js-sdk';
import type { DemoConfig } from './config.ts';
import { openSession, renewSession } from './matrix-session.ts';
import type { DeviceSession } from './matrix-session.ts';

async function withCrypto(config: DemoConfig, session: DeviceSession): Promise<MatrixClient> {
  const client = createClient({
    baseUrl: config.homeserverUrl,
    accessToken: session.accessToken,
    userId: session.userId,
    deviceId: session.deviceId,
  });
  // A new device never inherits another device's keys.
  if (session.fresh && session.persistent) await client.clearStores();
  await client.initRustCrypto({ useIndexedDB: session.persistent });
  return client;
}

export async function startMatrixClient(config: DemoConfig): Promise<MatrixClient> {
  let session = await openSession(config);
  let client: MatrixClient;
  try {
    client = await withCrypto(config, session);
  } catch (error) {
    if (session.fresh) throw error;
    // The browser's store did not open for the remembered device (another device's, or damaged).
    console.warn('The remembered Matrix device could not open its keys; signing in a new device.', error);
    session = await renewSession(config);
    client = await withCrypto(config, session);
  }
  const prepared = new Promise<void>((resolve, reject) => {
    client.on(ClientEvent.Sync, (state: SyncState) => {
      if (state === SyncState.Prepared || state === SyncState.Syncing) resolve();
      if (state === SyncState.Error) reject(new Error('the Matrix client could not sync'));
    });
  });
  await client.startClient({ initialSyncLimit: 1, lazyLoadMembers: true });
  await prepared;
  return client;
}
