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

/** A to-widget request as matrix-widget-api hands it to listeners (a cancelable CustomEvent). */
interface ToWidgetActionEvent {
  readonly detail: { readonly action: string; readonly data?: Record<string, unknown> };
  preventDefault(): void;
}

/** The part of matrix-widget-api's `WidgetApi` this transport uses. */
export interface WidgetApiLike {
  requestCapabilityToSendEvent(eventType: string): void;
  requestCapabilityToReceiveEvent(eventType: string): void;
  requestCapabilityForRoomTimeline(roomId: string): void;
  requestOpenIDConnectToken(): Promise<{ access_token?: string; matrix_server_name?: string; token_type?: string; expires_in?: number }>;
  sendRoomEvent(eventType: string, content: unknown, roomId?: string): Promise<{ event_id?: string; room_id?: string }>;
  start(): void;
  once(event: 'ready', listener: () => void): unknown;
  /** To-widget actions (`action:capabilities`, `action:notify_capabilities`, `action:theme_change`). */
  on?(event: string, listener: (event: ToWidgetActionEvent) => void): unknown;
  /** Whether the host granted a capability (the requested ones when the host does not say). */
  hasCapability?(capability: string): boolean;
  /** Asks the host again for the requested capabilities (MSC2974); the answer comes as `notify_capabilities`. */
  updateRequestedCapabilities?(): Promise<void>;
  readonly transport?: { reply(request: unknown, response: Record<string, unknown>): void };
}

import type { WidgetParams } from './widget-params.ts';

export { widgetParamsFrom } from './widget-params.ts';
export type { WidgetParams } from './widget-params.ts';

/**
 * Where the widget stands with its host: connecting (no word from the host yet), waiting for the
 * person to approve its capabilities in the host's dialog (for as long as they take), ready, or ready
 * without the capabilities a call needs (refused).
 */
export type WidgetHostStatus = 'connecting' | 'awaiting-approval' | 'ready' | 'refused';

export interface WidgetHostHooks {
  /** Each change of the host status. */
  readonly onStatus?: (status: WidgetHostStatus) => void;
  /** The host's theme changed (`theme_change`, e.g. Element's `light` or `dark`); acknowledged for the host. */
  readonly onThemeChange?: (name: string) => void;
}

const SEND_CAPABILITY = `org.matrix.msc2762.send.event:${CALL_EVENT_TYPE}`;

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

  /** What the host last said it granted (`notify_capabilities`); undefined while it said nothing. */
  private approved: readonly string[] | undefined;

  private readonly approvals = new Set<() => void>();

  private constructor(
    private readonly api: WidgetApiLike,
    readonly userId: string | null,
    roomId: string | undefined,
    private readonly hooks: WidgetHostHooks,
  ) {
    if (roomId) this.roomId = roomId;
  }

  /**
   * Asks for the capabilities, starts the API and waits for the host's "ready" (capabilities
   * negotiated). There is no time limit: the host shows the person a dialog, and people read dialogs;
   * `hooks.onStatus` says when the host asked (`awaiting-approval`) and when it answered.
   * `roomId`: the room the call event goes to, when the widget names it.
   */
  static async start(api: WidgetApiLike, options: { userId?: string; roomId?: string } & WidgetHostHooks = {}): Promise<WidgetApiTransport> {
    const { userId, roomId, ...hooks } = options;
    const transport = new WidgetApiTransport(api, userId ?? null, roomId, hooks);
    api.requestCapabilityToSendEvent(CALL_EVENT_TYPE);
    api.requestCapabilityToReceiveEvent(CALL_EVENT_TYPE);
    if (roomId) api.requestCapabilityForRoomTimeline(roomId);
    transport.listen();
    const ready = new Promise<void>((resolve) => api.once('ready', () => resolve()));
    hooks.onStatus?.('connecting');
    api.start();
    await ready;
    hooks.onStatus?.(transport.allowed() ? 'ready' : 'refused');
    return transport;
  }

  private listen(): void {
    const { api, hooks } = this;
    api.on?.('action:capabilities', () => hooks.onStatus?.('awaiting-approval'));
    api.on?.('action:notify_capabilities', (event) => {
      const approved = event.detail.data?.approved;
      if (Array.isArray(approved)) this.approved = approved.filter((c): c is string => typeof c === 'string');
      for (const resolve of this.approvals) resolve();
      this.approvals.clear();
    });
    // Element feeds the widget the room's call events it may receive; the element does not follow them
    // (the backend does), but an unanswered action is an error in Element's log.
    api.on?.('action:send_event', (event) => {
      event.preventDefault();
      api.transport?.reply(event.detail, {});
    });
    // Element sends its theme at load and on every change.
    api.on?.('action:theme_change', (event) => {
      event.preventDefault();
      api.transport?.reply(event.detail, {});
      const name = event.detail.data?.name;
      if (typeof name === 'string') hooks.onThemeChange?.(name);
    });
  }

  /** Whether the host granted sending call events (hosts that do not say are taken at their word). */
  private allowed(): boolean {
    if (this.approved) return this.approved.includes(SEND_CAPABILITY);
    return this.api.hasCapability?.(SEND_CAPABILITY) ?? true;
  }

  /**
   * Before a call: when the person declined the capabilities, the host is asked again (MSC2974,
   * Element shows its dialog again) and the answer is waited for as long as they take, so "Try again"
   * works without reloading the widget.
   */
  private async ensureAllowed(): Promise<void> {
    if (this.allowed()) return;
    if (!this.api.updateRequestedCapabilities) {
      throw new MatrixTransportError('The widget host did not allow the widget to send call events', { retryable: false });
    }
    this.hooks.onStatus?.('awaiting-approval');
    const answered = new Promise<void>((resolve) => this.approvals.add(resolve));
    try {
      await this.api.updateRequestedCapabilities();
    } catch (error) {
      this.hooks.onStatus?.('refused');
      throw classify(error, 'Asking the widget host for permission again');
    }
    await answered;
    this.hooks.onStatus?.(this.allowed() ? 'ready' : 'refused');
    if (!this.allowed()) throw new MatrixTransportError('The widget host did not allow the widget to send call events', { retryable: false });
  }

  async getOpenIdToken(): Promise<OpenIdToken> {
    await this.ensureAllowed();
    let credentials: unknown;
    try {
      credentials = await this.api.requestOpenIDConnectToken();
    } catch (error) {
      throw classify(error, 'Getting a Matrix OpenID token');
    }
    return checkOpenIdToken(credentials);
  }

  async sendCallEvent(roomId: string, content: CallEventPayload): Promise<string> {
    await this.ensureAllowed();
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

/**
 * The page's one connection to its host. It is never dropped and made again: a host negotiates
 * capabilities once per widget frame, so a second `WidgetApi` would never be answered.
 */
let connection: Promise<WidgetApiTransport> | undefined;

/**
 * Connects to the widget host now, with the widget API class already loaded: the widget page does this
 * as it loads, because a host that waits for the iframe's load event (Element's default) asks for the
 * capabilities right then, and a widget that is not yet listening would never be asked again.
 * Later calls (the element's, when a call starts) get the same connection, which waits as long as the
 * person takes to approve the capabilities.
 */
export function connectWidgetApiWith(
  WidgetApi: WidgetApiClass,
  params: WidgetParams,
  roomId?: string,
  hooks: WidgetHostHooks = {},
): Promise<WidgetApiTransport> {
  if (!connection) {
    const parentOrigin = new URL(params.parentUrl).origin;
    acceptMessagesOnlyFrom(parentOrigin);
    const room = roomId ?? params.roomId;
    connection = WidgetApiTransport.start(new WidgetApi(params.widgetId, parentOrigin), {
      ...(params.userId ? { userId: params.userId } : {}),
      ...(room ? { roomId: room } : {}),
      ...hooks,
    });
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
