/**
 * The element and what a page needs to drive it. Importing this module defines `<oracle-call>`.
 * LiveKit, matrix-widget-api and the Matrix client transport are loaded only when a call needs them.
 */
export { OracleCall } from './oracle-call.ts';
export type { OracleCallEndedDetail, OracleCallErrorDetail, OracleCallEventDetails, OracleCallStateDetail } from './events.ts';
export { CALL_PHASES, IllegalTransitionError, transition } from './state.ts';
export type { CallAction, CallPhase, CallState, CallType, EndReason } from './state.ts';
export { CallError, CallErrorReason, ERROR_COPY, describeError } from './errors.ts';
export type { CallErrorInfo, ErrorCopy } from './errors.ts';
export { BackendError, HttpBackendClient } from './backend-client.ts';
export type { BackendClient, BackendErrorCode, BackendSession, OracleInfo } from './backend-client.ts';
export type { ApiCall, ApiErrorCode, SyncAnswer } from '../protocol/api/index.ts';
export type {
  ConnectOptions,
  DeviceKind,
  DeviceOption,
  EncryptionStatus,
  MediaSession,
  MediaSessionEvent,
  MediaSessionFactory,
  MediaSnapshot,
} from './media-session.ts';
export { MatrixTransportError, matrixUserDid } from './transport/matrix-transport.ts';
export type { MatrixTransport, OpenIdToken } from './transport/matrix-transport.ts';
export type { MatrixClientLike } from './transport/matrix-client-transport.ts';
export type { RetryPolicy } from './retry.ts';
