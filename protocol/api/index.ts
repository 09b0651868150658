export * from './error-codes.ts';
export * from './schemas.ts';
export * from './routes.ts';
export * from './answers.ts';
// The call's enums, as the API uses them (defined with the call event, which carries them too).
export { CALL_TYPES } from '../call-event.ts';
export type { CallType } from '../call-event.ts';
export { CALL_STATUSES } from '../call-status.ts';
export type { CallStatus } from '../call-status.ts';
