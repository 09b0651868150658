/**
 * Matrix through the widget API (matrix-widget-api's `WidgetApi`), for the element running as a widget
 * inside Element or any other `ClientWidgetApi` host. The host does the Matrix requests; the widget asks
 * for the capabilities it needs (send the call event, and the room's timeline when it names the room).
 *
 * The transport works on the `WidgetApi`'s shape, so tests can drive it without a host; `connectWidgetApi`
 * loads matrix-widget-api itself (only when the element runs in widget mode).
 */
import { CALL_EVENT_TYPE } from '../../protocol/index.ts';
import { MatrixTransportError, checkOpenIdToken } from './matrix-transport.ts';
import type { CallEventPayload, MatrixTransport, OpenIdToken } from './matrix-transport.ts';

/** The part of matrix-widget-api's `WidgetApi` this transport uses. */
export interface WidgetApiLike {
  requestCapabilityToSendEvent(eventType: string): void;
  requestCapabilityToReceiveEvent(eventType: string): void;
  requestCapabilityForRoomTimeline(roomId: string): void;
  requestOpenIDConnectToken(): Promise<{ access_token?: string; matrix_server_name?: string; token_type?: string; expires_in?: number }>;
  sendRoomEvent(eventType: string, content: unknown, roomId?: string): Promise<{ event_id?: string; room_id?: string }>;
  start(): void;
  once(event: 'ready', listener: () => void): unknown;
}

/** What Element puts in a widget's URL: `widgetId` and `parentUrl` always, the rest from URL templates. */
export interface WidgetParams {
  readonly widgetId: string;
  readonly parentUrl: string;
  /** From a `userId=$matrix_user_id` template, when the widget's URL has one. */
  readonly userId?: string;
  /** From a `roomId=$matrix_room_id` template, when the widget's URL has one. */
  readonly roomId?: string;
}

/**
 * The widget parameters of a page's URL, or undefined when it is not a widget. The fragment is read
 * first (it never reaches a server's logs), then the query.
 */
export function widgetParamsFrom(location: { search: string; hash: string }): WidgetParams | undefined {
  const query = new URLSearchParams(location.search);
  const fragment = new URLSearchParams(location.hash.replace(/^#\/?\??/, ''));
  const get = (name: string) => fragment.get(name) ?? query.get(name) ?? undefined;
  const widgetId = get('widgetId');
  const parentUrl = get('parentUrl');
  if (!widgetId || !parentUrl) return undefined;
  const userId = get('userId');
  const roomId = get('roomId');
  return { widgetId, parentUrl, ...(userId ? { userId } : {}), ...(roomId ? { roomId } : {}) };
}

/** `WidgetApiResponseError.data.matrix_api_error` carries the homeserver's answer when there was one. */
function classify(error: unknown, what: string): MatrixTransportError {
  const data = (error as { data?: { matrix_api_error?: { http_status?: unknown; response?: { retry_after_ms?: unknown } } } })?.data;
  const status = data?.matrix_api_error?.http_status;
  const retryAfter = data?.matrix_api_error?.response?.retry_after_ms;
  const message = error instanceof Error ? error.message : String(error);
  // Without a homeserver status the host refused (a capability not granted) or did not answer in time.
  const retryable = typeof status === 'number' ? status === 429 || status >= 500 : /timed? ?out/i.test(message);
  return new MatrixTransportError(`${what} failed: ${message}`, {
    retryable,
    ...(typeof retryAfter === 'number' ? { retryAfterMs: retryAfter } : {}),
    cause: error,
  });
}

export class WidgetApiTransport implements MatrixTransport {
  readonly kind = 'widget-api';

  readonly roomId?: string;

  private constructor(
    private readonly api: WidgetApiLike,
    readonly userId: string | null,
    roomId: string | undefined,
  ) {
    if (roomId) this.roomId = roomId;
  }

  /**
   * Asks for the capabilities, starts the API and waits for the host's "ready" (capabilities negotiated).
   * `roomId`: the room the call event goes to, when the widget names it.
   */
  static async start(
    api: WidgetApiLike,
    options: { userId?: string; roomId?: string; readyTimeoutMs?: number } = {},
  ): Promise<WidgetApiTransport> {
    api.requestCapabilityToSendEvent(CALL_EVENT_TYPE);
    api.requestCapabilityToReceiveEvent(CALL_EVENT_TYPE);
    if (options.roomId) api.requestCapabilityForRoomTimeline(options.roomId);
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new MatrixTransportError('The widget host did not answer', { retryable: true })),
        options.readyTimeoutMs ?? 10_000,
      );
      api.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    api.start();
    await ready;
    return new WidgetApiTransport(api, options.userId ?? null, options.roomId);
  }

  async getOpenIdToken(): Promise<OpenIdToken> {
    let credentials: unknown;
    try {
      credentials = await this.api.requestOpenIDConnectToken();
    } catch (error) {
      throw classify(error, 'Getting a Matrix OpenID token');
    }
    return checkOpenIdToken(credentials);
  }

  async sendCallEvent(roomId: string, content: CallEventPayload): Promise<string> {
    let response: { event_id?: unknown };
    try {
      response = await this.api.sendRoomEvent(CALL_EVENT_TYPE, content, roomId);
    } catch (error) {
      throw classify(error, 'Sending the call event');
    }
    if (typeof response?.event_id !== 'string') {
      throw new MatrixTransportError('The widget host answered without an event ID', { retryable: false });
    }
    return response.event_id;
  }
}

type WidgetApiClass = new (widgetId: string, clientOrigin: string) => WidgetApiLike;

let connection: Promise<WidgetApiTransport> | undefined;

/**
 * Connects to the widget host now, with the widget API class already loaded: the widget page does this
 * as it loads, because a host that waits for the iframe's load event (Element's default) asks for the
 * capabilities right then, and a widget that is not yet listening would never be asked again.
 * Later calls (the element's, when a call starts) get the same connection.
 */
export function connectWidgetApiWith(WidgetApi: WidgetApiClass, params: WidgetParams, roomId?: string): Promise<WidgetApiTransport> {
  if (!connection) {
    const parentOrigin = new URL(params.parentUrl).origin;
    acceptMessagesOnlyFrom(parentOrigin);
    const room = roomId ?? params.roomId;
    connection = WidgetApiTransport.start(new WidgetApi(params.widgetId, parentOrigin), {
      ...(params.userId ? { userId: params.userId } : {}),
      ...(room ? { roomId: room } : {}),
    });
    connection.catch(() => (connection = undefined));
  }
  return connection;
}

/**
 * Connects to the widget host named by the page's URL: loads matrix-widget-api, makes a `WidgetApi` for
 * the widget ID and the parent's origin, and starts the transport (or returns the page's connection).
 */
export async function connectWidgetApi(params: WidgetParams, roomId?: string): Promise<WidgetApiTransport> {
  if (connection) return connection;
  const { WidgetApi } = await import('matrix-widget-api');
  return connectWidgetApiWith(WidgetApi as unknown as WidgetApiClass, params, roomId);
}

let guarded: string | undefined;

/**
 * matrix-widget-api does not check where a message comes from: drop, before it sees them, messages
 * that are not from the parent window at the parent's origin. (A capturing listener on the window runs
 * before the library's own listener, and stops the event there.)
 */
export function acceptMessagesOnlyFrom(parentOrigin: string): void {
  if (guarded === parentOrigin) return;
  if (guarded !== undefined) throw new Error('the widget is already bound to another parent origin');
  guarded = parentOrigin;
  window.addEventListener(
    'message',
    (event) => {
      if (event.origin !== parentOrigin || event.source !== window.parent) event.stopImmediatePropagation();
    },
    { capture: true },
  );
}
