/**
 * The Matrix/Element widget page: reads the widget parameters (see widget-params.ts: fragment first,
 * then query, unfilled `$…` template variables count as absent), shows what is wrong when one is
 * missing or malformed, and otherwise mounts `<oracle-call>`, which talks to the host through the
 * widget API (capabilities for sending and receiving `m.ixo.oracles_call` and OpenID; messages accepted
 * only from the parent's origin).
 *
 * Parameters besides Element's `widgetId`, `parentUrl`, `userId` and `roomId`: `backendUrl` (required),
 * `callType` (`audio`|`video`), `theme` (Element's `$org.matrix.msc2873.client_theme`, then its
 * `theme_change` actions) and `language` (`$org.matrix.msc2873.client_language`: the person's language in
 * Element; `lang` is read too, then the browser's languages).
 */
import { WidgetApi } from 'matrix-widget-api';
import '../bundle-entry.ts';
import { connectWidgetApiWith } from '../transport/widget-api-transport.ts';
import type { WidgetApiLike, WidgetHostStatus } from '../transport/widget-api-transport.ts';
import { setupWords } from '../copy.ts';
import { matchLocale, useLocale } from '../i18n/localize.ts';
import { parseWidgetPage, widgetParam, widgetTheme } from '../transport/widget-params.ts';
import type { WidgetTheme } from '../transport/widget-params.ts';

const HOST_STATUS_TEXT: Readonly<Record<WidgetHostStatus, () => string>> = {
  connecting: () => '',
  'awaiting-approval': setupWords.awaitingApproval,
  ready: () => '',
  refused: setupWords.refused,
};

function applyTheme(element: HTMLElement, theme: WidgetTheme | undefined): void {
  if (theme) {
    element.setAttribute('theme', theme);
    document.documentElement.dataset.theme = theme;
  } else {
    element.removeAttribute('theme');
    delete document.documentElement.dataset.theme;
  }
}

function showSetupErrors(problems: readonly string[]): void {
  const box = document.createElement('div');
  box.className = 'setup-error';
  box.setAttribute('role', 'alert');
  const title = document.createElement('p');
  title.className = 'setup-error-title';
  title.textContent = setupWords.title();
  const list = document.createElement('ul');
  for (const problem of problems) list.append(Object.assign(document.createElement('li'), { textContent: problem }));
  box.append(title, list);
  document.body.append(box);
}

// The element's language (and the page's): the host's `language`, else `lang`, else the browser's.
const locale = matchLocale([widgetParam(window.location, 'language'), widgetParam(window.location, 'lang'), ...navigator.languages]);
document.documentElement.lang = locale;
// Words in another language are a chunk of their own: the texts below are (re)made once it is loaded.
const localeReady = useLocale(locale).catch(() => undefined);

const parsed = parseWidgetPage(window.location);
if (!parsed.ok) {
  void localeReady.then(() => {
    const again = parseWidgetPage(window.location);
    showSetupErrors(again.ok ? [] : again.problems);
  });
} else {
  const { widget, backendUrl, callType, theme } = parsed.params;
  const notice = document.createElement('p');
  notice.className = 'host-status';
  notice.setAttribute('role', 'status');
  const element = document.createElement('oracle-call');
  element.setAttribute('backend-url', backendUrl);
  element.setAttribute('lang', locale);
  if (callType) element.setAttribute('call-type', callType);
  element.setAttribute('matrix-room-id', widget.roomId);
  applyTheme(element, theme);
  let hostStatus: WidgetHostStatus = 'connecting';
  const showStatus = () => {
    notice.textContent = HOST_STATUS_TEXT[hostStatus]();
    notice.hidden = !notice.textContent;
  };
  void localeReady.then(showStatus);
  // Listen to the host at once (see connectWidgetApiWith); the element uses this connection.
  connectWidgetApiWith(WidgetApi as unknown as new (id: string, origin: string) => WidgetApiLike, widget, widget.roomId, {
    onStatus: (status) => {
      hostStatus = status;
      showStatus();
      document.body.dataset.hostStatus = status;
    },
    onThemeChange: (name) => applyTheme(element, widgetTheme(name)),
  }).catch(() => {
    // The element reports a failed connection when a call needs it.
  });
  document.body.append(notice, element);
}
