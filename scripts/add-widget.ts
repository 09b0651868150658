/**
 * Adds the oracle call widget to a Matrix room the way integration managers do: an
 * `im.vector.modular.widgets` state event (Element's widget event; its state key is the widget ID)
 * with a name, the URL template Element fills in, and `waitForIframeLoad`, plus Element's
 * `io.element.widgets.layout` state event, which puts the widget in the room's right-hand panel.
 * Both are state events, so the sender needs the power to send state in the room (the room's creator
 * has it). Sending them again with the same values changes nothing.
 */

export const WIDGET_EVENT_TYPE = 'im.vector.modular.widgets';
export const LAYOUT_EVENT_TYPE = 'io.element.widgets.layout';
export const DEFAULT_WIDGET_ID = 'oracle-call';
export const WIDGET_NAME = 'Oracle call';

export interface WidgetSetup {
  /** The widget page, e.g. https://your-oracle.example/widget/page/index.html */
  readonly pageUrl: string;
  readonly backendUrl: string;
  readonly callType?: 'audio' | 'video';
  readonly widgetId?: string;
}

/**
 * The widget's URL template. Element puts `widgetId` and `parentUrl` in the query itself and fills the
 * `$…` variables; the parameters sit in the fragment, so they never reach a server's logs.
 */
export function widgetUrlTemplate(setup: WidgetSetup): string {
  const page = new URL(setup.pageUrl);
  page.hash = '';
  const parts = [
    'widgetId=$matrix_widget_id',
    'userId=$matrix_user_id',
    'roomId=$matrix_room_id',
    'theme=$org.matrix.msc2873.client_theme',
    'language=$org.matrix.msc2873.client_language',
    `backendUrl=${encodeURIComponent(setup.backendUrl)}`,
    `callType=${setup.callType ?? 'audio'}`,
  ];
  return `${page.href}#?${parts.join('&')}`;
}

/** The content of the `im.vector.modular.widgets` state event. */
export function widgetEventContent(setup: WidgetSetup, creatorUserId: string): Record<string, unknown> {
  const id = setup.widgetId ?? DEFAULT_WIDGET_ID;
  return {
    id,
    type: 'm.custom',
    name: WIDGET_NAME,
    url: widgetUrlTemplate(setup),
    data: { title: 'Encrypted calls with the oracle' },
    creatorUserId,
    waitForIframeLoad: true,
  };
}

/** The content of Element's layout event: the widget in the right-hand panel, first. */
export function layoutEventContent(widgetId: string): Record<string, unknown> {
  return { widgets: { [widgetId]: { container: 'right', index: 0 } } };
}

export interface AddWidgetOptions extends WidgetSetup {
  readonly homeserverUrl: string;
  readonly accessToken: string;
  readonly roomId: string;
}

async function matrix<T>(options: AddWidgetOptions, method: string, route: string, body?: unknown): Promise<T> {
  const response = await fetch(new URL(route, options.homeserverUrl), {
    method,
    headers: { authorization: `Bearer ${options.accessToken}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const answer = (await response.json().catch(() => ({}))) as T & { errcode?: string; error?: string };
  if (!response.ok) throw new Error(`${method} ${route}: HTTP ${response.status} ${answer.errcode ?? ''} ${answer.error ?? ''}`.trim());
  return answer;
}

/** Sends both state events; answers the widget ID. */
export async function addWidget(options: AddWidgetOptions): Promise<string> {
  const widgetId = options.widgetId ?? DEFAULT_WIDGET_ID;
  const { user_id: userId } = await matrix<{ user_id: string }>(options, 'GET', '/_matrix/client/v3/account/whoami');
  const room = `/_matrix/client/v3/rooms/${encodeURIComponent(options.roomId)}/state`;
  await matrix(options, 'PUT', `${room}/${WIDGET_EVENT_TYPE}/${encodeURIComponent(widgetId)}`, widgetEventContent(options, userId));
  await matrix(options, 'PUT', `${room}/${LAYOUT_EVENT_TYPE}/`, layoutEventContent(widgetId));
  return widgetId;
}
