/**
 * The oracle's Matrix account, as the backend uses it: a matrix-js-sdk client with its own crypto
 * device (the Rust crypto, as wasm), so call events in encrypted rooms are read in clear and the
 * backend's edits are encrypted like any other message. The device's crypto state is kept in the data
 * folder (see crypto-store.ts), so a restart keeps the same device and the room keys it received.
 *
 * Requests that fail for a passing reason (network, 429, 5xx) are retried, bounded.
 */
import {
  ClientEvent,
  ConnectionError,
  Direction,
  MatrixClient,
  MatrixError,
  MatrixEvent,
  PendingEventOrdering,
  RoomEvent as SdkRoomEvent,
  SyncState,
} from 'matrix-js-sdk';
import type { IEvent, Room } from 'matrix-js-sdk';
import type { Logger } from 'pino';
import { CALL_EVENT_TYPE } from '../../protocol/index.ts';
import type { MatrixEventLike } from '../../protocol/index.ts';
import { crossSignOwnDevice } from './cross-signing.ts';
import { CryptoSavingStore, cryptoStateFile, quietly, saveBeforeSending, withIndexedDb } from './crypto-store.ts';
import { decrypted } from './decryption.ts';
import { IndexedDbSnapshot } from './indexeddb-snapshot.ts';
import { DEFAULT_RETRY, RetryableError, withRetry } from './retry.ts';
import type { RetryOptions } from './retry.ts';
import { MatrixTimeoutError, useReleasableTimeouts } from './request-timeouts.ts';
import { sdkLogger } from './sdk-logger.ts';

export interface RoomEvent extends MatrixEventLike {
  readonly room_id?: string;
  /** Whether the event travelled encrypted (Megolm); its type and content here are the clear ones. */
  readonly encrypted?: boolean;
}

export type CallEventHandler = (event: RoomEvent & { readonly room_id: string }) => Promise<void>;

/** The Matrix operations the backend needs. */
export interface OracleMatrix {
  readonly userId: string;
  readonly deviceId: string;
  /**
   * The event in clear, or undefined when it does not exist in that room or the oracle cannot see it.
   * An encrypted event whose room key has not arrived is waited for, within a bound (`RoomKeyUnavailable`).
   */
  getEvent(roomId: string, eventId: string): Promise<RoomEvent | undefined>;
  /** Whether the oracle's account has joined the room (asked of the homeserver when this client has not synced it yet). */
  isJoined(roomId: string): Promise<boolean>;
  /** Whether the room is encrypted (then its call events must be too). */
  isRoomEncrypted(roomId: string): Promise<boolean>;
  /** All `m.replace` edits of the event that have the call event type (those that can be read). */
  getEdits(roomId: string, eventId: string): Promise<RoomEvent[]>;
  /** Sends a call event (an edit), encrypted in an encrypted room, retrying passing failures; its event ID. */
  sendCallEvent(roomId: string, content: unknown): Promise<string>;
  /** Starts following the account's sync; `onCallEvent` gets each call event that arrives, in clear. */
  start(onCallEvent: CallEventHandler): Promise<void>;
  stop(): Promise<void>;
}

export class MatrixRequestError extends Error {
  override readonly name = 'MatrixRequestError';

  constructor(
    readonly status: number | undefined,
    readonly errcode: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** A failure of the SDK as this module's errors: network, 429 and 5xx may pass; the rest is final. */
function classify(error: unknown): Error {
  // A homeserver that did not answer in time is not asked again: the caller's bound is the timeout.
  if (error instanceof MatrixTimeoutError) return error;
  if (error instanceof ConnectionError) return new RetryableError(`homeserver unreachable: ${error.message}`);
  if (error instanceof MatrixError) {
    const status = error.httpStatus;
    const message = `homeserver answered ${status ?? '?'}${error.errcode ? ` ${error.errcode}` : ''}${error.data.error ? `: ${error.data.error}` : ''}`;
    if (status === 429 || (status !== undefined && status >= 500)) {
      const hint = error.data.retry_after_ms;
      return new RetryableError(message, typeof hint === 'number' ? hint : undefined, status);
    }
    return new MatrixRequestError(status, error.errcode, message);
  }
  // Right after a start, a room can be known before its encryption is set up (matrix-js-sdk 37 to 43 say
  // "Cannot encrypt event in unconfigured room"); it is set up a moment later.
  if (error instanceof Error && error.message.includes('unconfigured room')) return new RetryableError(error.message);
  return error instanceof Error ? error : new Error(String(error));
}

/** An SDK request, its failures classified and the passing ones retried. */
async function request<T>(task: () => Promise<T>, retry: RetryOptions): Promise<T> {
  return withRetry(async () => {
    try {
      return await task();
    } catch (error) {
      throw classify(error);
    }
  }, retry);
}

function plain(event: MatrixEvent, roomId: string): RoomEvent & { room_id: string } {
  const clear = event.getEffectiveEvent();
  const content: Record<string, unknown> = { ...(clear.content ?? {}) };
  // In an encrypted event the relation travels in clear, beside the ciphertext.
  const relation = event.getWireContent()['m.relates_to'];
  if (relation !== undefined && !('m.relates_to' in content)) content['m.relates_to'] = relation;
  return {
    event_id: event.getId() ?? '',
    type: event.getType(),
    sender: event.getSender() ?? '',
    origin_server_ts: event.getTs(),
    content,
    room_id: roomId,
    encrypted: event.isEncrypted(),
  };
}

export interface MatrixOptions {
  readonly baseUrl: string;
  readonly accessToken: string;
  /** Where the device's crypto state is kept. */
  readonly dataDir: string;
  /** How long a read waits for an event's missing room key. */
  readonly roomKeyWaitMs: number;
  /** Every request to the homeserver gives up after this long (the /sync long poll has its own). */
  readonly requestTimeoutMs: number;
  /** Encrypts the crypto state's secrets at rest (Rust crypto store passphrase), when set. */
  readonly cryptoPassphrase?: string;
  readonly log: Logger;
  readonly retry?: RetryOptions;
}

const SAVE_INTERVAL_MS = 5000;
/** How long a send or an encryption check waits for a room to come down the sync. */
const ROOM_WAIT_MS = 10_000;
/** How long the live sync waits for a room key before it gives up on an event (nobody waits on it). */
const LIVE_KEY_WAIT_MS = 120_000;

export class SdkOracleMatrix implements OracleMatrix {
  private saveTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  private constructor(
    private readonly client: MatrixClient,
    private readonly crypto: IndexedDbSnapshot,
    private readonly options: MatrixOptions,
  ) {}

  get userId(): string {
    return this.client.getSafeUserId();
  }

  get deviceId(): string {
    return this.client.getDeviceId() ?? '';
  }

  private get retry(): RetryOptions {
    return this.options.retry ?? DEFAULT_RETRY;
  }

  /**
   * Checks the token (whoami), opens the device's crypto state and starts its crypto; fails clearly
   * when the homeserver refuses the token or the state belongs to another account.
   */
  static async connect(options: MatrixOptions): Promise<SdkOracleMatrix> {
    const probe = new MatrixClient({
      baseUrl: options.baseUrl,
      accessToken: options.accessToken,
      localTimeoutMs: options.requestTimeoutMs,
      logger: sdkLogger(options.log),
    });
    useReleasableTimeouts(probe);
    const whoami = await request(() => probe.whoami(), options.retry ?? DEFAULT_RETRY);
    if (!whoami.device_id) throw new Error('the access token has no device (the homeserver named none in whoami)');
    const crypto = await IndexedDbSnapshot.load(cryptoStateFile(options.dataDir, whoami.device_id));
    const client = new MatrixClient({
      baseUrl: options.baseUrl,
      accessToken: options.accessToken,
      userId: whoami.user_id,
      deviceId: whoami.device_id,
      store: new CryptoSavingStore(crypto),
      localTimeoutMs: options.requestTimeoutMs,
      logger: sdkLogger(options.log),
      // No scheduler: sends are retried here, with one transaction ID.
    });
    useReleasableTimeouts(client);
    saveBeforeSending(client, crypto);
    await withIndexedDb(crypto, () =>
      quietly(() => client.initRustCrypto({ useIndexedDB: true, ...(options.cryptoPassphrase ? { storagePassword: options.cryptoPassphrase } : {}) })),
    );
    // Calls work without it (only people's clients show a warning on the edits), so a failure here is
    // logged, not fatal; the next start tries again.
    await crossSignOwnDevice(client, options.log).catch((error: Error) =>
      options.log.error({ err: error.message }, "the oracle's Matrix device could not be cross-signed"),
    );
    await crypto.save();
    return new SdkOracleMatrix(client, crypto, options);
  }

  async start(onCallEvent: CallEventHandler): Promise<void> {
    const log = this.options.log;
    this.client.on(SdkRoomEvent.Timeline, (event: MatrixEvent, room: Room | undefined, toStartOfTimeline: boolean | undefined) => {
      if (toStartOfTimeline || !room || this.stopped) return;
      if (event.getWireType() !== CALL_EVENT_TYPE && !event.isEncrypted()) return;
      void (async () => {
        try {
          await decrypted(this.client, event, LIVE_KEY_WAIT_MS);
        } catch (error) {
          if (!this.stopped) log.warn({ eventId: event.getId(), roomId: room.roomId, err: (error as Error).message }, 'an event from Matrix could not be read');
          return;
        }
        if (event.getType() !== CALL_EVENT_TYPE || this.stopped) return;
        await onCallEvent(plain(event, room.roomId)).catch((error: Error) =>
          log.error({ eventId: event.getId(), err: error.message }, 'a call event from Matrix could not be applied'),
        );
      })();
    });
    this.client.on(ClientEvent.SyncUnexpectedError, (error: Error) => log.error({ err: error.message }, 'processing a Matrix sync failed'));
    const ready = new Promise<void>((resolve, reject) => {
      const onSync = (state: SyncState, _previous: SyncState | null, data?: { error?: Error }) => {
        if (state === SyncState.Prepared || state === SyncState.Syncing) {
          this.client.off(ClientEvent.Sync, onSync);
          resolve();
        } else if (state === SyncState.Error && data?.error instanceof MatrixError && data.error.httpStatus === 401) {
          this.client.off(ClientEvent.Sync, onSync);
          reject(new Error(`the homeserver refused the oracle's token at /sync (${data.error.errcode ?? '401'})`));
        }
      };
      this.client.on(ClientEvent.Sync, onSync);
    });
    await this.client.startClient({ initialSyncLimit: 20, lazyLoadMembers: true, pendingEventOrdering: PendingEventOrdering.Detached });
    await ready;
    this.saveTimer = setInterval(() => {
      this.crypto.save().catch((error: Error) => log.error({ err: error.message }, 'the Matrix crypto state could not be saved'));
    }, SAVE_INTERVAL_MS);
    this.saveTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.saveTimer);
    this.client.stopClient();
    await this.crypto.save();
  }

  async getEvent(roomId: string, eventId: string): Promise<RoomEvent | undefined> {
    let raw: Partial<IEvent>;
    try {
      raw = await request(() => this.client.fetchRoomEvent(roomId, eventId), this.retry);
    } catch (error) {
      if (error instanceof MatrixRequestError && (error.status === 404 || error.status === 403)) return undefined;
      throw error;
    }
    const event = new MatrixEvent({ ...raw, room_id: roomId });
    await decrypted(this.client, event, this.options.roomKeyWaitMs);
    return plain(event, roomId);
  }

  /**
   * The room as this client has synced it. A room the oracle joined a moment ago may not have come
   * down the sync yet; it is waited for (bounded), because sending into a room the client does not
   * know would not be encrypted.
   */
  private async syncedRoom(roomId: string): Promise<Room> {
    const deadline = Date.now() + ROOM_WAIT_MS;
    for (;;) {
      const room = this.client.getRoom(roomId);
      if (room) return room;
      if (Date.now() >= deadline) throw new MatrixRequestError(undefined, undefined, `the oracle's account has not joined the room ${roomId}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async isJoined(roomId: string): Promise<boolean> {
    if (this.client.getRoom(roomId)?.getMyMembership() === 'join') return true;
    // Joined a moment ago (not synced yet), or not at all: the homeserver knows.
    try {
      const member = await request(() => this.client.getStateEvent(roomId, 'm.room.member', this.userId), this.retry);
      return (member as { membership?: unknown }).membership === 'join';
    } catch (error) {
      if (error instanceof MatrixRequestError && (error.status === 403 || error.status === 404)) return false;
      throw error;
    }
  }

  async isRoomEncrypted(roomId: string): Promise<boolean> {
    await this.syncedRoom(roomId);
    return (await this.client.getCrypto()?.isEncryptionEnabledInRoom(roomId)) ?? false;
  }

  async getEdits(roomId: string, eventId: string): Promise<RoomEvent[]> {
    // All `m.replace` relations, whatever their wire type: in an encrypted room the homeserver only
    // sees `m.room.encrypted`, so the call type can be told only after decryption. An edit that cannot
    // be decrypted (yet) is left out.
    const edits: RoomEvent[] = [];
    let from: string | undefined;
    let seen = 0;
    do {
      const page = await request(
        () => this.client.relations(roomId, eventId, 'm.replace', null, { dir: Direction.Forward, limit: 100, ...(from ? { from } : {}) }),
        this.retry,
      );
      seen += page.events.length;
      for (const event of page.events) {
        await this.client.decryptEventIfNeeded(event);
        if (!event.isDecryptionFailure() && event.getType() === CALL_EVENT_TYPE) edits.push(plain(event, roomId));
      }
      from = page.nextBatch ?? undefined;
    } while (from && seen < 1000);
    return edits;
  }

  async sendCallEvent(roomId: string, content: unknown): Promise<string> {
    // One transaction ID for every retry of this send: the homeserver de-duplicates, so a retry after
    // a lost answer does not post the edit twice. A failed local echo is sent again as it is (already
    // encrypted), and dropped when the retries run out.
    const room = await this.syncedRoom(roomId);
    const txnId = this.client.makeTxnId();
    const pending = () => room.getPendingEvents().find((event) => event.getTxnId() === txnId);
    try {
      const eventId = await request(async () => {
        const failed = pending();
        const response = failed
          ? await this.client.resendEvent(failed, room)
          : await this.client.sendEvent(roomId, CALL_EVENT_TYPE as never, content as never, txnId);
        return response.event_id;
      }, this.retry);
      return eventId;
    } catch (error) {
      const failed = pending();
      if (failed) this.client.cancelPendingEvent(failed);
      throw error;
    }
  }
}
