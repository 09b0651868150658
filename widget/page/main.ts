/**
 * The Matrix/Element widget page: reads the widget parameters (fragment first, then query), and mounts
 * `<oracle-call>`, which talks to the host through the widget API (capabilities for sending and
 * receiving `m.ixo.oracles_call` and OpenID; messages accepted only from the parent's origin).
 *
 * Parameters besides Element's `widgetId`, `parentUrl`, `userId` and `roomId`: `backendUrl` (required),
 * `callType` (`audio`|`video`), `theme` (`light`|`dark`), `lang` (Element fills it from
 * `$org.matrix.msc2873.client_language`: the user's language; else the browser's).
 */
import { WidgetApi } from 'matrix-widget-api';
import '../bundle-entry.ts';
import { isCallType } from '../../protocol/index.ts';
import { setupWords } from '../copy.ts';
import { matchLocale, useLocale } from '../i18n/localize.ts';
import { connectWidgetApiWith, widgetParamsFrom } from '../transport/widget-api-transport.ts';
import type { WidgetApiLike } from '../transport/widget-api-transport.ts';

function param(name: string): string | undefined {
  const fragment = new URLSearchParams(window.location.hash.replace(/^#\/?\??/, ''));
  const query = new URLSearchParams(window.location.search);
  return fragment.get(name) ?? query.get(name) ?? undefined;
}

// The page's own `<html lang>` is only a default: the host's language parameter, else the browser's.
const locale = matchLocale([param('lang'), ...navigator.languages]);
document.documentElement.lang = locale;

async function showSetupError(message: () => string): Promise<void> {
  await useLocale(locale).catch(() => undefined);
  const box = document.createElement('p');
  box.className = 'setup-error';
  box.setAttribute('role', 'alert');
  box.textContent = message();
  document.body.append(box);
}

const widget = widgetParamsFrom(window.location);
const backendUrl = param('backendUrl');
if (!widget) {
  void showSetupError(setupWords.notAWidget);
} else if (!backendUrl) {
  void showSetupError(setupWords.noBackendUrl);
} else {
  const element = document.createElement('oracle-call');
  element.setAttribute('backend-url', backendUrl);
  const callType = param('callType');
  if (isCallType(callType)) element.setAttribute('call-type', callType);
  const theme = param('theme');
  element.setAttribute('theme', theme === 'light' ? 'light' : 'dark');
  if (widget.roomId) element.setAttribute('matrix-room-id', widget.roomId);
  element.setAttribute('lang', locale);
  // Listen to the host at once (see connectWidgetApiWith); the element uses this connection.
  connectWidgetApiWith(WidgetApi as unknown as new (id: string, origin: string) => WidgetApiLike, widget).catch(() => {
    // The element reports a failed connection when a call needs it.
  });
  document.body.append(element);
}
