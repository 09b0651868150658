/**
 * The words `<oracle-call>` shows and announces (errors have theirs in errors.ts). Each is a `msg()`
 * with an explicit id: the English here is the source, and `i18n/locales/<locale>.ts` holds each other
 * language under the same ids. Numbers and durations go through `Intl` in the active locale.
 */
import { msg, str } from '@lit/localize';
import { currentLocale } from './i18n/localize.ts';
import type { DeviceKind, EncryptionStatus } from './media-session.ts';
import type { CallState, CallType, EndReason } from './state.ts';

function parts(ms: number): { hours: number; minutes: number; seconds: number } {
  const total = Math.max(0, Math.floor(ms / 1000));
  return { hours: Math.floor(total / 3600), minutes: Math.floor((total % 3600) / 60), seconds: total % 60 };
}

/** `m:ss`, or `h:mm:ss` past an hour, with the locale's digits. */
export function formatDuration(ms: number, locale: string = currentLocale()): string {
  const { hours, minutes, seconds } = parts(ms);
  const one = new Intl.NumberFormat(locale, { useGrouping: false });
  const two = new Intl.NumberFormat(locale, { minimumIntegerDigits: 2, useGrouping: false });
  return hours > 0 ? `${one.format(hours)}:${two.format(minutes)}:${two.format(seconds)}` : `${one.format(minutes)}:${two.format(seconds)}`;
}

/** A duration in words, for screen readers ("2 minutes and 5 seconds", "2 Minuten und 5 Sekunden"). */
export function spokenDuration(ms: number, locale: string = currentLocale()): string {
  const { hours, minutes, seconds } = parts(ms);
  const unit = (value: number, unit: 'hour' | 'minute' | 'second') => new Intl.NumberFormat(locale, { style: 'unit', unit, unitDisplay: 'long' }).format(value);
  const words: string[] = [];
  if (hours) words.push(unit(hours, 'hour'));
  if (minutes) words.push(unit(minutes, 'minute'));
  if (seconds || words.length === 0) words.push(unit(seconds, 'second'));
  return new Intl.ListFormat(locale, { style: 'long', type: 'conjunction' }).format(words);
}

export function startCallLabel(callType: CallType): string {
  return callType === 'video' ? msg('Start video call', { id: 'start-video-call' }) : msg('Start audio call', { id: 'start-audio-call' });
}

/** The one-line status shown for a state. */
export function statusText(state: CallState): string {
  switch (state.phase) {
    case 'idle':
      return msg('Talk with the oracle', { id: 'status-idle' });
    case 'lobby':
      return state.callType === 'video'
        ? msg('Check your camera and microphone', { id: 'status-lobby-video' })
        : msg('Check your microphone', { id: 'status-lobby-audio' });
    case 'preparing-media':
      return state.callType === 'video'
        ? msg('Getting your microphone and camera ready…', { id: 'status-preparing-video' })
        : msg('Getting your microphone ready…', { id: 'status-preparing-audio' });
    case 'calling':
      return msg('Calling the oracle…', { id: 'status-calling' });
    case 'connecting':
      return msg('Connecting securely…', { id: 'status-connecting' });
    case 'waiting-for-oracle':
      return msg('Waiting for the oracle to join…', { id: 'status-waiting' });
    case 'in-call':
      return msg('In call with the oracle', { id: 'status-in-call' });
    case 'reconnecting':
      return msg('Reconnecting…', { id: 'status-reconnecting' });
    case 'ending':
      return msg('Ending the call…', { id: 'status-ending' });
    case 'ended':
      return endText(state.reason);
    case 'error':
      return state.error.title;
  }
}

/** Why the call ended, in words (the oracle may have said why it left). */
export function endText(reason: EndReason): string {
  switch (reason) {
    case 'hang-up':
      return msg('Call ended', { id: 'status-ended' });
    case 'oracle-left':
      return msg('The oracle ended the call', { id: 'status-oracle-left' });
    case 'oracle-cannot-hear':
      return msg('The oracle cannot hear you right now', { id: 'status-oracle-cannot-hear' });
    case 'oracle-cannot-answer':
      return msg('The oracle cannot answer right now', { id: 'status-oracle-cannot-answer' });
  }
}

/** What the live region says when the element enters a state. */
export function announcement(state: CallState, encryption: EncryptionStatus, previous?: CallState['phase']): string {
  switch (state.phase) {
    case 'idle':
      return '';
    case 'reconnecting':
      return msg('The connection dropped. Reconnecting…', { id: 'announce-reconnecting' });
    case 'in-call':
      if (previous === 'reconnecting') return msg('Reconnected. The call goes on.', { id: 'announce-reconnected' });
      return encryption === 'encrypted'
        ? msg('Connected to the oracle. The call is end-to-end encrypted.', { id: 'announce-connected-encrypted' })
        : msg('Connected to the oracle.', { id: 'announce-connected' });
    case 'ended': {
      const status = statusText(state);
      if (state.durationMs <= 0) return msg(str`${status}.`, { id: 'announce-ended' });
      const duration = spokenDuration(state.durationMs);
      return msg(str`${status} after ${duration}.`, { id: 'announce-ended-after' });
    }
    case 'error': {
      const { title, message } = state.error;
      return msg(str`${title}. ${message}`, { id: 'announce-error' });
    }
    default:
      return statusText(state);
  }
}

export function encryptionText(status: EncryptionStatus): string {
  switch (status) {
    case 'encrypted':
      return msg('End-to-end encrypted', { id: 'encryption-encrypted' });
    case 'pending':
      return msg('Checking encryption…', { id: 'encryption-pending' });
    case 'not-encrypted':
      return msg('Not encrypted', { id: 'encryption-not-encrypted' });
  }
}

/** The name of a kind of device, as a label ("Microphone"). */
export function deviceLabel(kind: DeviceKind): string {
  switch (kind) {
    case 'audioinput':
      return msg('Microphone', { id: 'device-microphone' });
    case 'videoinput':
      return msg('Camera', { id: 'device-camera' });
    case 'audiooutput':
      return msg('Speaker', { id: 'device-speaker' });
  }
}

/** A name for a device the browser does not name ("Microphone 2"). */
export function unnamedDevice(kind: DeviceKind, index: number): string {
  const n = new Intl.NumberFormat(currentLocale()).format(index);
  switch (kind) {
    case 'audioinput':
      return msg(str`Microphone ${n}`, { id: 'device-microphone-n' });
    case 'videoinput':
      return msg(str`Camera ${n}`, { id: 'device-camera-n' });
    case 'audiooutput':
      return msg(str`Speaker ${n}`, { id: 'device-speaker-n' });
  }
}

/** Announced after a device was chosen ("Microphone: Headset"). */
export function deviceChosen(kind: DeviceKind, name: string): string {
  const label = deviceLabel(kind);
  return msg(str`${label}: ${name}`, { id: 'device-chosen' });
}

export function deviceChangeFailed(kind: DeviceKind): string {
  switch (kind) {
    case 'audioinput':
      return msg('The microphone could not be changed', { id: 'microphone-change-failed' });
    case 'videoinput':
      return msg('The camera could not be changed', { id: 'camera-change-failed' });
    case 'audiooutput':
      return msg('The speaker could not be changed', { id: 'speaker-change-failed' });
  }
}

/** The element's other words: labels, buttons, announcements. */
export const words = {
  region: () => msg('Call with the oracle', { id: 'region' }),
  controls: () => msg('Call controls', { id: 'controls' }),
  callDuration: () => msg('Call duration', { id: 'call-duration' }),
  oracleSpeaking: () => msg('The oracle is speaking', { id: 'oracle-speaking' }),
  oracleVideo: () => msg("The oracle's video", { id: 'oracle-video' }),
  yourCamera: () => msg('Your camera', { id: 'your-camera' }),
  devices: () => msg('Devices', { id: 'devices' }),
  mute: () => msg('Mute', { id: 'mute' }),
  cameraOff: () => msg('Camera off', { id: 'camera-off' }),
  hangUp: () => msg('Hang up', { id: 'hang-up' }),
  cancelCall: () => msg('Cancel call', { id: 'cancel-call' }),
  callAgain: () => msg('Call again', { id: 'call-again' }),
  close: () => msg('Close', { id: 'close' }),
  tryAgain: () => msg('Try again', { id: 'try-again' }),
  turnOnSound: () => msg('Turn on sound', { id: 'turn-on-sound' }),
  soundBlocked: () => msg("Your browser paused the oracle's sound. Press Turn on sound to hear it.", { id: 'sound-blocked' }),
  microphoneOn: () => msg('Microphone on', { id: 'microphone-on' }),
  microphoneMuted: () => msg('Microphone muted', { id: 'microphone-muted' }),
  cameraOn: () => msg('Camera on', { id: 'camera-on' }),
  cameraTurnedOff: () => msg('Camera off', { id: 'camera-turned-off' }),
};

/** What the widget page says when it cannot mount the element (widget/page/main.ts). */
/** What the widget page says when its URL is wrong, and while it waits for the host. */
export const setupWords = {
  title: () => msg('This oracle call widget is not set up correctly', { id: 'setup-title' }),
  notAWidget: () =>
    msg('This page is a Matrix widget: open it from Element (or another widget host), which adds widgetId and parentUrl to its address.', {
      id: 'setup-not-a-widget',
    }),
  badParentUrl: (value: string) => msg(str`The widget's parentUrl is not a web address: "${value}".`, { id: 'setup-bad-parent-url' }),
  noRoomId: () => msg('The widget URL has no roomId: add roomId=$matrix_room_id to it.', { id: 'setup-no-room-id' }),
  badRoomId: (value: string) => msg(str`The widget's roomId is not a Matrix room ID: "${value}".`, { id: 'setup-bad-room-id' }),
  noBackendUrl: () =>
    msg('The widget has no backendUrl parameter: add backendUrl=https://your-oracle-backend to the widget URL.', { id: 'setup-no-backend-url' }),
  badBackendUrl: (value: string) => msg(str`The widget's backendUrl is not an http(s) address: "${value}".`, { id: 'setup-bad-backend-url' }),
  badCallType: (value: string) => msg(str`The widget's callType must be audio or video, not "${value}".`, { id: 'setup-bad-call-type' }),
  awaitingApproval: () => msg('Waiting for your approval in Element…', { id: 'host-awaiting-approval' }),
  refused: () => msg('Element did not allow this widget to send call events. Start a call to be asked again.', { id: 'host-refused' }),
  backendNotAllowed: (backendUrl: string) =>
    msg(str`This widget page does not talk to ${backendUrl}: it was built for other backends (VITE_ALLOWED_BACKENDS).`, { id: 'setup-backend-not-allowed' }),
};

/** The tooltip naming a control's key ("Shortcut: M"). */
export function shortcutHint(key: string): string {
  return msg(str`Keyboard shortcut: ${key}`, { id: 'shortcut-hint' });
}

/** The mute button's tooltip: its key, and push-to-talk's. */
export function muteShortcutHint(key: string, pushToTalk: string): string {
  return msg(str`Keyboard shortcut: ${key}. Hold ${pushToTalk} to talk while muted.`, { id: 'shortcut-mute-hint' });
}
