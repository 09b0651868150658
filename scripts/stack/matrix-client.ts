/** A minimal Matrix client-server API client (plain HTTP, no crypto) for the local stack, tests and the demo: rooms, events, edits. */
import type { MatrixEventLike } from '../../protocol/index.ts';

export interface RoomEvent extends MatrixEventLike {
  readonly room_id: string;
  readonly unsigned?: Record<string, unknown>;
}

export class MatrixRestClient {
  private txn = 0;

  constructor(
    readonly baseUrl: string,
    readonly userId: string,
    private readonly accessToken: string,
  ) {}

  async request<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.accessToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const json = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (!response.ok) {
      throw new Error(`${method} ${path} as ${this.userId}: HTTP ${response.status} ${String(json.errcode)} ${String(json.error)}`);
    }
    return json as T;
  }

  async createRoom(options: { invite?: string[]; name?: string; encrypted?: boolean } = {}): Promise<string> {
    const body = await this.request<{ room_id: string }>('POST', '/_matrix/client/v3/createRoom', {
      preset: 'private_chat',
      name: options.name,
      invite: options.invite ?? [],
      ...(options.encrypted ? { initial_state: [{ type: 'm.room.encryption', state_key: '', content: { algorithm: 'm.megolm.v1.aes-sha2' } }] } : {}),
    });
    return body.room_id;
  }

  async joinRoom(roomId: string): Promise<void> {
    await this.request('POST', `/_matrix/client/v3/join/${encodeURIComponent(roomId)}`, {});
  }

  async sendEvent(roomId: string, type: string, content: unknown): Promise<string> {
    this.txn += 1;
    const txnId = `t${Date.now()}-${this.txn}`;
    const body = await this.request<{ event_id: string }>(
      'PUT',
      `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/${encodeURIComponent(type)}/${txnId}`,
      content,
    );
    return body.event_id;
  }

  async getEvent(roomId: string, eventId: string): Promise<RoomEvent> {
    return this.request<RoomEvent>('GET', `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/event/${encodeURIComponent(eventId)}`);
  }

  /** Every `m.replace` relation of an event with the given type (following pagination). */
  async getEdits(roomId: string, eventId: string, type: string): Promise<RoomEvent[]> {
    const edits: RoomEvent[] = [];
    let from: string | undefined;
    do {
      const query = new URLSearchParams({ limit: '50', dir: 'f', ...(from ? { from } : {}) });
      const page = await this.request<{ chunk: RoomEvent[]; next_batch?: string }>(
        'GET',
        `/_matrix/client/v1/rooms/${encodeURIComponent(roomId)}/relations/${encodeURIComponent(eventId)}/m.replace/${encodeURIComponent(type)}?${query}`,
      );
      edits.push(...page.chunk);
      from = page.next_batch;
    } while (from);
    return edits;
  }

  async openIdToken(): Promise<{ access_token: string; matrix_server_name: string; expires_in: number; token_type: string }> {
    return this.request('POST', `/_matrix/client/v3/user/${encodeURIComponent(this.userId)}/openid/request_token`, {});
  }
}
