/** Pieces of `<oracle-call>`'s template that depend only on the state and the media: the stage and the device choice. */
import { html, nothing } from 'lit';
import { deviceLabel, words } from './copy.ts';
import type { DeviceKind, MediaSnapshot } from './media-session.ts';
import type { CallState } from './state.ts';

function isVideoCall(state: CallState): boolean {
  return state.phase !== 'idle' && state.callType === 'video';
}

/** The oracle's video (or its avatar, glowing while it speaks) and the local preview in video calls. */
export function renderStage(state: CallState, snapshot: MediaSnapshot) {
  const video = isVideoCall(state);
  return html`<div part="stage" class="stage ${video ? 'video' : 'audio'}">
    ${
      snapshot.oracleVideo
        ? html`<video part="oracle-video" class="oracle-video" autoplay playsinline muted aria-label=${words.oracleVideo()}></video>`
        : html`<div part="avatar" class="avatar ${snapshot.oracleSpeaking ? 'speaking' : ''}" aria-hidden="true">✶</div>`
    }
    ${
      video && snapshot.localVideo
        ? html`<video part="local-video" class="local-video" autoplay playsinline muted aria-label=${words.yourCamera()}></video>`
        : nothing
    }
  </div>`;
}

/** A labelled list per device kind: microphone, the camera in video calls, the speaker where it can be chosen. */
export function renderDevices(state: CallState, snapshot: MediaSnapshot, onSelect: (kind: DeviceKind, event: Event) => void) {
  const kinds: DeviceKind[] = ['audioinput'];
  if (isVideoCall(state)) kinds.push('videoinput');
  if (snapshot.canSelectSpeaker) kinds.push('audiooutput');
  return html`<fieldset part="devices" id="devices" class="devices">
    <legend>${words.devices()}</legend>
    ${kinds.map(
      (kind) => html`<div class="device">
        <label for="devices-${kind}">${deviceLabel(kind)}</label>
        <select id="devices-${kind}" @change=${(event: Event) => onSelect(kind, event)}>
          ${snapshot.devices[kind].map(
            (device) => html`<option value=${device.deviceId} ?selected=${snapshot.activeDevices[kind] === device.deviceId}>${device.label}</option>`,
          )}
        </select>
      </div>`,
    )}
  </fieldset>`;
}
