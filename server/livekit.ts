/** The backend's side of LiveKit: room tokens for users, agent dispatch, and signed webhooks. */
import { AccessToken, AgentDispatchClient, WebhookReceiver } from 'livekit-server-sdk';
import type { WebhookEvent } from 'livekit-server-sdk';
import { ApiError } from './errors.ts';
import type { ServerConfig } from './config.ts';

export class LiveKitGateway {
  private readonly dispatch: AgentDispatchClient;
  private readonly receiver: WebhookReceiver;

  constructor(private readonly config: ServerConfig['livekit']) {
    const httpUrl = config.url.replace(/^ws/, 'http');
    this.dispatch = new AgentDispatchClient(httpUrl, config.apiKey, config.apiSecret);
    this.receiver = new WebhookReceiver(config.apiKey, config.apiSecret);
  }

  get url(): string {
    return this.config.url;
  }

  /** A token that joins, publishes and subscribes in this one room, for at most the configured TTL (≤ 1 h). */
  async userToken(roomName: string, userId: string): Promise<string> {
    const token = new AccessToken(this.config.apiKey, this.config.apiSecret, {
      identity: userId,
      ttl: this.config.tokenTtlSeconds,
    });
    token.addGrant({ room: roomName, roomJoin: true, canPublish: true, canSubscribe: true, canPublishData: true });
    return token.toJwt();
  }

  /** Dispatches the oracle agent into the room; the callId travels as the dispatch metadata. */
  async dispatchAgent(roomName: string, callId: string): Promise<string> {
    try {
      const dispatch = await this.dispatch.createDispatch(roomName, this.config.agentName, { metadata: callId });
      return dispatch.id;
    } catch (error) {
      throw ApiError.upstream('dispatch_failed', `The oracle agent could not be dispatched: ${(error as Error).message}`);
    }
  }

  async listDispatches(roomName: string) {
    return this.dispatch.listDispatch(roomName);
  }

  /** Verifies the signature (over the raw body) and parses the event; 401 for anything not signed by our LiveKit. */
  async receiveWebhook(rawBody: string, authorization: string | undefined): Promise<WebhookEvent> {
    try {
      return await this.receiver.receive(rawBody, authorization);
    } catch {
      throw ApiError.unauthorized('invalid_webhook', 'The webhook is not signed by this LiveKit server');
    }
  }
}
