/**
 * The lobby's view: the camera preview, the microphone's level, the device choice, the microphone and
 * camera toggles, and what to do when the microphone cannot be used (per browser where it differs).
 */
import { html, nothing } from 'lit';
import { msg, str } from '@lit/localize';
import { deviceLabel, shortcutHint, words } from './copy.ts';
import { CallErrorReason } from './errors.ts';
import { micIcon, videoIcon } from './icons.ts';
import type { DeviceNotice, LobbySnapshot } from './lobby.ts';
import { SHORTCUTS } from './shortcuts.ts';
import type { DeviceKind } from './media-session.ts';

export type BrowserFamily = 'chromium' | 'firefox' | 'safari';

/** Where a browser keeps a site's camera and microphone permission differs: the advice follows it. */
export function browserFamily(userAgent: string = navigator.userAgent): BrowserFamily {
  if (/Firefox\//.test(userAgent)) return 'firefox';
  if (/Safari\//.test(userAgent) && !/Chrome|Chromium|Edg\//.test(userAgent)) return 'safari';
  return 'chromium';
}

function blockedAdvice(family: BrowserFamily): string {
  switch (family) {
    case 'firefox':
      return msg('Select the crossed-out microphone icon in the address bar, remove the block, then press Try again.', { id: 'lobby-blocked-firefox' });
    case 'safari':
      return msg('In the Safari menu, choose Settings for This Website, set Microphone and Camera to Allow, then press Try again.', {
        id: 'lobby-blocked-safari',
      });
    case 'chromium':
      return msg('Select the site settings icon at the left of the address bar, allow Microphone and Camera, then press Try again.', {
        id: 'lobby-blocked-chromium',
      });
  }
}

/** The title and the advice when the microphone cannot be used. */
export function lobbyProblem(status: LobbySnapshot['status'], family: BrowserFamily = browserFamily()): { title: string; advice: string } | undefined {
  switch (status) {
    case 'permission-denied':
      return { title: msg('Your browser is blocking the microphone', { id: 'lobby-blocked-title' }), advice: blockedAdvice(family) };
    case 'no-microphone':
      return {
        title: msg('No microphone found', { id: 'lobby-no-microphone-title' }),
        advice: msg('Connect a microphone or headset (or switch it on), then press Try again.', { id: 'lobby-no-microphone-advice' }),
      };
    case 'device-in-use':
      return {
        title: msg('The microphone could not start', { id: 'lobby-in-use-title' }),
        advice: msg('Another app may be using it. Close that app, then press Try again.', { id: 'lobby-in-use-advice' }),
      };
    default:
      return undefined;
  }
}

/** Why the camera cannot be shown: the call can go on without it. */
export function cameraProblemText(reason: CallErrorReason): string {
  switch (reason) {
    case CallErrorReason.PermissionDenied:
      return msg("Your browser is blocking the camera. You can join without it, or allow it in the browser's site settings.", { id: 'lobby-camera-blocked' });
    case CallErrorReason.DeviceNotFound:
      return msg('No camera found: the call will be audio only.', { id: 'lobby-camera-not-found' });
    default:
      return msg('The camera could not start (another app may be using it). You can join without it.', { id: 'lobby-camera-in-use' });
  }
}

export function noticeText(notice: DeviceNotice): string {
  const gone = notice.gone || deviceLabel(notice.kind);
  if (notice.now === undefined) return msg(str`${gone} was disconnected.`, { id: 'lobby-device-gone' });
  const now = notice.now;
  return msg(str`${gone} was disconnected. Now using ${now}.`, { id: 'lobby-device-fallback' });
}

export const lobbyWords = {
  join: () => msg('Join call', { id: 'lobby-join' }),
  cancel: () => msg('Cancel', { id: 'lobby-cancel' }),
  level: () => msg('Microphone level', { id: 'lobby-level' }),
  preview: () => msg('Preview of your camera', { id: 'lobby-preview' }),
  cameraIsOff: () => msg('Your camera is off', { id: 'lobby-camera-is-off' }),
};

export interface LobbyHandlers {
  selectDevice(kind: DeviceKind, deviceId: string): void;
  toggleMicrophone(): void;
  toggleCamera(): void;
  retry(): void;
}

/** The preview, level, problem or notice, and the device choice (the join and cancel buttons sit in the controls row). */
export function renderLobby(lobby: LobbySnapshot, on: LobbyHandlers) {
  const video = lobby.callType === 'video';
  const problem = lobbyProblem(lobby.status);
  const kinds: DeviceKind[] = ['audioinput'];
  if (video) kinds.push('videoinput');
  if (lobby.canSelectSpeaker && lobby.devices.audiooutput.length > 0) kinds.push('audiooutput');
  return html`<div part="lobby" class="lobby">
    ${
      video
        ? html`<div part="preview" class="stage video preview">
          ${
            lobby.videoTrack
              ? html`<video part="preview-video" class="preview-video" autoplay playsinline muted aria-label=${lobbyWords.preview()}></video>`
              : html`<p class="preview-off">${lobby.cameraProblem ? cameraProblemText(lobby.cameraProblem) : lobbyWords.cameraIsOff()}</p>`
          }
        </div>`
        : nothing
    }
    ${
      problem
        ? html`<div part="lobby-problem" class="error" role="alert">
          <h2 class="error-title">${problem.title}</h2>
          <p class="error-message">${problem.advice}</p>
          <button part="lobby-retry-button" @click=${on.retry}>${words.tryAgain()}</button>
        </div>`
        : nothing
    }
    ${lobby.notice ? html`<p part="lobby-notice" class="notice" role="status">${noticeText(lobby.notice)}</p>` : nothing}
    <div class="lobby-toggles">
      <button part="lobby-mute-button" aria-keyshortcuts=${SHORTCUTS.mute} title=${shortcutHint(SHORTCUTS.mute)} aria-pressed=${lobby.microphoneEnabled ? 'false' : 'true'} ?disabled=${lobby.status !== 'ready'} @click=${on.toggleMicrophone}>
        ${micIcon}${words.mute()}
      </button>
      ${
        video
          ? html`<button part="lobby-camera-button" aria-keyshortcuts=${SHORTCUTS.camera} title=${shortcutHint(SHORTCUTS.camera)} aria-pressed=${lobby.cameraEnabled ? 'false' : 'true'} ?disabled=${lobby.devices.videoinput.length === 0} @click=${on.toggleCamera}>
            ${videoIcon}${words.cameraOff()}
          </button>`
          : nothing
      }
      <label class="level">
        <span>${lobbyWords.level()}</span>
        <meter part="level" min="0" max="1" low="0.25" high="0.9" optimum="0.5" value=${lobby.level}></meter>
      </label>
    </div>
    <fieldset part="lobby-devices" class="devices">
      <legend>${words.devices()}</legend>
      ${kinds.map(
        (kind) => html`<div class="device">
          <label for="lobby-${kind}">${deviceLabel(kind)}</label>
          <select
            id="lobby-${kind}"
            data-kind=${kind}
            ?disabled=${lobby.devices[kind].length === 0}
            @change=${(event: Event) => on.selectDevice(kind, (event.target as HTMLSelectElement).value)}
          >
            ${lobby.devices[kind].map(
              (device) => html`<option value=${device.deviceId} ?selected=${lobby.active[kind] === device.deviceId}>${device.label}</option>`,
            )}
          </select>
        </div>`,
      )}
    </fieldset>
  </div>`;
}
