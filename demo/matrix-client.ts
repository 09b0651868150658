/** A matrix-js-sdk client for the demo user, synced once so the room is known. */
import { ClientEvent, SyncState, createClient } from 'matrix-js-sdk';
import type { MatrixClient } from 'matrix-js-sdk';
import type { DemoConfig } from './config.ts';

export async function startMatrixClient(config: DemoConfig): Promise<MatrixClient> {
  const client = createClient({
    baseUrl: config.homeserverUrl,
    accessToken: config.accessToken,
    userId: config.userId,
    deviceId: config.deviceId,
  });
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
