/** Synapse's admin API, for tests that check what the homeserver itself stores and knows. */
import { registerUser } from '../../scripts/services/matrix-admin.ts';
import type { SynapseServer } from '../../scripts/services/synapse.ts';

export interface StoredEvent {
  readonly event_id: string;
  readonly type: string;
  readonly sender: string;
  readonly content: Record<string, unknown>;
}

export class SynapseAdmin {
  private constructor(
    private readonly synapse: SynapseServer,
    private readonly accessToken: string,
  ) {}

  static async register(synapse: SynapseServer): Promise<SynapseAdmin> {
    const account = await registerUser(synapse.baseUrl, synapse.registrationSharedSecret, `admin${Date.now().toString(36)}`, { admin: true });
    return new SynapseAdmin(synapse, account.accessToken);
  }

  private async get<T>(pathname: string): Promise<T> {
    const response = await fetch(`${this.synapse.baseUrl}${pathname}`, { headers: { authorization: `Bearer ${this.accessToken}` } });
    const body = (await response.json()) as T;
    if (!response.ok) throw new Error(`GET ${pathname}: HTTP ${response.status} ${JSON.stringify(body)}`);
    return body;
  }

  /** Every event of the room as Synapse stores it (not decrypted: the homeserver cannot). */
  async roomEvents(roomId: string): Promise<StoredEvent[]> {
    const events: StoredEvent[] = [];
    let from: string | undefined;
    do {
      const query = new URLSearchParams({ dir: 'f', limit: '200', ...(from ? { from } : {}) });
      const page = await this.get<{ chunk: StoredEvent[]; end?: string }>(`/_synapse/admin/v1/rooms/${encodeURIComponent(roomId)}/messages?${query}`);
      events.push(...page.chunk);
      from = page.chunk.length > 0 ? page.end : undefined;
    } while (from);
    return events;
  }

  /**
   * Lifts the homeserver's send limits for one account (what an operator does for the oracle's
   * account): `POST /_synapse/admin/v1/users/<id>/override_ratelimit` with 0/0 (no limit).
   */
  async liftRateLimit(userId: string): Promise<void> {
    const response = await fetch(`${this.synapse.baseUrl}/_synapse/admin/v1/users/${encodeURIComponent(userId)}/override_ratelimit`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ messages_per_second: 0, burst_count: 0 }),
    });
    if (!response.ok) throw new Error(`override_ratelimit for ${userId}: HTTP ${response.status} ${await response.text()}`);
  }

  /** The user's devices, as the homeserver lists them. */
  async deviceIds(userId: string): Promise<string[]> {
    const body = await this.get<{ devices: { device_id: string }[] }>(`/_synapse/admin/v2/users/${encodeURIComponent(userId)}/devices`);
    return body.devices.map((device) => device.device_id).sort();
  }
}
