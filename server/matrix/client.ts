/**
 * The oracle's Matrix account, as the backend uses it: read a call event and its edits, send edits,
 * and long-poll /sync. Only client-server API calls, with the oracle's access token, to the configured
 * homeserver. Requests that fail for a passing reason (network, 429, 5xx) are retried, bounded.
 */
import { CALL_EVENT_TYPE } from '../../protocol/index.ts';
import type { MatrixEventLike } from '../../protocol/index.ts';
import { DEFAULT_RETRY, RetryableError, withRetry } from './retry.ts';
import type { RetryOptions } from './retry.ts';

export interface RoomEvent extends MatrixEventLike {
  readonly room_id?: string;
}

export interface SyncResult {
  readonly nextBatch: string;
  /** Call events (type `m.ixo.oracles_call`) that arrived, with their room. */
  readonly events: readonly (RoomEvent & { readonly room_id: string })[];
}

/** The Matrix operations the backend needs; one implementation per way of reaching Matrix. */
export interface OracleMatrix {
  readonly userId: string;
  /** The event, or undefined when it does not exist in that room or the oracle cannot see it. */
  getEvent(roomId: string, eventId: string): Promise<RoomEvent | undefined>;
  /** All `m.replace` edits of the event that have the call event type. */
  getEdits(roomId: string, eventId: string): Promise<RoomEvent[]>;
  /** Sends a call event (an edit), retrying passing failures; resolves with its event ID. */
  sendCallEvent(roomId: string, content: unknown): Promise<string>;
  sync(since: string | undefined, timeoutMs: number, signal?: AbortSignal): Promise<SyncResult>;
}

export class MatrixRequestError extends Error {
  override readonly name = 'MatrixRequestError';

  constructor(
    readonly status: number,
    readonly errcode: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

const SYNC_FILTER = JSON.stringify({
  presence: { types: [] },
  account_data: { types: [] },
  room: {
    timeline: { types: [CALL_EVENT_TYPE], limit: 50 },
    state: { types: [] },
    ephemeral: { types: [] },
    account_data: { types: [] },
  },
});

export class HttpOracleMatrix implements OracleMatrix {
  private txnCounter = 0;

  private constructor(
    private readonly baseUrl: string,
    private readonly accessToken: string,
    readonly userId: string,
    private readonly retry: RetryOptions,
  ) {}

  /** Connects with the oracle's access token; fails clearly when the homeserver refuses it. */
  static async connect(baseUrl: string, accessToken: string, retry: RetryOptions = DEFAULT_RETRY): Promise<HttpOracleMatrix> {
    const probe = new HttpOracleMatrix(baseUrl, accessToken, '', retry);
    const { user_id: userId } = await probe.request<{ user_id: string }>('GET', '/_matrix/client/v3/account/whoami');
    return new HttpOracleMatrix(baseUrl, accessToken, userId, retry);
  }

  private async request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    return withRetry(async () => {
      let response: Response;
      try {
        response = await fetch(`${this.baseUrl}${path}`, {
          method,
          headers: { authorization: `Bearer ${this.accessToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: signal ?? AbortSignal.timeout(30_000),
        });
      } catch (error) {
        if (signal?.aborted) throw error;
        throw new RetryableError(`homeserver unreachable: ${(error as Error).message}`);
      }
      const json = (await response.json().catch(() => ({}))) as Record<string, unknown>;
      if (response.ok) return json as T;
      const errcode = typeof json.errcode === 'string' ? json.errcode : undefined;
      const message = `homeserver answered ${response.status}${errcode ? ` ${errcode}` : ''}${typeof json.error === 'string' ? `: ${json.error}` : ''}`;
      if (response.status === 429 || response.status >= 500) {
        throw new RetryableError(message, typeof json.retry_after_ms === 'number' ? json.retry_after_ms : undefined);
      }
      throw new MatrixRequestError(response.status, errcode, message);
    }, this.retry);
  }

  async getEvent(roomId: string, eventId: string): Promise<RoomEvent | undefined> {
    try {
      return await this.request<RoomEvent>('GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/event/${encodeURIComponent(eventId)}`);
    } catch (error) {
      if (error instanceof MatrixRequestError && (error.status === 404 || error.status === 403)) return undefined;
      throw error;
    }
  }

  async getEdits(roomId: string, eventId: string): Promise<RoomEvent[]> {
    const edits: RoomEvent[] = [];
    let from: string | undefined;
    do {
      const query = new URLSearchParams({ limit: '100', dir: 'f', ...(from ? { from } : {}) });
      const page = await this.request<{ chunk: RoomEvent[]; next_batch?: string }>(
        'GET',
        `/_matrix/client/v1/rooms/${encodeURIComponent(roomId)}/relations/${encodeURIComponent(eventId)}/m.replace/${encodeURIComponent(CALL_EVENT_TYPE)}?${query}`,
      );
      edits.push(...page.chunk);
      from = page.next_batch;
    } while (from && edits.length < 1000);
    return edits;
  }

  async sendCallEvent(roomId: string, content: unknown): Promise<string> {
    // One transaction ID for every retry of this send: the homeserver de-duplicates, so a retry after
    // a lost answer does not post the edit twice.
    this.txnCounter += 1;
    const txnId = `oc${Date.now().toString(36)}${this.txnCounter}`;
    const { event_id: eventId } = await this.request<{ event_id: string }>(
      'PUT',
      `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/${encodeURIComponent(CALL_EVENT_TYPE)}/${txnId}`,
      content,
    );
    return eventId;
  }

  async sync(since: string | undefined, timeoutMs: number, signal?: AbortSignal): Promise<SyncResult> {
    const query = new URLSearchParams({ filter: SYNC_FILTER, timeout: String(timeoutMs), ...(since ? { since } : {}) });
    const body = await this.request<{
      next_batch: string;
      rooms?: { join?: Record<string, { timeline?: { events?: RoomEvent[] } }> };
    }>('GET', `/_matrix/client/v3/sync?${query}`, undefined, signal);
    const events: (RoomEvent & { room_id: string })[] = [];
    for (const [roomId, room] of Object.entries(body.rooms?.join ?? {})) {
      for (const event of room.timeline?.events ?? []) {
        if (event.type === CALL_EVENT_TYPE) events.push({ ...event, room_id: roomId });
      }
    }
    return { nextBatch: body.next_batch, events };
  }
}
