/**
 * A Matrix user with a real crypto device, for tests in encrypted rooms: matrix-js-sdk with its Rust
 * crypto (in memory), synced, sending and reading call events in clear while the homeserver sees
 * `m.room.encrypted`.
 */
import { ClientEvent, MatrixClient, MatrixEvent, MatrixEventEvent, MemoryStore, RoomEvent, SyncState } from 'matrix-js-sdk';
import type { Room } from 'matrix-js-sdk';
import pino from 'pino';
import { CALL_EVENT_TYPE } from '../../protocol/index.ts';
import { quietly } from '../../server/matrix/crypto-store.ts';
import { useReleasableTimeouts } from '../../server/matrix/request-timeouts.ts';
import { sdkLogger } from '../../server/matrix/sdk-logger.ts';
import type { MatrixAccount } from '../../scripts/services/matrix-admin.ts';

export class CryptoMatrixClient {
  private constructor(
    readonly client: MatrixClient,
    readonly userId: string,
  ) {}

  static async start(baseUrl: string, account: MatrixAccount): Promise<CryptoMatrixClient> {
    const client = new MatrixClient({
      baseUrl,
      accessToken: account.accessToken,
      userId: account.userId,
      deviceId: account.deviceId,
      store: new MemoryStore(),
      logger: sdkLogger(pino({ level: 'error' })),
    });
    useReleasableTimeouts(client);
    await quietly(() => client.initRustCrypto({ useIndexedDB: false }));
    const ready = new Promise<void>((resolve, reject) => {
      client.on(ClientEvent.Sync, (state: SyncState) => {
        if (state === SyncState.Prepared || state === SyncState.Syncing) resolve();
        if (state === SyncState.Error) reject(new Error(`${account.userId} could not sync`));
      });
    });
    await client.startClient({ initialSyncLimit: 10, lazyLoadMembers: true });
    await ready;
    return new CryptoMatrixClient(client, account.userId);
  }

  /** An encrypted room (Megolm) with the invited users. */
  async createEncryptedRoom(invite: string[]): Promise<string> {
    const { room_id: roomId } = await this.client.createRoom({
      preset: 'private_chat' as never,
      invite,
      initial_state: [{ type: 'm.room.encryption', state_key: '', content: { algorithm: 'm.megolm.v1.aes-sha2' } }],
    });
    await this.roomKnown(roomId);
    return roomId;
  }

  /** Waits until the room and `userId`'s membership in it have come down this client's sync. */
  async roomKnown(roomId: string, member?: string, timeoutMs = 15_000): Promise<Room> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const room = this.client.getRoom(roomId);
      if (room && (!member || room.getMember(member)?.membership === 'join')) return room;
      if (Date.now() > deadline) throw new Error(`${this.userId} did not see ${member ?? 'the room'} in ${roomId}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Sends an event (encrypted in an encrypted room); its event ID. */
  async sendEvent(roomId: string, type: string, content: unknown): Promise<string> {
    const { event_id: eventId } = await this.client.sendEvent(roomId, type as never, content as never);
    return eventId;
  }

  /** Device IDs the homeserver lists for `userId`, as this client's crypto knows them (fresh query). */
  async deviceIds(userId: string): Promise<string[]> {
    const map = await this.client.getCrypto()!.getUserDeviceInfo([userId], true);
    return [...(map.get(userId)?.keys() ?? [])];
  }

  /** The next call event in the room (in clear) that `match` accepts, from the live timeline. */
  nextCallEvent(roomId: string, match: (event: MatrixEvent) => boolean, timeoutMs = 20_000): Promise<MatrixEvent> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.client.off(RoomEvent.Timeline, onEvent);
        reject(new Error(`no matching call event in ${roomId} within ${timeoutMs} ms`));
      }, timeoutMs);
      const check = (event: MatrixEvent) => {
        if (event.getType() !== CALL_EVENT_TYPE || !match(event)) return;
        clearTimeout(timer);
        this.client.off(RoomEvent.Timeline, onEvent);
        resolve(event);
      };
      const onEvent = (event: MatrixEvent, room: Room | undefined) => {
        if (room?.roomId !== roomId) return;
        void this.client.decryptEventIfNeeded(event).then(() => {
          if (event.isDecryptionFailure()) event.once(MatrixEventEvent.Decrypted, () => check(event));
          else check(event);
        });
      };
      this.client.on(RoomEvent.Timeline, onEvent);
    });
  }

  stop(): void {
    this.client.stopClient();
  }
}
