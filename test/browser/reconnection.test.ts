/// <reference types="mocha" />
/**
 * A dropped connection: "Reconnecting…" with the timer going on, back to the call when LiveKit gets the
 * connection back; past `reconnect-timeout` the call ends with `connection-lost`, cleaned up, the
 * backend told.
 */
import { expect, waitUntil } from '@open-wc/testing';
import { announced, mount, part, text, untilPhase } from './fakes/harness.ts';
import type { Harness } from './fakes/harness.ts';

let h: Harness | undefined;

afterEach(async () => {
  if (h?.el.isConnected) {
    await h.el.endCall();
    h.el.remove();
  }
  h?.dispose();
  h = undefined;
});

describe('<oracle-call> reconnection', function () {
  this.timeout(20000);

  it('shows Reconnecting… with the timer kept, then the call goes on', async () => {
    h = await mount({ 'call-type': 'video' });
    await h.el.callOracle();
    await untilPhase(h.el, 'in-call');
    const since = h.el.state.phase === 'in-call' ? h.el.state.since : -1;
    await waitUntil(() => text(h!.el, 'timer') === '0:01', 'the timer never reached 0:01', { timeout: 3000 });

    h.media.last.emit({ type: 'reconnecting' });
    await untilPhase(h.el, 'reconnecting');
    expect(text(h.el, 'status-text')).to.equal('Reconnecting…');
    expect(announced(h.el)).to.equal('The connection dropped. Reconnecting…');
    expect(h.el.state.phase === 'reconnecting' && h.el.state.since).to.equal(since);
    await waitUntil(() => text(h!.el, 'timer') === '0:02', 'the timer stopped while reconnecting', { timeout: 3000 });
    expect(text(h.el, 'hangup-button')).to.equal('Hang up');
    expect(part(h.el, 'encryption')!.dataset.status).to.equal('encrypted');
    await expect(h.el).to.be.accessible();

    h.media.last.emit({ type: 'reconnected' });
    await untilPhase(h.el, 'in-call');
    expect(h.el.state.phase === 'in-call' && h.el.state.since, 'the same call, the same start').to.equal(since);
    expect(announced(h.el)).to.equal('Reconnected. The call goes on.');
    expect(h.media.last.closed).to.equal(false);
    expect(h.backend.ended).to.deep.equal([]);
    expect(h.states.slice(-3)).to.deep.equal(['in-call', 'reconnecting', 'in-call']);
  });

  it('past reconnect-timeout the call ends as connection-lost: cleaned up and the backend told', async () => {
    h = await mount({ 'reconnect-timeout': '1' });
    await h.el.callOracle();
    await untilPhase(h.el, 'in-call');
    const callId = h.el.state.phase === 'in-call' ? h.el.state.callId : '';
    const started = performance.now();
    h.media.last.emit({ type: 'reconnecting' });
    await untilPhase(h.el, 'error', 5000);
    expect(performance.now() - started).to.be.greaterThan(900);
    const error = h.el.state.phase === 'error' ? h.el.state.error : undefined;
    expect(error).to.include({ reason: 'connection-lost', title: 'The call dropped' });
    expect(error!.detail).to.equal('the connection did not come back within 1 s');
    expect(h.media.last.closed).to.equal(true);
    expect(h.backend.ended).to.deep.equal([callId]);
    expect(h.backend.endReasons, 'the backend records why').to.deep.equal(['connection_lost']);
    expect(text(h.el, 'retry-button')).to.equal('Try again');
    await expect(h.el).to.be.accessible();
  });

  it('hanging up while reconnecting ends the call with its duration', async () => {
    h = await mount();
    await h.el.callOracle();
    await untilPhase(h.el, 'in-call');
    h.media.last.emit({ type: 'reconnecting' });
    await untilPhase(h.el, 'reconnecting');
    await h.el.endCall();
    expect(h.el.state.phase).to.equal('ended');
    expect(h.el.state.phase === 'ended' && h.el.state.reason).to.equal('hang-up');
  });
});
