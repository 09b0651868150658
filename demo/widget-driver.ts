/**
 * What a widget host does for the oracle widget (the part Element implements): grants only the
 * capabilities the widget needs, sends its call events as the signed-in user (encrypted by the host's
 * client in an encrypted room), and answers OpenID requests with a token from the homeserver.
 */
import { MatrixError } from 'matrix-js-sdk';
import type { MatrixClient } from 'matrix-js-sdk';
import { EventDirection, OpenIDRequestState, WidgetDriver, WidgetEventCapability } from 'matrix-widget-api';
import type { Capability, IOpenIDUpdate, ISendEventDetails, IWidgetApiErrorResponseDataDetails, SimpleObservable } from 'matrix-widget-api';

const CALL_EVENT_TYPE = 'm.ixo.oracles_call';

export class OracleWidgetDriver extends WidgetDriver {
  readonly granted = new Set<Capability>();

  constructor(
    private readonly client: MatrixClient,
    private readonly roomId: string,
  ) {
    super();
  }

  override async validateCapabilities(requested: Set<Capability>): Promise<Set<Capability>> {
    for (const capability of requested) {
      const event = WidgetEventCapability.findEventCapabilities([capability])[0];
      const callEvent =
        event !== undefined &&
        [EventDirection.Send, EventDirection.Receive].includes(event.direction) &&
        event.matchesAsRoomEvent(event.direction, CALL_EVENT_TYPE);
      const timeline = capability === `org.matrix.msc2762.timeline:${this.roomId}`;
      if (callEvent || timeline) this.granted.add(capability);
    }
    return new Set(this.granted);
  }

  override async sendEvent(eventType: string, content: unknown, stateKey?: string | null, roomId?: string | null): Promise<ISendEventDetails> {
    const target = roomId ?? this.roomId;
    if (eventType !== CALL_EVENT_TYPE || stateKey != null || target !== this.roomId) {
      throw new Error('the oracle widget may only send call events to its room');
    }
    // matrix-js-sdk sends in clear into a room it has not synced (it cannot know that it is encrypted).
    if (!this.client.getRoom(target)) throw new Error("the host has not synced the widget's room");
    const { event_id: eventId } = await this.client.sendEvent(target, eventType as never, content as never);
    return { roomId: target, eventId };
  }

  /** The homeserver's answer goes back to the widget (as Element does), so it can tell a 429 from a refusal. */
  override processError(error: unknown): IWidgetApiErrorResponseDataDetails | undefined {
    return error instanceof MatrixError ? { matrix_api_error: error.asWidgetApiErrorData() } : undefined;
  }

  override askOpenID(observer: SimpleObservable<IOpenIDUpdate>): void {
    this.client.getOpenIdToken().then(
      (token) => observer.update({ state: OpenIDRequestState.Allowed, token }),
      () => observer.update({ state: OpenIDRequestState.Blocked }),
    );
  }
}
