import { msg } from '@lit/localize';

/**
 * Why a call failed: one reason per cause a person can act on, each with a message they understand and
 * a way out (retry, or only close). Technical detail stays in `detail` (for logs and the error event).
 */

/** The reasons a call can fail (an enum as a frozen object, so it is erased to plain strings). */
export const CallErrorReason = {
  /** The browser cannot encrypt media end to end; no call is started at all. */
  E2EEUnsupported: 'e2ee-unsupported',
  /** The element lacks what it needs: a backend URL, a Matrix room, a Matrix connection. */
  NotConfigured: 'not-configured',
  /** GET /oracle failed, or the oracle's facts are unusable. */
  OracleUnavailable: 'oracle-unavailable',
  /** The pinned public key is not a valid key, or the backend announces another one. */
  OracleKeyMismatch: 'oracle-key-mismatch',
  /** The Matrix side (OpenID token, sending the call event) failed. */
  MatrixUnavailable: 'matrix-unavailable',
  /** The backend refused the OpenID token. */
  SignInFailed: 'sign-in-failed',
  /** The person (or the browser) refused the microphone or camera. */
  PermissionDenied: 'permission-denied',
  /** No microphone or camera was found. */
  DeviceNotFound: 'device-not-found',
  /** The microphone or camera is busy or failed to start. */
  DeviceInUse: 'device-in-use',
  /** The backend refused to admit the call. */
  CallRefused: 'call-refused',
  /** The backend could not be reached or failed. */
  BackendUnavailable: 'backend-unavailable',
  /** Connecting to the media server failed. */
  ConnectionFailed: 'connection-failed',
  /** The media would not be end-to-end encrypted. */
  NotEncrypted: 'not-encrypted',
  /** The oracle did not join in time. */
  OracleTimeout: 'oracle-timeout',
  /** No oracle could take the call (all busy); the backend ended it. */
  OracleBusy: 'oracle-busy',
  /** The connection dropped during the call. */
  ConnectionLost: 'connection-lost',
  /** Anything else. */
  Unknown: 'unknown',
} as const;
export type CallErrorReason = (typeof CallErrorReason)[keyof typeof CallErrorReason];

export type ErrorAction = 'retry' | 'close';

export interface ErrorCopy {
  readonly title: string;
  readonly message: string;
  /** `retry` offers "Try again" (and close); `close` offers only close, since trying again cannot help. */
  readonly action: ErrorAction;
}

/** An entry whose words are looked up in the active locale each time they are read. */
function copy(action: ErrorAction, title: () => string, message: () => string): ErrorCopy {
  return {
    action,
    get title() {
      return title();
    },
    get message() {
      return message();
    },
  };
}

/** Each reason's words (English here; other languages in i18n/locales/) and way out. */
export const ERROR_COPY: Readonly<Record<CallErrorReason, ErrorCopy>> = {
  'e2ee-unsupported': copy(
    'close',
    () => msg('This browser cannot make encrypted calls', { id: 'error-e2ee-unsupported-title' }),
    () =>
      msg(
        'Calls with the oracle are always end-to-end encrypted, and this browser cannot do that. Please use a recent version of Chrome, Edge, Firefox or Safari.',
        { id: 'error-e2ee-unsupported-message' },
      ),
  ),
  'not-configured': copy(
    'close',
    () => msg('The call is not set up', { id: 'error-not-configured-title' }),
    () => msg('This call button is missing part of its setup. Please tell the people who run this page.', { id: 'error-not-configured-message' }),
  ),
  'oracle-unavailable': copy(
    'retry',
    () => msg('The oracle cannot be reached', { id: 'error-oracle-unavailable-title' }),
    () => msg('We could not reach the oracle right now. Please check your connection and try again.', { id: 'error-oracle-unavailable-message' }),
  ),
  'oracle-key-mismatch': copy(
    'close',
    () => msg("The oracle's identity could not be confirmed", { id: 'error-oracle-key-mismatch-title' }),
    () =>
      msg("The oracle's encryption key is not the one this page expects, so no call was made. Please tell the people who run this page.", {
        id: 'error-oracle-key-mismatch-message',
      }),
  ),
  'matrix-unavailable': copy(
    'retry',
    () => msg('Your chat account could not start the call', { id: 'error-matrix-unavailable-title' }),
    () =>
      msg('We could not reach your Matrix account to start the call. Please check your connection and try again.', { id: 'error-matrix-unavailable-message' }),
  ),
  'sign-in-failed': copy(
    'retry',
    () => msg('Sign-in failed', { id: 'error-sign-in-failed-title' }),
    () =>
      msg('The oracle could not confirm who you are. Please try again; if it keeps happening, sign out and in again.', { id: 'error-sign-in-failed-message' }),
  ),
  'permission-denied': copy(
    'retry',
    () => msg('Microphone or camera blocked', { id: 'error-permission-denied-title' }),
    () =>
      msg("The call needs your microphone (and your camera for a video call). Allow access in your browser's site settings, then try again.", {
        id: 'error-permission-denied-message',
      }),
  ),
  'device-not-found': copy(
    'retry',
    () => msg('No microphone or camera found', { id: 'error-device-not-found-title' }),
    () => msg('We could not find a microphone (or camera for a video call). Connect one, then try again.', { id: 'error-device-not-found-message' }),
  ),
  'device-in-use': copy(
    'retry',
    () => msg('Microphone or camera unavailable', { id: 'error-device-in-use-title' }),
    () =>
      msg('Your microphone or camera is in use by another app or could not start. Close other apps using it, then try again.', {
        id: 'error-device-in-use-message',
      }),
  ),
  'call-refused': copy(
    'retry',
    () => msg('The call was not accepted', { id: 'error-call-refused-title' }),
    () => msg('The oracle service did not accept this call. Please try again in a moment.', { id: 'error-call-refused-message' }),
  ),
  'backend-unavailable': copy(
    'retry',
    () => msg('The call service is unavailable', { id: 'error-backend-unavailable-title' }),
    () => msg('The call service could not be reached or had a problem. Please try again in a moment.', { id: 'error-backend-unavailable-message' }),
  ),
  'connection-failed': copy(
    'retry',
    () => msg('Could not connect the call', { id: 'error-connection-failed-title' }),
    () => msg('We could not connect your call. Please check your connection and try again.', { id: 'error-connection-failed-message' }),
  ),
  'not-encrypted': copy(
    'retry',
    () => msg('The call could not be encrypted', { id: 'error-not-encrypted-title' }),
    () => msg('The call was stopped because it could not be end-to-end encrypted. Nothing was sent unencrypted.', { id: 'error-not-encrypted-message' }),
  ),
  'oracle-timeout': copy(
    'retry',
    () => msg('The oracle did not answer', { id: 'error-oracle-timeout-title' }),
    () => msg('The oracle did not join the call in time. Please try again in a moment.', { id: 'error-oracle-timeout-message' }),
  ),
  'oracle-busy': copy(
    'retry',
    () => msg('The oracle is busy', { id: 'error-oracle-busy-title' }),
    () => msg('The oracle is in other calls right now. Please try again in a few minutes.', { id: 'error-oracle-busy-message' }),
  ),
  'connection-lost': copy(
    'retry',
    () => msg('The call dropped', { id: 'error-connection-lost-title' }),
    () => msg('The connection was lost during the call. Please check your connection and call again.', { id: 'error-connection-lost-message' }),
  ),
  unknown: copy(
    'retry',
    () => msg('Something went wrong', { id: 'error-unknown-title' }),
    () => msg('The call stopped because of an unexpected problem. Please try again.', { id: 'error-unknown-message' }),
  ),
};

/** What the state and the `oracle-call-error` event carry about an error. */
export interface CallErrorInfo {
  readonly reason: CallErrorReason;
  readonly title: string;
  readonly message: string;
  readonly retryable: boolean;
  /** Technical detail for developers (never shown as the main message). */
  readonly detail?: string;
}

export class CallError extends Error {
  override readonly name = 'CallError';

  constructor(
    readonly reason: CallErrorReason,
    readonly detail?: string,
    options?: { cause?: unknown },
  ) {
    super(detail === undefined ? ERROR_COPY[reason].message : `${ERROR_COPY[reason].title}: ${detail}`, options);
  }

  get info(): CallErrorInfo {
    return describeError(this.reason, this.detail);
  }
}

export function describeError(reason: CallErrorReason, detail?: string): CallErrorInfo {
  const copy = ERROR_COPY[reason];
  return {
    reason,
    title: copy.title,
    message: copy.message,
    retryable: copy.action === 'retry',
    ...(detail === undefined ? {} : { detail }),
  };
}

/** A {@link CallError} for anything thrown; errors that are not already one get `fallback` as reason. */
export function toCallError(error: unknown, fallback: CallErrorReason = CallErrorReason.Unknown): CallError {
  if (error instanceof CallError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new CallError(fallback, detail, { cause: error });
}
