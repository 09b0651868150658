/**
 * The Matrix/Element widget page: reads the widget parameters (fragment first, then query), and mounts
 * `<oracle-call>`, which talks to the host through the widget API (capabilities for sending and
 * receiving `m.ixo.oracles_call` and OpenID; messages accepted only from the parent's origin).
 *
 * Parameters besides Element's `widgetId`, `parentUrl`, `userId` and `roomId`: `backendUrl` (required),
 * `callType` (`audio`|`video`), `theme` (`light`|`dark`).
 */
import { WidgetApi } from 'matrix-widget-api';
import '../bundle-entry.ts';
import { isCallType } from '../../protocol/index.ts';
import { connectWidgetApiWith, widgetParamsFrom } from '../transport/widget-api-transport.ts';
import type { WidgetApiLike } from '../transport/widget-api-transport.ts';

function param(name: string): string | undefined {
  const fragment = new URLSearchParams(window.location.hash.replace(/^#\/?\??/, ''));
  const query = new URLSearchParams(window.location.search);
  return fragment.get(name) ?? query.get(name) ?? undefined;
}

function showSetupError(message: string): void {
  const box = document.createElement('p');
  box.className = 'setup-error';
  box.setAttribute('role', 'alert');
  box.textContent = message;
  document.body.append(box);
}

const widget = widgetParamsFrom(window.location);
const backendUrl = param('backendUrl');
if (!widget) {
  showSetupError('This page is a Matrix widget: open it from Element (or another widget host), which adds widgetId and parentUrl to its address.');
} else if (!backendUrl) {
  showSetupError('The widget has no backendUrl parameter: add backendUrl=https://your-oracle-backend to the widget URL.');
} else {
  const element = document.createElement('oracle-call');
  element.setAttribute('backend-url', backendUrl);
  const callType = param('callType');
  if (isCallType(callType)) element.setAttribute('call-type', callType);
  const theme = param('theme');
  element.setAttribute('theme', theme === 'light' ? 'light' : 'dark');
  if (widget.roomId) element.setAttribute('matrix-room-id', widget.roomId);
  // Listen to the host at once (see connectWidgetApiWith); the element uses this connection.
  connectWidgetApiWith(WidgetApi as unknown as new (id: string, origin: string) => WidgetApiLike, widget).catch(() => {
    // The element reports a failed connection when a call needs it.
  });
  document.body.append(element);
}
