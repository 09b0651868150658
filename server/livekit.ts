/** The backend's side of LiveKit: room tokens for users, agent dispatch, and signed webhooks. */
import { AccessToken, AgentDispatchClient, RoomServiceClient, WebhookReceiver } from 'livekit-server-sdk';
import type { WebhookEvent } from 'livekit-server-sdk';
import type { ServerConfig } from './config.ts';

/** The agent could not be dispatched into a room (the LiveKit server refused or was unreachable). */
export class DispatchFailedError extends Error {
  override readonly name = 'DispatchFailedError';
}

/** A webhook that is not signed by this LiveKit server (or does not parse). */
export class InvalidWebhookError extends Error {
  override readonly name = 'InvalidWebhookError';
}

/**
 * LiveKit's `DisconnectReason`s (livekit_models.proto) that say a participant's connection failed, not
 * that it chose to leave: SIGNAL_CLOSE (9), CONNECTION_TIMEOUT (14, the server stopped hearing from it),
 * MEDIA_FAILURE (15). Numbers, as livekit-server-sdk does not export the enum.
 */
const CONNECTION_FAILURES: ReadonlySet<number> = new Set([9, 14, 15]);

/** Whether a participant that left the room (a `participant_left` webhook's participant) lost its connection. */
export function lostConnection(participant: { readonly disconnectReason?: number } | undefined): boolean {
  return participant?.disconnectReason !== undefined && CONNECTION_FAILURES.has(participant.disconnectReason);
}

/** LiveKit's `ParticipantInfo.Kind.AGENT` (livekit_models.proto): a participant that an agent worker joined. */
const AGENT_KIND = 4;

/** Whether a webhook's participant is an agent (the oracle). */
export function isAgent(participant: { readonly kind?: number } | undefined): boolean {
  return participant?.kind === AGENT_KIND;
}

export class LiveKitGateway {
  private readonly dispatch: AgentDispatchClient;
  private readonly receiver: WebhookReceiver;
  private readonly rooms: RoomServiceClient;

  constructor(private readonly config: ServerConfig['livekit']) {
    const httpUrl = config.url.replace(/^ws/, 'http');
    this.dispatch = new AgentDispatchClient(httpUrl, config.apiKey, config.apiSecret);
    this.receiver = new WebhookReceiver(config.apiKey, config.apiSecret);
    this.rooms = new RoomServiceClient(httpUrl, config.apiKey, config.apiSecret);
  }

  /** Closes the room, disconnecting everyone in it (a room that is gone already is fine). */
  async closeRoom(roomName: string): Promise<void> {
    await this.rooms.deleteRoom(roomName).catch((error: Error & { status?: number }) => {
      if (error.status !== 404) throw error;
    });
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

  /**
   * Dispatches the oracle agent into the room with `metadata` (the callId and the call's key answer,
   * `protocol/api/dispatch-metadata.ts`). Throws {@link DispatchFailedError}.
   */
  async dispatchAgent(roomName: string, metadata: string): Promise<string> {
    try {
      const dispatch = await this.dispatch.createDispatch(roomName, this.config.agentName, { metadata });
      return dispatch.id;
    } catch (error) {
      throw new DispatchFailedError((error as Error).message, { cause: error });
    }
  }

  /**
   * Whether an agent worker has taken the dispatch: LiveKit lists a job under it once a worker accepted
   * it, and never one when no worker could (all full, or none running). Undefined when the room or the
   * dispatch is gone.
   */
  async dispatchTaken(roomName: string, dispatchId: string): Promise<boolean | undefined> {
    const dispatch = await this.dispatch.getDispatch(dispatchId, roomName);
    if (!dispatch) return undefined;
    return (dispatch.state?.jobs.length ?? 0) > 0;
  }

  /** Verifies the signature (over the raw body) and parses the event; {@link InvalidWebhookError} for anything not signed by our LiveKit. */
  async receiveWebhook(rawBody: string, authorization: string | undefined): Promise<WebhookEvent> {
    try {
      return await this.receiver.receive(rawBody, authorization);
    } catch (error) {
      throw new InvalidWebhookError((error as Error).message, { cause: error });
    }
  }
}
