/**
 * The call's lifecycle as one explicit state machine: a pure reducer (`transition`) that refuses every
 * move the table below does not list, and a small Lit ReactiveController (`CallMachine`) that holds the
 * current state, re-renders its host and tells listeners what changed.
 *
 *   idle → [lobby →] preparing-media → calling → connecting → waiting-for-oracle → in-call → ending → ended
 *   (the lobby, where devices are chosen, is left out with `no-lobby`; closing it returns to idle)
 *   in-call ⇄ reconnecting (the connection dropped and LiveKit is getting it back; the timer goes on)
 *   any of preparing-media … in-call → ending (hang up) or error;  ended / error → idle (close) or
 *   preparing-media (call again / retry).
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { CallType } from '../protocol/index.ts';
import type { CallErrorInfo } from './errors.ts';

export type { CallType };

export const CALL_PHASES = [
  'idle',
  'lobby',
  'preparing-media',
  'calling',
  'connecting',
  'waiting-for-oracle',
  'in-call',
  'reconnecting',
  'ending',
  'ended',
  'error',
] as const;
export type CallPhase = (typeof CALL_PHASES)[number];

/** The phases in which a call is under way (something may need cleaning up). */
export const ACTIVE_PHASES: readonly CallPhase[] = ['preparing-media', 'calling', 'connecting', 'waiting-for-oracle', 'in-call', 'reconnecting'];

/**
 * Why a call ended without an error: the person hung up, the oracle left, or the oracle left saying
 * it could not hear (speech recognition failed) or answer (its model or voice failed).
 */
export type EndReason = 'hang-up' | 'oracle-left' | 'oracle-cannot-hear' | 'oracle-cannot-answer';

export type CallState =
  | { readonly phase: 'idle' }
  | { readonly phase: 'lobby'; readonly callType: CallType }
  | {
      readonly phase: 'preparing-media' | 'calling' | 'connecting' | 'waiting-for-oracle';
      readonly callType: CallType;
      readonly callId?: string;
    }
  | { readonly phase: 'in-call' | 'reconnecting'; readonly callType: CallType; readonly callId: string; readonly since: number }
  | { readonly phase: 'ending'; readonly callType: CallType; readonly callId?: string; readonly since?: number }
  | {
      readonly phase: 'ended';
      readonly callType: CallType;
      readonly callId?: string;
      readonly reason: EndReason;
      /** Time spent with the oracle (0 when the oracle never joined). */
      readonly durationMs: number;
    }
  | { readonly phase: 'error'; readonly callType?: CallType; readonly callId?: string; readonly error: CallErrorInfo };

export type CallAction =
  | { readonly type: 'open-lobby'; readonly callType: CallType }
  | { readonly type: 'start'; readonly callType: CallType }
  | { readonly type: 'media-ready' }
  | { readonly type: 'announced'; readonly callId: string }
  | { readonly type: 'admitted' }
  | { readonly type: 'connected' }
  | { readonly type: 'oracle-joined'; readonly at: number }
  | { readonly type: 'reconnecting' }
  | { readonly type: 'reconnected' }
  | { readonly type: 'hang-up' }
  | { readonly type: 'ended'; readonly reason: EndReason; readonly at: number }
  | { readonly type: 'fail'; readonly error: CallErrorInfo }
  | { readonly type: 'close' };

/** Which actions each phase accepts (and so which phases follow which). */
const ACCEPTS: Readonly<Record<CallPhase, readonly CallAction['type'][]>> = {
  idle: ['open-lobby', 'start', 'fail'],
  lobby: ['start', 'close', 'fail'],
  'preparing-media': ['media-ready', 'hang-up', 'fail'],
  calling: ['announced', 'admitted', 'hang-up', 'fail'],
  connecting: ['connected', 'hang-up', 'fail'],
  'waiting-for-oracle': ['oracle-joined', 'hang-up', 'fail'],
  'in-call': ['reconnecting', 'hang-up', 'fail'],
  reconnecting: ['reconnected', 'hang-up', 'fail'],
  ending: ['ended'],
  ended: ['open-lobby', 'start', 'close'],
  error: ['open-lobby', 'start', 'close'],
};

export class IllegalTransitionError extends Error {
  override readonly name = 'IllegalTransitionError';

  constructor(
    readonly phase: CallPhase,
    readonly action: CallAction['type'],
  ) {
    super(`A call cannot take "${action}" while ${phase}`);
  }
}

export const INITIAL_STATE: CallState = { phase: 'idle' };

export function canApply(state: CallState, action: CallAction['type']): boolean {
  return ACCEPTS[state.phase].includes(action);
}

function callTypeOf(state: CallState): CallType | undefined {
  return state.phase === 'idle' ? undefined : state.callType;
}

function callIdOf(state: CallState): string | undefined {
  return state.phase === 'idle' || state.phase === 'lobby' ? undefined : state.callId;
}

const withCallId = (callId: string | undefined) => (callId === undefined ? {} : { callId });

/** The next state; throws {@link IllegalTransitionError} for a move the table does not allow. */
export function transition(state: CallState, action: CallAction): CallState {
  if (!canApply(state, action.type)) throw new IllegalTransitionError(state.phase, action.type);
  const callType = callTypeOf(state);
  const callId = callIdOf(state);
  switch (action.type) {
    case 'open-lobby':
      return { phase: 'lobby', callType: action.callType };
    case 'start':
      return { phase: 'preparing-media', callType: action.callType };
    case 'media-ready':
      return { phase: 'calling', callType: callType!, ...withCallId(callId) };
    case 'announced':
      return { phase: 'calling', callType: callType!, callId: action.callId };
    case 'admitted':
      if (callId === undefined) throw new IllegalTransitionError(state.phase, action.type);
      return { phase: 'connecting', callType: callType!, callId };
    case 'connected':
      return { phase: 'waiting-for-oracle', callType: callType!, ...withCallId(callId) };
    case 'oracle-joined':
      return { phase: 'in-call', callType: callType!, callId: callId!, since: action.at };
    case 'reconnecting':
    case 'reconnected': {
      const since = state.phase === 'in-call' || state.phase === 'reconnecting' ? state.since : 0;
      return { phase: action.type === 'reconnecting' ? 'reconnecting' : 'in-call', callType: callType!, callId: callId!, since };
    }
    case 'hang-up':
      return {
        phase: 'ending',
        callType: callType!,
        ...withCallId(callId),
        ...(state.phase === 'in-call' || state.phase === 'reconnecting' ? { since: state.since } : {}),
      };
    case 'ended': {
      const since = state.phase === 'ending' ? state.since : undefined;
      return {
        phase: 'ended',
        callType: callType!,
        ...withCallId(callId),
        reason: action.reason,
        durationMs: since === undefined ? 0 : Math.max(0, action.at - since),
      };
    }
    case 'fail':
      return {
        phase: 'error',
        ...(callType === undefined ? {} : { callType }),
        ...withCallId(callId),
        error: action.error,
      };
    case 'close':
      return INITIAL_STATE;
  }
}

export type CallStateListener = (next: CallState, previous: CallState) => void;

/** Holds the state for a Lit host: each accepted action re-renders the host and calls the listeners. */
export class CallMachine implements ReactiveController {
  #state: CallState = INITIAL_STATE;
  readonly #listeners = new Set<CallStateListener>();

  constructor(private readonly host?: ReactiveControllerHost) {
    host?.addController(this);
  }

  get state(): CallState {
    return this.#state;
  }

  get phase(): CallPhase {
    return this.#state.phase;
  }

  get isActive(): boolean {
    return ACTIVE_PHASES.includes(this.#state.phase);
  }

  can(action: CallAction['type']): boolean {
    return canApply(this.#state, action);
  }

  /** Applies an action; throws {@link IllegalTransitionError} and changes nothing when it is not allowed. */
  send(action: CallAction): CallState {
    const previous = this.#state;
    const next = transition(previous, action);
    this.#state = next;
    this.host?.requestUpdate();
    for (const listener of this.#listeners) listener(next, previous);
    return next;
  }

  subscribe(listener: CallStateListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  hostConnected(): void {}

  hostDisconnected(): void {}
}
