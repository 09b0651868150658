/**
 * The demo widget host: signs the demo user in with matrix-js-sdk (with encryption) and hosts the oracle
 * widget (served from another origin) in an iframe through `ClientWidgetApi`, as Element does. The
 * widget's call events are encrypted here, by the host's client, as Element encrypts them.
 */
import { ClientWidgetApi, Widget, WidgetApiFromWidgetAction } from 'matrix-widget-api';
import { loadDemoConfig } from './config.ts';
import { startMatrixClient } from './matrix-client.ts';
import { signedInAs } from './signed-in.ts';
import { OracleWidgetDriver } from './widget-driver.ts';

const who = document.getElementById('who')!;
const capabilities = document.getElementById('capabilities')!;

try {
  const config = await loadDemoConfig();
  const client = await startMatrixClient(config);
  who.textContent = `${signedInAs(client, config.roomId)}; the widget runs at ${new URL(config.widgetUrl).origin}.`;

  const widgetId = 'oracle-call-demo';
  // The URL template Element fills in; the host adds widgetId and parentUrl. Parameters go in the fragment.
  const template = `${config.widgetUrl}#?widgetId=$widgetId&parentUrl=$parentUrl&userId=$matrix_user_id&roomId=$matrix_room_id&backendUrl=${encodeURIComponent(config.backendUrl)}&callType=video&theme=dark`;
  const widget = new Widget({ id: widgetId, creatorUserId: config.userId, type: 'm.custom', url: template, waitForIframeLoad: true });
  const url = widget.getCompleteUrl({
    widgetRoomId: config.roomId,
    currentUserId: config.userId,
    userDisplayName: config.userId,
    clientId: 'io.oracle-call.demo',
    clientLanguage: 'en',
  });
  const iframe = document.createElement('iframe');
  iframe.title = 'Oracle call widget';
  iframe.allow = 'camera; microphone; autoplay';
  iframe.src = url.replace('$widgetId', encodeURIComponent(widgetId)).replace('$parentUrl', encodeURIComponent(window.location.href));
  // The API needs the frame's window: the iframe goes into the page first.
  document.getElementById('frame')!.append(iframe);
  const driver = new OracleWidgetDriver(client, config.roomId);
  const api = new ClientWidgetApi(widget, iframe, driver);
  api.on('ready', () => {
    capabilities.textContent = `Widget ready; granted: ${[...driver.granted].join(', ') || 'nothing'}.`;
  });
  api.on(`action:${WidgetApiFromWidgetAction.SendEvent}`, () => {
    capabilities.textContent = 'The widget sent a call event through this host.';
  });
} catch (error) {
  who.textContent = `The demo could not start: ${(error as Error).message}`;
  who.setAttribute('role', 'alert');
}
