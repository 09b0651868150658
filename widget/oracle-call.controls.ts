/** The status line's facts (timer, encryption, speaking) and the row of buttons, for each state. */
import { html, nothing } from 'lit';
import { encryptionText, formatDuration, muteShortcutHint, shortcutHint, startCallLabel, words } from './copy.ts';
import { hangUpIcon, lockIcon, micIcon, phoneIcon, settingsIcon, videoIcon } from './icons.ts';
import type { MediaSnapshot } from './media-session.ts';
import { lobbyWords } from './oracle-call.lobby.ts';
import { SHORTCUTS } from './shortcuts.ts';
import type { CallState, CallType } from './state.ts';

export function renderCallFacts(state: CallState, snapshot: MediaSnapshot, now: number) {
  const connected = state.phase === 'connecting' || state.phase === 'waiting-for-oracle' || state.phase === 'in-call' || state.phase === 'reconnecting';
  return html`
    ${
      state.phase === 'in-call' || state.phase === 'reconnecting'
        ? html`<span part="timer" class="timer" role="timer" aria-label=${words.callDuration()}>${formatDuration(now - state.since)}</span>`
        : nothing
    }
    ${state.phase === 'ended' && state.durationMs >= 1000 ? html`<span part="timer" class="timer">${formatDuration(state.durationMs)}</span>` : nothing}
    ${
      connected
        ? html`<span part="encryption" class="badge encryption" data-status=${snapshot.encryption}>${lockIcon}${encryptionText(snapshot.encryption)}</span>`
        : nothing
    }
    ${state.phase === 'in-call' && snapshot.oracleSpeaking ? html`<span part="speaking" class="badge speaking-badge">${words.oracleSpeaking()}</span>` : nothing}
  `;
}

/** What the buttons show and do. */
export interface ControlsView {
  readonly state: CallState;
  readonly snapshot: MediaSnapshot;
  /** The call type of the main button, and of a call made again. */
  readonly mainCallType: CallType;
  readonly lastCallType: CallType;
  readonly hasMedia: boolean;
  readonly devicesOpen: boolean;
  readonly lobby: { readonly ready: boolean; readonly callType: CallType };
  start(callType: CallType): void;
  /** A call button is pointed at: load what a call needs first. */
  warmUp(): void;
  join(): void;
  leaveLobby(): void;
  close(): void;
  startAudio(): void;
  toggleMicrophone(): void;
  toggleCamera(): void;
  toggleDevices(): void;
  hangUp(): void;
}

export function renderControls(view: ControlsView) {
  const { state, snapshot } = view;
  const phase = state.phase;
  const main = view.mainCallType;
  const other: CallType = main === 'audio' ? 'video' : 'audio';
  switch (state.phase) {
    case 'idle':
      return html`
        <button part="call-button" class="primary" data-autofocus @pointerenter=${() => view.warmUp()} @click=${() => view.start(main)}>
          ${main === 'video' ? videoIcon : phoneIcon}${startCallLabel(main)}
        </button>
        <button part="alt-call-button" @pointerenter=${() => view.warmUp()} @click=${() => view.start(other)}>
          ${other === 'video' ? videoIcon : phoneIcon}${startCallLabel(other)}
        </button>
      `;
    case 'lobby':
      return html`
        <button part="join-button" class="primary" data-autofocus ?disabled=${!view.lobby.ready} @click=${() => view.join()}>
          ${view.lobby.callType === 'video' ? videoIcon : phoneIcon}${lobbyWords.join()}
        </button>
        <button part="close-button" aria-keyshortcuts=${SHORTCUTS.hangUp} title=${shortcutHint(SHORTCUTS.hangUp)} @click=${() => view.leaveLobby()}>
          ${lobbyWords.cancel()}
        </button>
      `;
    case 'ended':
      return html`
        <button part="call-button" class="primary" data-autofocus @click=${() => view.start(view.lastCallType)}>${words.callAgain()}</button>
        <button part="close-button" @click=${() => view.close()}>${words.close()}</button>
      `;
    case 'error': {
      const retryable = state.error.retryable;
      return html`
        ${
          retryable
            ? html`<button part="retry-button" class="primary" data-autofocus @click=${() => view.start(view.lastCallType)}>${words.tryAgain()}</button>`
            : nothing
        }
        <button part="close-button" ?data-autofocus=${!retryable} @click=${() => view.close()}>${words.close()}</button>
      `;
    }
    default: {
      const ready = view.hasMedia && phase !== 'preparing-media' && phase !== 'ending';
      const video = state.callType === 'video';
      return html`
        ${
          phase === 'in-call' && snapshot.audioBlocked
            ? html`<button part="sound-button" class="primary" @click=${() => view.startAudio()}>${words.turnOnSound()}</button>`
            : nothing
        }
        <button
          part="mute-button"
          aria-keyshortcuts=${SHORTCUTS.mute}
          title=${muteShortcutHint(SHORTCUTS.mute, SHORTCUTS.pushToTalk)}
          aria-pressed=${ready && !snapshot.microphoneEnabled ? 'true' : 'false'}
          ?disabled=${!ready}
          @click=${() => view.toggleMicrophone()}
        >
          ${micIcon}${words.mute()}
        </button>
        ${
          video
            ? html`<button
              part="camera-button"
              aria-keyshortcuts=${SHORTCUTS.camera}
              title=${shortcutHint(SHORTCUTS.camera)}
              aria-pressed=${ready && !snapshot.cameraEnabled ? 'true' : 'false'}
              ?disabled=${!ready}
              @click=${() => view.toggleCamera()}
            >
              ${videoIcon}${words.cameraOff()}
            </button>`
            : nothing
        }
        <button part="devices-button" aria-expanded=${view.devicesOpen ? 'true' : 'false'} aria-controls="devices" ?disabled=${!ready} @click=${() => view.toggleDevices()}>
          ${settingsIcon}${words.devices()}
        </button>
        <button
          part="hangup-button"
          class="danger"
          data-autofocus
          aria-keyshortcuts=${SHORTCUTS.hangUp}
          title=${shortcutHint(SHORTCUTS.hangUp)}
          ?disabled=${phase === 'ending'}
          @click=${() => view.hangUp()}
        >
          ${hangUpIcon}${phase === 'in-call' || phase === 'reconnecting' ? words.hangUp() : words.cancelCall()}
        </button>
      `;
    }
  }
}
