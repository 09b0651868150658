/// <reference types="mocha" />
import { expect, waitUntil } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import { BackendError } from '../../widget/backend-client.ts';
import { CallErrorReason, ERROR_COPY } from '../../widget/errors.ts';
import { mediaErrorReason } from '../../widget/media-session.ts';
import { MatrixTransportError } from '../../widget/transport/matrix-transport.ts';
import { Gate } from './fakes/gate.ts';
import { announced, click, eventsOf, mount, part, text, untilPhase } from './fakes/harness.ts';
import type { Harness } from './fakes/harness.ts';

let h: Harness;

afterEach(async () => {
  if (h?.el.isConnected) {
    await h.el.endCall();
    h.el.remove();
  }
  h?.dispose();
});

/** Holds every step of a call so each state can be looked at, and opens them one by one. */
function holdEverything(harness: Harness) {
  const gates = {
    prepare: new Gate(),
    send: new Gate(),
    sync: new Gate(),
    connect: new Gate(),
  };
  harness.media.behaviour = { ...harness.media.behaviour, prepareGate: gates.prepare, connectGate: gates.connect, oracle: 'manual' };
  harness.transport.sendGate = gates.send;
  harness.backend.syncGate = gates.sync;
  return gates;
}

describe('<oracle-call> states', () => {
  it('idle: offers the main call type first, and is accessible', async () => {
    h = await mount({ 'call-type': 'video' });
    expect(h.el.state.phase).to.equal('idle');
    expect(text(h.el, 'call-button')).to.equal('Start video call');
    expect(text(h.el, 'alt-call-button')).to.equal('Start audio call');
    expect(text(h.el, 'status-text')).to.equal('Talk with the oracle');
    expect(part(h.el, 'hangup-button')).to.equal(null);
    expect(h.el.sessionId, 'a generated session id').to.match(/^[0-9a-f-]{36}$/);
    await expect(h.el).to.be.accessible();
  });

  it('renders and announces each state of a call, from the first click to the end', async () => {
    h = await mount();
    const gates = holdEverything(h);
    click(h.el, 'call-button');

    await untilPhase(h.el, 'preparing-media');
    expect(text(h.el, 'status-text')).to.equal('Getting your microphone ready…');
    expect(announced(h.el)).to.equal('Getting your microphone ready…');
    expect(text(h.el, 'hangup-button')).to.equal('Cancel call');
    expect(part<HTMLButtonElement>(h.el, 'mute-button')!.disabled, 'no mute before there is a microphone').to.equal(true);
    expect(part(h.el, 'encryption')).to.equal(null);
    await expect(h.el).to.be.accessible();

    gates.prepare.open();
    await untilPhase(h.el, 'calling');
    expect(text(h.el, 'status-text')).to.equal('Calling the oracle…');
    expect(announced(h.el)).to.equal('Calling the oracle…');
    expect(part<HTMLButtonElement>(h.el, 'mute-button')!.disabled).to.equal(false);

    gates.send.open();
    await waitUntil(() => gates.sync.entered);
    gates.sync.open();
    await untilPhase(h.el, 'connecting');
    expect(text(h.el, 'status-text')).to.equal('Connecting securely…');
    expect(part(h.el, 'encryption')!.dataset.status).to.equal('pending');
    expect(text(h.el, 'encryption'), 'never "encrypted" before LiveKit says so').to.equal('Checking encryption…');

    gates.connect.open();
    await untilPhase(h.el, 'waiting-for-oracle');
    expect(text(h.el, 'status-text')).to.equal('Waiting for the oracle to join…');
    expect(announced(h.el)).to.equal('Waiting for the oracle to join…');

    h.media.last.oracleJoins();
    await untilPhase(h.el, 'in-call');
    expect(text(h.el, 'status-text')).to.equal('In call with the oracle');
    expect(announced(h.el)).to.equal('Connected to the oracle. The call is end-to-end encrypted.');
    expect(part(h.el, 'timer')!.getAttribute('role')).to.equal('timer');
    expect(text(h.el, 'timer')).to.match(/^0:0\d$/);
    expect(text(h.el, 'encryption')).to.equal('End-to-end encrypted');
    expect(text(h.el, 'hangup-button')).to.equal('Hang up');
    await expect(h.el).to.be.accessible();

    h.backend.endGate = new Gate();
    click(h.el, 'hangup-button');
    await untilPhase(h.el, 'ending');
    expect(text(h.el, 'status-text')).to.equal('Ending the call…');
    expect(announced(h.el)).to.equal('Ending the call…');
    expect(part<HTMLButtonElement>(h.el, 'hangup-button')!.disabled).to.equal(true);

    h.backend.endGate.open();
    await untilPhase(h.el, 'ended');
    expect(text(h.el, 'status-text')).to.equal('Call ended');
    expect(announced(h.el)).to.match(/^Call ended/);
    expect(text(h.el, 'call-button')).to.equal('Call again');
    expect(part(h.el, 'close-button')).to.not.equal(null);
    await expect(h.el).to.be.accessible();

    click(h.el, 'close-button');
    await untilPhase(h.el, 'idle');
    expect(h.states).to.deep.equal(['preparing-media', 'calling', 'connecting', 'waiting-for-oracle', 'in-call', 'ending', 'ended', 'idle']);
    const callId = h.transport.calls[0]!.eventId + '@' + (h.transport.calls[0]!.content as { roomId: string }).roomId;
    const details = eventsOf(h, 'oracle-call-state').map((e) => e.detail);
    expect(details[0]).to.deep.equal({ state: 'preparing-media', previous: 'idle', callType: 'audio' });
    expect(details[2]).to.deep.equal({ state: 'connecting', previous: 'calling', callType: 'audio', callId });
    expect(details.at(-1)).to.deep.equal({ state: 'idle', previous: 'ended' });
  });

  it('error: shows the reason in words with a way out, announces it, and is accessible', async () => {
    h = await mount();
    h.media.behaviour = { ...h.media.behaviour, prepareError: new DOMException('Permission denied', 'NotAllowedError') };
    await h.el.callOracle();
    await untilPhase(h.el, 'error');
    const copy = ERROR_COPY['permission-denied'];
    expect(text(h.el, 'error-title')).to.equal(copy.title);
    expect(text(h.el, 'error-message')).to.equal(copy.message);
    expect(part(h.el, 'status'), 'the error box replaces the status line').to.equal(null);
    expect(announced(h.el)).to.equal(`${copy.title}. ${copy.message}`);
    expect(text(h.el, 'retry-button')).to.equal('Try again');
    expect(text(h.el, 'close-button')).to.equal('Close');
    await expect(h.el).to.be.accessible();
  });

  it('the dark theme passes the same accessibility checks (contrast included), in a call and after an error', async () => {
    h = await mount({ theme: 'dark', 'call-type': 'video' });
    expect(getComputedStyle(h.el).getPropertyValue('--oracle-call-background').trim()).to.equal('#12151a');
    await h.el.callOracle();
    h.media.last.change({ oracleSpeaking: true });
    await h.el.updateComplete;
    await expect(h.el).to.be.accessible();
    h.media.last.emit({ type: 'disconnected', reason: 'gone' });
    await untilPhase(h.el, 'error');
    await expect(h.el).to.be.accessible();
  });

  it('a page overrides the colours through the custom properties', async () => {
    h = await mount();
    h.el.style.setProperty('--oracle-call-accent', 'rgb(1, 2, 3)');
    expect(getComputedStyle(part(h.el, 'call-button')!).backgroundColor).to.equal('rgb(1, 2, 3)');
  });

  it('shows the local preview in a video call, and the oracle speaking from the active speakers', async () => {
    h = await mount({ 'call-type': 'video' });
    await h.el.callOracle();
    expect(h.el.state.phase).to.equal('in-call');
    await h.el.updateComplete;
    const preview = part<HTMLVideoElement>(h.el, 'local-video')!;
    const camera = h.media.last.tracks.find((t) => t.kind === 'video')!;
    expect((preview.srcObject as MediaStream).getVideoTracks()[0]).to.equal(camera);
    expect(part(h.el, 'speaking')).to.equal(null);
    expect(part(h.el, 'avatar')!.classList.contains('speaking')).to.equal(false);

    h.media.last.change({ oracleSpeaking: true });
    await h.el.updateComplete;
    expect(text(h.el, 'speaking')).to.equal('The oracle is speaking');
    expect(part(h.el, 'avatar')!.classList.contains('speaking')).to.equal(true);

    const oracleVideo = h.media.last.tracks[1]!.clone();
    h.media.last.change({ oracleVideo });
    await h.el.updateComplete;
    expect((part<HTMLVideoElement>(h.el, 'oracle-video')!.srcObject as MediaStream).getTracks()[0]).to.equal(oracleVideo);
    oracleVideo.stop();
    await expect(h.el).to.be.accessible();
  });

  it('never shows "encrypted" when LiveKit does not report it, and refuses such a call', async () => {
    h = await mount();
    h.media.behaviour = { ...h.media.behaviour, encryption: 'not-encrypted' };
    await h.el.callOracle();
    await untilPhase(h.el, 'error');
    expect(eventsOf(h, 'oracle-call-error')[0]!.detail.reason).to.equal('not-encrypted');
    expect(h.states).to.not.include('in-call');
    expect(h.media.last.closed).to.equal(true);
    expect(h.transport.edits).to.have.length(1);
  });
});

describe('<oracle-call> controls', () => {
  it('mute, camera, devices and hang-up work with the mouse', async () => {
    h = await mount({ 'call-type': 'video' });
    await h.el.callOracle();
    const session = h.media.last;

    click(h.el, 'mute-button');
    await waitUntil(() => !session.snapshot.microphoneEnabled);
    await h.el.updateComplete;
    expect(part(h.el, 'mute-button')!.getAttribute('aria-pressed')).to.equal('true');
    expect(announced(h.el)).to.equal('Microphone muted');
    click(h.el, 'mute-button');
    await waitUntil(() => session.snapshot.microphoneEnabled);
    await h.el.updateComplete;
    expect(part(h.el, 'mute-button')!.getAttribute('aria-pressed')).to.equal('false');

    click(h.el, 'camera-button');
    await waitUntil(() => !session.snapshot.cameraEnabled);
    await h.el.updateComplete;
    expect(part(h.el, 'camera-button')!.getAttribute('aria-pressed')).to.equal('true');
    expect(part(h.el, 'local-video'), 'no preview with the camera off').to.equal(null);
    expect(announced(h.el)).to.equal('Camera off');

    expect(part(h.el, 'devices')).to.equal(null);
    click(h.el, 'devices-button');
    await h.el.updateComplete;
    expect(part(h.el, 'devices-button')!.getAttribute('aria-expanded')).to.equal('true');
    const selects = [...part(h.el, 'devices')!.querySelectorAll('select')];
    expect(selects.map((s) => s.labels[0]!.textContent)).to.deep.equal(['Microphone', 'Camera', 'Speaker']);
    selects[1]!.value = 'cam-2';
    selects[1]!.dispatchEvent(new Event('change'));
    await waitUntil(() => session.selected.length === 1);
    expect(session.selected).to.deep.equal([['videoinput', 'cam-2']]);
    await waitUntil(() => announced(h.el) === 'Camera: USB camera');
    await expect(h.el).to.be.accessible();

    click(h.el, 'hangup-button');
    await untilPhase(h.el, 'ended');
    expect(session.closed).to.equal(true);
  });

  it('is keyboard operable: Enter starts a call, Space mutes, focus follows the state', async () => {
    h = await mount();
    part(h.el, 'call-button')!.focus();
    await sendKeys({ press: 'Enter' });
    await untilPhase(h.el, 'in-call');
    expect(h.el.shadowRoot!.activeElement, 'focus moved to a control of the call').to.equal(part(h.el, 'hangup-button'));

    part(h.el, 'mute-button')!.focus();
    await sendKeys({ press: 'Space' });
    await waitUntil(() => !h.media.last.snapshot.microphoneEnabled);
    await h.el.updateComplete;
    expect(part(h.el, 'mute-button')!.getAttribute('aria-pressed')).to.equal('true');

    part(h.el, 'hangup-button')!.focus();
    await sendKeys({ press: 'Enter' });
    await untilPhase(h.el, 'ended');
    expect(h.el.shadowRoot!.activeElement, 'focus on "Call again"').to.equal(part(h.el, 'call-button'));
    await sendKeys({ press: 'Tab' });
    expect(h.el.shadowRoot!.activeElement).to.equal(part(h.el, 'close-button'));
    await sendKeys({ press: 'Enter' });
    await untilPhase(h.el, 'idle');
    expect(h.el.shadowRoot!.activeElement).to.equal(part(h.el, 'call-button'));
  });

  it('"Try again" after an error starts a new call; "Close" goes back to the start', async () => {
    h = await mount();
    h.backend.oracleError = new BackendError(0, 'network_error', 'no answer');
    await h.el.callOracle();
    expect(h.el.state.phase).to.equal('error');
    h.backend.oracleError = undefined;
    click(h.el, 'retry-button');
    await untilPhase(h.el, 'in-call');
    await h.el.endCall();
    click(h.el, 'close-button');
    await untilPhase(h.el, 'idle');
  });
});

describe('<oracle-call> errors', () => {
  it('maps every reason to a title, a message and a way out', () => {
    for (const reason of Object.values(CallErrorReason)) {
      const copy = ERROR_COPY[reason];
      expect(copy.title, reason).to.be.a('string').and.not.equal('');
      expect(copy.message, reason).to.match(/\.$/);
      expect(['retry', 'close'], reason).to.include(copy.action);
    }
    expect(ERROR_COPY['e2ee-unsupported'].action).to.equal('close');
    expect(ERROR_COPY['oracle-key-mismatch'].action).to.equal('close');
    expect(ERROR_COPY['oracle-timeout'].action).to.equal('retry');
  });

  it('maps getUserMedia failures to reasons', () => {
    expect(mediaErrorReason(new DOMException('x', 'NotAllowedError'))).to.equal('permission-denied');
    expect(mediaErrorReason(new DOMException('x', 'NotFoundError'))).to.equal('device-not-found');
    expect(mediaErrorReason(new DOMException('x', 'OverconstrainedError'))).to.equal('device-not-found');
    expect(mediaErrorReason(new DOMException('x', 'NotReadableError'))).to.equal('device-in-use');
  });

  const cases: { name: string; reason: string; arrange: (h: Harness) => void; retry: boolean }[] = [
    { name: 'a browser without E2EE', reason: 'e2ee-unsupported', retry: false, arrange: (x) => (x.media.supported = false) },
    {
      name: 'an unreachable backend',
      reason: 'oracle-unavailable',
      retry: true,
      arrange: (x) => (x.backend.oracleError = new BackendError(0, 'network_error', 'down')),
    },
    {
      name: 'a refused sign-in',
      reason: 'sign-in-failed',
      retry: true,
      arrange: (x) => (x.backend.signInError = new BackendError(401, 'invalid_openid_token', 'no')),
    },
    {
      name: 'Matrix refusing the OpenID token',
      reason: 'matrix-unavailable',
      retry: true,
      arrange: (x) => (x.transport.openIdError = new MatrixTransportError('refused', { retryable: false })),
    },
    {
      name: 'no microphone',
      reason: 'device-not-found',
      retry: true,
      arrange: (x) => (x.media.behaviour = { ...x.media.behaviour, prepareError: new DOMException('none', 'NotFoundError') }),
    },
    {
      name: 'a busy microphone',
      reason: 'device-in-use',
      retry: true,
      arrange: (x) => (x.media.behaviour = { ...x.media.behaviour, prepareError: new DOMException('busy', 'NotReadableError') }),
    },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.reason}, the message shown, ${c.retry ? 'retry and close' : 'only close'}, nothing sent to Matrix`, async () => {
      h = await mount();
      c.arrange(h);
      await h.el.callOracle();
      expect(h.el.state.phase).to.equal('error');
      await h.el.updateComplete;
      const [error] = eventsOf(h, 'oracle-call-error');
      expect(error!.detail.reason).to.equal(c.reason);
      expect(part(h.el, 'error')!.textContent).to.contain(ERROR_COPY[c.reason as CallErrorReason].message);
      expect(part(h.el, 'retry-button') !== null).to.equal(c.retry);
      expect(part(h.el, 'close-button')).to.not.equal(null);
      expect(h.transport.sent, 'no call event').to.have.length(0);
    });
  }

  it("as a widget without matrix-room-id, calls in the widget's own room", async () => {
    h = await mount();
    h.el.matrixRoomId = '';
    h.transport.roomId = '!widget-room:example.org';
    await h.el.callOracle();
    expect(h.el.state.phase).to.equal('in-call');
    expect(h.transport.calls[0]!.roomId).to.equal('!widget-room:example.org');
    expect(h.backend.syncs[0]!.body.matrixRoomId).to.equal('!widget-room:example.org');
    await h.el.endCall();
    expect(h.transport.edits[0]!.roomId).to.equal('!widget-room:example.org');
  });

  it('without a Matrix room, says the call is not set up', async () => {
    h = await mount();
    h.el.matrixRoomId = '';
    await h.el.callOracle();
    expect(eventsOf(h, 'oracle-call-error')[0]!.detail).to.include({ reason: 'not-configured', retryable: false });
    expect(h.backend.log).to.deep.equal([]);
  });
});
