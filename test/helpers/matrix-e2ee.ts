/**
 * An encrypted room's events in clear, by ID: another device of a member's (a {@link CryptoMatrixClient}
 * of its own, logged in before anything is sent: the senders' clients and the backend then share their
 * room keys with it too) fetches an event or its edits and decrypts them.
 */
import { Direction, MatrixEvent } from 'matrix-js-sdk';
import { login } from '../../scripts/services/matrix-admin.ts';
import type { MatrixAccount } from '../../scripts/services/matrix-admin.ts';
import { CryptoMatrixClient } from './crypto-matrix-client.ts';
import type { RoomEvent } from '../../scripts/stack/matrix-client.ts';

export class DecryptingDevice {
  private constructor(private readonly device: CryptoMatrixClient) {}

  static async start(baseUrl: string, account: Pick<MatrixAccount, 'userId' | 'password'>): Promise<DecryptingDevice> {
    const own = await login(baseUrl, account.userId, account.password);
    const device = await CryptoMatrixClient.start(baseUrl, own);
    await keysPublished(baseUrl, own);
    return new DecryptingDevice(device);
  }

  /**
   * An event in clear: its decrypted type and content (with the relation, which stays outside the
   * ciphertext), or undefined while its room key has not arrived.
   */
  async read(raw: RoomEvent): Promise<RoomEvent | undefined> {
    if (raw.type !== 'm.room.encrypted') return raw;
    const event = new MatrixEvent(structuredClone(raw) as never);
    await this.device.client.decryptEventIfNeeded(event);
    if (event.isDecryptionFailure()) return undefined;
    const content = event.getContent();
    const relation = content['m.relates_to'] ?? (raw.content as Record<string, unknown>)['m.relates_to'];
    return { ...raw, type: event.getType(), content: { ...content, ...(relation ? { 'm.relates_to': relation } : {}) } };
  }

  /** An event by ID, in clear (undefined while its key has not arrived). */
  async event(roomId: string, eventId: string): Promise<RoomEvent | undefined> {
    return this.read((await this.device.client.fetchRoomEvent(roomId, eventId)) as unknown as RoomEvent);
  }

  /**
   * The edits (`m.replace`) of an event with the given clear type. The relations API cannot filter by
   * the clear type (Synapse stores `m.room.encrypted`): every edit is read, then filtered. Undefined
   * while one of them cannot be decrypted yet.
   */
  async edits(roomId: string, eventId: string, type: string): Promise<RoomEvent[] | undefined> {
    const raw: RoomEvent[] = [];
    let from: string | undefined;
    do {
      const page = await this.device.client.fetchRelations(roomId, eventId, 'm.replace', null, { dir: Direction.Forward, ...(from ? { from } : {}) });
      raw.push(...(page.chunk as unknown as RoomEvent[]));
      from = page.next_batch ?? undefined;
    } while (from);
    const clear = await Promise.all(raw.map((event) => this.read(event)));
    if (clear.some((event) => event === undefined)) return undefined;
    return (clear as RoomEvent[]).filter((event) => event.type === type);
  }

  stop(): void {
    this.device.stop();
  }
}

/** Waits until the homeserver hands out the device's keys (no sender can share a room key with it before). */
async function keysPublished(baseUrl: string, device: MatrixAccount): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const response = await fetch(`${baseUrl}/_matrix/client/v3/keys/query`, {
      method: 'POST',
      headers: { authorization: `Bearer ${device.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ device_keys: { [device.userId]: [device.deviceId] } }),
    });
    const body = (await response.json()) as { device_keys?: Record<string, Record<string, unknown>> };
    if (body.device_keys?.[device.userId]?.[device.deviceId]) return;
    if (Date.now() > deadline) throw new Error(`the device ${device.deviceId} did not publish its keys within 20 s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
