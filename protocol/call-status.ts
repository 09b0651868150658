import { ProtocolError } from './errors.ts';

export const CALL_STATUSES = ['pending', 'active', 'ended'] as const;
export type CallStatus = (typeof CALL_STATUSES)[number];

/**
 * Why a person's client ends a call besides hanging up (`POST /calls/:callId/update` with `reason`):
 * `connection_lost`, the connection did not come back within the client's reconnection bound.
 */
export const USER_END_REASONS = ['connection_lost'] as const;
export type UserEndReason = (typeof USER_END_REASONS)[number];

export function isUserEndReason(value: unknown): value is UserEndReason {
  return typeof value === 'string' && (USER_END_REASONS as readonly string[]).includes(value);
}

/** Every allowed status change; anything not listed (including leaving `ended`) is refused. */
const TRANSITIONS: Readonly<Record<CallStatus, readonly CallStatus[]>> = {
  pending: ['active', 'ended'],
  active: ['ended'],
  ended: [],
};

export function isCallStatus(value: unknown): value is CallStatus {
  return typeof value === 'string' && (CALL_STATUSES as readonly string[]).includes(value);
}

export function canTransition(from: CallStatus, to: CallStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function assertTransition(from: CallStatus, to: CallStatus): void {
  if (!canTransition(from, to)) throw ProtocolError.invalidTransition(from, to);
}
