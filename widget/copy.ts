/** The words `<oracle-call>` shows and announces for each state (errors have theirs in errors.ts). */
import type { EncryptionStatus } from './media-session.ts';
import type { CallState, CallType, EndReason } from './state.ts';

/** `m:ss`, or `h:mm:ss` past an hour. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
}

/** A duration in words, for screen readers ("2 minutes 5 seconds"). */
export function spokenDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const parts: string[] = [];
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  if (hours) parts.push(`${hours} ${hours === 1 ? 'hour' : 'hours'}`);
  if (minutes) parts.push(`${minutes} ${minutes === 1 ? 'minute' : 'minutes'}`);
  if (seconds || parts.length === 0) parts.push(`${seconds} ${seconds === 1 ? 'second' : 'seconds'}`);
  return parts.join(' ');
}

export function callTypeName(callType: CallType): string {
  return callType === 'video' ? 'video call' : 'audio call';
}

/** The one-line status shown for a state. */
export function statusText(state: CallState): string {
  switch (state.phase) {
    case 'idle':
      return 'Talk with the oracle';
    case 'preparing-media':
      return state.callType === 'video' ? 'Getting your microphone and camera ready…' : 'Getting your microphone ready…';
    case 'calling':
      return 'Calling the oracle…';
    case 'connecting':
      return 'Connecting securely…';
    case 'waiting-for-oracle':
      return 'Waiting for the oracle to join…';
    case 'in-call':
      return 'In call with the oracle';
    case 'ending':
      return 'Ending the call…';
    case 'ended':
      return END_TEXT[state.reason];
    case 'error':
      return state.error.title;
  }
}

const END_TEXT: Readonly<Record<EndReason, string>> = {
  'hang-up': 'Call ended',
  'oracle-left': 'The oracle ended the call',
  'oracle-cannot-hear': 'The oracle cannot hear you right now',
  'oracle-cannot-answer': 'The oracle cannot answer right now',
};

/** What the live region says when the element enters a state. */
export function announcement(state: CallState, encryption: EncryptionStatus): string {
  switch (state.phase) {
    case 'idle':
      return '';
    case 'in-call':
      return encryption === 'encrypted'
        ? 'Connected to the oracle. The call is end-to-end encrypted.'
        : 'Connected to the oracle.';
    case 'ended':
      return state.durationMs > 0 ? `${statusText(state)} after ${spokenDuration(state.durationMs)}.` : `${statusText(state)}.`;
    case 'error':
      return `${state.error.title}. ${state.error.message}`;
    default:
      return statusText(state);
  }
}

export const ENCRYPTION_TEXT: Readonly<Record<EncryptionStatus, string>> = {
  encrypted: 'End-to-end encrypted',
  pending: 'Checking encryption…',
  'not-encrypted': 'Not encrypted',
};
