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

export const ERROR_COPY: Readonly<Record<CallErrorReason, ErrorCopy>> = {
  'e2ee-unsupported': {
    title: 'This browser cannot make encrypted calls',
    message:
      'Calls with the oracle are always end-to-end encrypted, and this browser cannot do that. Please use a recent version of Chrome, Edge, Firefox or Safari.',
    action: 'close',
  },
  'not-configured': {
    title: 'The call is not set up',
    message: 'This call button is missing part of its setup. Please tell the people who run this page.',
    action: 'close',
  },
  'oracle-unavailable': {
    title: 'The oracle cannot be reached',
    message: 'We could not reach the oracle right now. Please check your connection and try again.',
    action: 'retry',
  },
  'oracle-key-mismatch': {
    title: "The oracle's identity could not be confirmed",
    message:
      "The oracle's encryption key is not the one this page expects, so no call was made. Please tell the people who run this page.",
    action: 'close',
  },
  'matrix-unavailable': {
    title: 'Your chat account could not start the call',
    message: 'We could not reach your Matrix account to start the call. Please check your connection and try again.',
    action: 'retry',
  },
  'sign-in-failed': {
    title: 'Sign-in failed',
    message: 'The oracle could not confirm who you are. Please try again; if it keeps happening, sign out and in again.',
    action: 'retry',
  },
  'permission-denied': {
    title: 'Microphone or camera blocked',
    message:
      "The call needs your microphone (and your camera for a video call). Allow access in your browser's site settings, then try again.",
    action: 'retry',
  },
  'device-not-found': {
    title: 'No microphone or camera found',
    message: 'We could not find a microphone (or camera for a video call). Connect one, then try again.',
    action: 'retry',
  },
  'device-in-use': {
    title: 'Microphone or camera unavailable',
    message: 'Your microphone or camera is in use by another app or could not start. Close other apps using it, then try again.',
    action: 'retry',
  },
  'call-refused': {
    title: 'The call was not accepted',
    message: 'The oracle service did not accept this call. Please try again in a moment.',
    action: 'retry',
  },
  'backend-unavailable': {
    title: 'The call service is unavailable',
    message: 'The call service could not be reached or had a problem. Please try again in a moment.',
    action: 'retry',
  },
  'connection-failed': {
    title: 'Could not connect the call',
    message: 'We could not connect your call. Please check your connection and try again.',
    action: 'retry',
  },
  'not-encrypted': {
    title: 'The call could not be encrypted',
    message: 'The call was stopped because it could not be end-to-end encrypted. Nothing was sent unencrypted.',
    action: 'retry',
  },
  'oracle-timeout': {
    title: 'The oracle did not answer',
    message: 'The oracle did not join the call in time. Please try again in a moment.',
    action: 'retry',
  },
  'connection-lost': {
    title: 'The call dropped',
    message: 'The connection was lost during the call. Please check your connection and call again.',
    action: 'retry',
  },
  unknown: {
    title: 'Something went wrong',
    message: 'The call stopped because of an unexpected problem. Please try again.',
    action: 'retry',
  },
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
