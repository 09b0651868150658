/// <reference types="mocha" />
import { expect } from '@open-wc/testing';
import { describeError } from '../../widget/errors.ts';
import { CALL_PHASES, CallMachine, INITIAL_STATE, IllegalTransitionError, canApply, transition } from '../../widget/state.ts';
import type { CallAction, CallPhase, CallState } from '../../widget/state.ts';

const CALL_ID = '$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg@call-abcdefgh';
const failure = describeError('oracle-timeout');

const ACTIONS: CallAction[] = [
  { type: 'start', callType: 'audio' },
  { type: 'media-ready' },
  { type: 'announced', callId: CALL_ID },
  { type: 'admitted' },
  { type: 'connected' },
  { type: 'oracle-joined', at: 1000 },
  { type: 'hang-up' },
  { type: 'ended', reason: 'hang-up', at: 2000 },
  { type: 'fail', error: failure },
  { type: 'close' },
  { type: 'open-lobby', callType: 'video' },
  { type: 'reconnecting' },
  { type: 'reconnected' },
];

/** The only moves the design allows, as phase → action → next phase. */
const ALLOWED: Record<CallPhase, Partial<Record<CallAction['type'], CallPhase>>> = {
  idle: { 'open-lobby': 'lobby', start: 'preparing-media', fail: 'error' },
  lobby: { start: 'preparing-media', close: 'idle', fail: 'error' },
  'preparing-media': { 'media-ready': 'calling', 'hang-up': 'ending', fail: 'error' },
  calling: { announced: 'calling', admitted: 'connecting', 'hang-up': 'ending', fail: 'error' },
  connecting: { connected: 'waiting-for-oracle', 'hang-up': 'ending', fail: 'error' },
  'waiting-for-oracle': { 'oracle-joined': 'in-call', 'hang-up': 'ending', fail: 'error' },
  'in-call': { reconnecting: 'reconnecting', 'hang-up': 'ending', fail: 'error' },
  reconnecting: { reconnected: 'in-call', 'hang-up': 'ending', fail: 'error' },
  ending: { ended: 'ended' },
  ended: { 'open-lobby': 'lobby', start: 'preparing-media', close: 'idle' },
  error: { 'open-lobby': 'lobby', start: 'preparing-media', close: 'idle' },
};

/** A state in each phase, reached by legal moves (with a callId wherever one can be). */
function reach(phase: CallPhase): CallState {
  const path: Record<CallPhase, CallAction[]> = {
    idle: [],
    lobby: [ACTIONS[10]!],
    reconnecting: [ACTIONS[0]!, ACTIONS[1]!, ACTIONS[2]!, ACTIONS[3]!, ACTIONS[4]!, ACTIONS[5]!, ACTIONS[11]!],
    'preparing-media': [ACTIONS[0]!],
    calling: [ACTIONS[0]!, ACTIONS[1]!, ACTIONS[2]!],
    connecting: [ACTIONS[0]!, ACTIONS[1]!, ACTIONS[2]!, ACTIONS[3]!],
    'waiting-for-oracle': [ACTIONS[0]!, ACTIONS[1]!, ACTIONS[2]!, ACTIONS[3]!, ACTIONS[4]!],
    'in-call': [ACTIONS[0]!, ACTIONS[1]!, ACTIONS[2]!, ACTIONS[3]!, ACTIONS[4]!, ACTIONS[5]!],
    ending: [ACTIONS[0]!, ACTIONS[1]!, ACTIONS[2]!, ACTIONS[3]!, ACTIONS[4]!, ACTIONS[5]!, ACTIONS[6]!],
    ended: [ACTIONS[0]!, ACTIONS[1]!, ACTIONS[2]!, ACTIONS[3]!, ACTIONS[4]!, ACTIONS[5]!, ACTIONS[6]!, ACTIONS[7]!],
    error: [ACTIONS[0]!, ACTIONS[8]!],
  };
  return path[phase].reduce(transition, INITIAL_STATE);
}

describe('the call state machine', () => {
  it('goes idle → preparing-media → calling → connecting → waiting-for-oracle → in-call → ending → ended', () => {
    let state = INITIAL_STATE;
    const phases: CallPhase[] = [state.phase];
    for (const action of ACTIONS.slice(0, 8)) {
      state = transition(state, action);
      if (phases.at(-1) !== state.phase) phases.push(state.phase);
    }
    expect(phases).to.deep.equal(['idle', 'preparing-media', 'calling', 'connecting', 'waiting-for-oracle', 'in-call', 'ending', 'ended']);
    expect(state).to.deep.equal({ phase: 'ended', callType: 'audio', callId: CALL_ID, reason: 'hang-up', durationMs: 1000 });
  });

  for (const phase of CALL_PHASES) {
    it(`in ${phase}, takes exactly the moves the design lists and refuses the rest`, () => {
      const state = reach(phase);
      expect(state.phase).to.equal(phase);
      for (const action of ACTIONS) {
        const next = ALLOWED[phase][action.type];
        expect(canApply(state, action.type), `${phase} + ${action.type}`).to.equal(next !== undefined);
        if (next === undefined) {
          expect(() => transition(state, action), `${phase} + ${action.type}`).to.throw(IllegalTransitionError, `while ${phase}`);
        } else {
          expect(transition(state, action).phase, `${phase} + ${action.type}`).to.equal(next);
        }
      }
    });
  }

  it('refuses to admit a call that has no callId yet', () => {
    const calling = transition(transition(INITIAL_STATE, ACTIONS[0]!), ACTIONS[1]!);
    expect(() => transition(calling, { type: 'admitted' })).to.throw(IllegalTransitionError);
  });

  it('keeps the call type and callId through hang-up and error, and counts only time with the oracle', () => {
    const inCall = reach('in-call');
    expect(inCall).to.include({ phase: 'in-call', callType: 'audio', callId: CALL_ID, since: 1000 });
    const failed = transition(inCall, { type: 'fail', error: failure });
    expect(failed).to.deep.equal({ phase: 'error', callType: 'audio', callId: CALL_ID, error: failure });
    const cancelled = transition(transition(reach('calling'), { type: 'hang-up' }), { type: 'ended', reason: 'hang-up', at: 5000 });
    expect(cancelled).to.include({ phase: 'ended', durationMs: 0, callId: CALL_ID });
  });

  it('the controller refuses an illegal move without changing state or telling anyone', () => {
    const updates: number[] = [];
    const host = {
      addController: () => undefined,
      removeController: () => undefined,
      requestUpdate: () => updates.push(1),
      updateComplete: Promise.resolve(true),
    };
    const machine = new CallMachine(host);
    const seen: [CallPhase, CallPhase][] = [];
    machine.subscribe((next, previous) => seen.push([previous.phase, next.phase]));
    expect(() => machine.send({ type: 'hang-up' })).to.throw(IllegalTransitionError);
    expect(() => machine.send({ type: 'oracle-joined', at: 1 })).to.throw(IllegalTransitionError);
    expect(machine.phase).to.equal('idle');
    expect(seen).to.deep.equal([]);
    expect(updates).to.have.length(0);
    machine.send({ type: 'start', callType: 'video' });
    expect(machine.isActive).to.equal(true);
    expect(seen).to.deep.equal([['idle', 'preparing-media']]);
    expect(updates).to.have.length(1);
    expect(() => machine.send({ type: 'start', callType: 'audio' })).to.throw(IllegalTransitionError, 'while preparing-media');
    expect(machine.state).to.deep.equal({ phase: 'preparing-media', callType: 'video' });
  });
});
