/// <reference types="mocha" />
/**
 * The lobby against fake media devices: the preview, the level, devices listed and chosen, the choice
 * remembered and restored, a device unplugged mid-lobby, blocked and missing microphones; axe in each.
 */
import { expect, waitUntil } from '@open-wc/testing';
import { BackendError } from '../../widget/backend-client.ts';
import { CHOICE_KEY, loadChoice } from '../../widget/device-choice.ts';
import { browserFamily, lobbyProblem } from '../../widget/oracle-call.lobby.ts';
import { click, mount, part, text, untilPhase } from './fakes/harness.ts';
import type { Harness } from './fakes/harness.ts';

let h: Harness | undefined;

beforeEach(() => localStorage.removeItem(CHOICE_KEY));

afterEach(async () => {
  if (h?.el.isConnected) {
    await h.el.endCall();
    h.el.remove();
  }
  h?.dispose();
  h = undefined;
});

function select(el: Harness['el'], kind: string): HTMLSelectElement {
  const found = el.shadowRoot!.querySelector<HTMLSelectElement>(`[part="lobby-devices"] select[data-kind="${kind}"]`);
  if (!found) throw new Error(`no ${kind} list`);
  return found;
}

async function choose(el: Harness['el'], kind: string, deviceId: string): Promise<void> {
  const list = select(el, kind);
  list.value = deviceId;
  list.dispatchEvent(new Event('change'));
}

async function openLobby(callType: 'audio' | 'video' = 'video'): Promise<Harness> {
  h = await mount({ 'call-type': callType }, { lobby: true });
  click(h.el, 'call-button');
  await untilPhase(h.el, 'lobby');
  await waitUntil(() => part(h!.el, 'join-button') && !part<HTMLButtonElement>(h!.el, 'join-button')!.disabled, 'the lobby never got ready');
  return h;
}

describe('<oracle-call> lobby', function () {
  this.timeout(20000);

  it('shows the camera preview, the microphone level and every device, and is accessible', async () => {
    const h = await openLobby('video');
    expect(text(h.el, 'status-text')).to.equal('Check your camera and microphone');
    const video = part<HTMLVideoElement>(h.el, 'preview-video')!;
    await waitUntil(() => video.srcObject instanceof MediaStream);
    expect((video.srcObject as MediaStream).getVideoTracks()[0]!.getSettings().deviceId).to.equal('cam-1');
    expect(part(h.el, 'level')!.tagName).to.equal('METER');
    await waitUntil(() => Number(part<HTMLMeterElement>(h.el, 'level')!.value) > 0, 'the meter shows the microphone tone', { timeout: 5000 });
    expect([...select(h.el, 'audioinput').options].map((o) => o.textContent)).to.deep.equal(['Desk microphone', 'Headset microphone']);
    expect([...select(h.el, 'videoinput').options].map((o) => o.textContent)).to.deep.equal(['Front camera', 'USB camera']);
    expect([...select(h.el, 'audiooutput').options].map((o) => o.textContent)).to.deep.equal(['Speakers', 'Headphones']);
    expect(h.media.sessions, 'no call media before joining').to.have.length(0);
    await expect(h.el).to.be.accessible();
  });

  it('an audio call’s lobby has no camera', async () => {
    const h = await openLobby('audio');
    expect(text(h.el, 'status-text')).to.equal('Check your microphone');
    expect(part(h.el, 'preview')).to.equal(null);
    expect(h.el.shadowRoot!.querySelector('select[data-kind="videoinput"]')).to.equal(null);
    expect(h.devices.tracks.map((t) => t.track.kind)).to.deep.equal(['audio']);
    await expect(h.el).to.be.accessible();
  });

  it('the chosen devices, microphone and camera off, are what the call uses; the preview stops', async () => {
    const h = await openLobby('video');
    await choose(h.el, 'audioinput', 'mic-2');
    await waitUntil(() => h.devices.live.some((t) => t.deviceId === 'mic-2'));
    await choose(h.el, 'videoinput', 'cam-2');
    await waitUntil(() => h.devices.live.some((t) => t.deviceId === 'cam-2'));
    await choose(h.el, 'audiooutput', 'spk-2');
    await waitUntil(() => loadChoice().devices.audiooutput === 'spk-2');
    await h.el.updateComplete;
    expect(select(h.el, 'audioinput').value).to.equal('mic-2');
    expect(select(h.el, 'videoinput').value).to.equal('cam-2');
    expect(h.devices.live.map((t) => t.deviceId).sort(), 'the old devices were let go').to.deep.equal(['cam-2', 'mic-2']);
    click(h.el, 'lobby-mute-button');
    click(h.el, 'lobby-camera-button');
    await h.el.updateComplete;
    expect(part(h.el, 'lobby-mute-button')!.getAttribute('aria-pressed')).to.equal('true');
    expect(part(h.el, 'preview-video'), 'camera off: no preview').to.equal(null);
    expect(
      h.devices.live.map((t) => t.deviceId),
      'camera off stops it',
    ).to.deep.equal(['mic-2']);
    await expect(h.el).to.be.accessible();

    const microphone = h.devices.live[0]!.track;
    click(h.el, 'join-button');
    await untilPhase(h.el, 'in-call');
    const session = h.media.last;
    expect(session.handedMicrophone, "the lobby's microphone is the call's").to.equal(microphone);
    expect(
      h.devices.live.map((t) => t.track),
      'the lobby let the rest go',
    ).to.deep.equal([microphone]);
    expect(session.callType).to.equal('video');
    expect(session.preparedWith).to.deep.equal({ audioinput: 'mic-2', videoinput: 'cam-2', audiooutput: 'spk-2' });
    expect(session.snapshot.microphoneEnabled, 'the call starts muted, as chosen').to.equal(false);
    expect(session.snapshot.cameraEnabled, 'and with the camera off').to.equal(false);
    await h.el.endCall();
    expect(h.devices.live, 'the microphone stopped with the call').to.deep.equal([]);
  });

  it("the call takes the lobby's open microphone (on, to be muted as chosen), and stops it whatever way it ends", async () => {
    const h = await openLobby('audio');
    expect(h.devices.tracks.length, 'the lobby opened the microphone once').to.equal(1);
    const microphone = h.devices.tracks[0]!.track;
    click(h.el, 'lobby-mute-button');
    await h.el.updateComplete;
    expect(microphone.enabled, 'muted in the lobby').to.equal(false);
    h.media.supported = false;
    click(h.el, 'join-button');
    await untilPhase(h.el, 'error');
    expect(h.media.sessions, 'the call failed before its media').to.have.length(0);
    expect(microphone.readyState, 'the microphone handed to a call that failed early is stopped').to.equal('ended');

    h.media.supported = true;
    click(h.el, 'close-button');
    await untilPhase(h.el, 'idle');
    click(h.el, 'call-button');
    await untilPhase(h.el, 'lobby');
    await waitUntil(() => !part<HTMLButtonElement>(h.el, 'join-button')!.disabled, 'the lobby never got ready');
    const second = h.devices.live[0]!.track;
    click(h.el, 'join-button');
    await untilPhase(h.el, 'in-call');
    expect(h.media.last.handedMicrophone).to.equal(second);
    expect(second.enabled, 'handed over on; the call mutes it only if chosen').to.equal(true);
    expect(h.devices.tracks.length, 'no device was opened for the call').to.equal(2);
    await h.el.endCall();
    expect(second.readyState).to.equal('ended');
  });

  it("a video call takes the lobby's camera too, at the call's capture, without opening it again", async () => {
    const h = await openLobby('video');
    const opened = h.devices.tracks.length;
    const camera = h.devices.live.find((t) => t.track.kind === 'video')!.track;
    const microphone = h.devices.live.find((t) => t.track.kind === 'audio')!.track;
    click(h.el, 'join-button');
    await untilPhase(h.el, 'in-call');
    const session = h.media.last;
    expect(session.handedCamera).to.equal(camera);
    expect(session.handedMicrophone).to.equal(microphone);
    expect(h.devices.tracks.length, 'no device opened for the call').to.equal(opened);
    expect(session.snapshot.localVideo, "the call's preview is the lobby's camera").to.equal(camera);
    await h.el.endCall();
    expect([camera.readyState, microphone.readyState]).to.deep.equal(['ended', 'ended']);
  });

  it('signs in while the person is in the lobby, and keeps the session for the next call while it is fresh', async () => {
    const h = await openLobby('audio');
    await waitUntil(() => h.backend.signIns.length === 1, 'no sign-in ahead');
    expect(h.backend.log, 'the oracle asked and the sign-in done before the join').to.deep.equal(['getOracle', 'signIn']);
    click(h.el, 'join-button');
    await untilPhase(h.el, 'in-call');
    await h.el.endCall();
    click(h.el, 'close-button');
    await untilPhase(h.el, 'idle');
    await h.el.callOracle({ type: 'audio' });
    await untilPhase(h.el, 'in-call');
    expect(h.backend.signIns, 'one sign-in for both calls').to.have.length(1);
    expect(h.backend.syncs.map((sync) => sync.session.token)).to.deep.equal(['session-token', 'session-token']);
    await h.el.endCall();
    expect(h.backend.ended, 'both calls ended with it').to.have.length(2);
  });

  it('a session past half its life, one the backend refuses, or a sign-in ahead that failed: the call signs in again', async () => {
    h = await mount({ 'call-type': 'audio' });
    h.backend.sessionLifetimeMs = 600;
    await h.el.callOracle({ type: 'audio' });
    await untilPhase(h.el, 'in-call');
    await h.el.endCall();
    await new Promise((resolve) => setTimeout(resolve, 400));
    await h.el.callOracle({ type: 'audio' });
    await untilPhase(h.el, 'in-call');
    expect(h.backend.signIns, 'not reused past half its life').to.have.length(2);
    await h.el.endCall();

    await new Promise((resolve) => setTimeout(resolve, 400));
    h.backend.sessionLifetimeMs = 3600_000;
    await h.el.callOracle({ type: 'audio' });
    await untilPhase(h.el, 'in-call');
    await h.el.endCall();
    expect(h.backend.signIns).to.have.length(3);
    h.backend.syncFailures.push(new BackendError(401, 'invalid_session', 'POST /calls/…/sync: 401 invalid_session'));
    h.backend.log.length = 0;
    await h.el.callOracle({ type: 'audio' });
    await untilPhase(h.el, 'in-call');
    expect(h.backend.log, 'refused once: signed in again, the same call synced again').to.deep.equal(['getOracle', 'syncCall', 'signIn', 'syncCall']);
    expect(h.backend.syncs.at(-1)!.session.token).to.equal('session-token-4');
    expect(h.backend.syncs.at(-1)!.callId, 'the same call').to.equal(h.backend.syncs.at(-2)!.callId);
    await h.el.endCall();
    expect(h.backend.ended.at(-1)).to.equal(h.backend.syncs.at(-1)!.callId);
  });

  it('a session is not kept for another Matrix user of the same client', async () => {
    h = await mount({ 'call-type': 'audio' });
    await h.el.callOracle({ type: 'audio' });
    await untilPhase(h.el, 'in-call');
    await h.el.endCall();
    h.transport.userId = '@bob:example.org';
    h.backend.userId = '@bob:example.org';
    await h.el.callOracle({ type: 'audio' });
    await untilPhase(h.el, 'in-call');
    expect(h.backend.signIns).to.have.length(2);
    expect(h.backend.syncs.map((sync) => sync.session.userId)).to.deep.equal(['@alice:example.org', '@bob:example.org']);
  });

  it('a sign-in ahead that failed is left to the call, which signs in itself', async () => {
    h = await mount({ 'call-type': 'audio' }, { lobby: true });
    h.backend.signInError = new BackendError(503, 'http_503', 'POST /session: 503');
    click(h.el, 'call-button');
    await untilPhase(h.el, 'lobby');
    await waitUntil(() => h!.backend.signIns.length === 1, 'no sign-in ahead');
    await waitUntil(() => !part<HTMLButtonElement>(h!.el, 'join-button')!.disabled, 'the lobby never got ready');
    h.backend.signInError = undefined;
    click(h.el, 'join-button');
    await untilPhase(h.el, 'in-call');
    expect(h.backend.signIns).to.have.length(2);
    expect(h.backend.syncs[0]!.session.token).to.equal('session-token-2');
  });

  it('the choice is remembered for this origin and restored in the next lobby', async () => {
    let h = await openLobby('video');
    await choose(h.el, 'audioinput', 'mic-2');
    await waitUntil(() => loadChoice().devices.audioinput === 'mic-2');
    click(h.el, 'lobby-mute-button');
    await h.el.updateComplete;
    expect(JSON.parse(localStorage.getItem(CHOICE_KEY)!)).to.include({ microphoneEnabled: false });
    click(h.el, 'close-button');
    await untilPhase(h.el, 'idle');
    expect(h.devices.live, 'cancel stops the preview').to.deep.equal([]);
    h.el.remove();
    h.dispose();

    h = await openLobby('video');
    expect(select(h.el, 'audioinput').value).to.equal('mic-2');
    expect(h.devices.tracks[0]!.deviceId, 'the remembered microphone is opened').to.equal('mic-2');
    expect(part(h.el, 'lobby-mute-button')!.getAttribute('aria-pressed')).to.equal('true');
  });

  it('a device unplugged mid-lobby: the default one instead, and a message', async () => {
    const h = await openLobby('video');
    h.devices.remove('mic-1');
    await waitUntil(() => part(h.el, 'lobby-notice'), 'no notice');
    expect(text(h.el, 'lobby-notice')).to.equal('Desk microphone was disconnected. Now using Headset microphone.');
    await waitUntil(() => select(h.el, 'audioinput').value === 'mic-2');
    expect([...select(h.el, 'audioinput').options].map((o) => o.value)).to.deep.equal(['mic-2']);
    expect(h.devices.live.map((t) => t.deviceId).sort()).to.deep.equal(['cam-1', 'mic-2']);
    await expect(h.el).to.be.accessible();

    h.devices.remove('cam-1');
    await waitUntil(() => text(h.el, 'lobby-notice').startsWith('Front camera'));
    expect(text(h.el, 'lobby-notice')).to.equal('Front camera was disconnected. Now using USB camera.');
    await waitUntil(() => h.devices.live.some((t) => t.deviceId === 'cam-2'));

    h.devices.remove('mic-2');
    await waitUntil(() => part(h.el, 'lobby-problem'));
    expect(text(h.el, 'lobby-notice')).to.equal('Headset microphone was disconnected.');
    expect(part(h.el, 'lobby-problem')!.textContent).to.contain('No microphone found');
    expect(part<HTMLButtonElement>(h.el, 'join-button')!.disabled, 'no call without a microphone').to.equal(true);
    await expect(h.el).to.be.accessible();
  });

  it('a blocked microphone says what to do in this browser, and Try again recovers', async () => {
    h = await mount({ 'call-type': 'video' }, { lobby: true });
    h.devices.refuse = { name: 'NotAllowedError' };
    click(h.el, 'call-button');
    await waitUntil(() => part(h!.el, 'lobby-problem'), 'no problem shown');
    const problem = part(h.el, 'lobby-problem')!.textContent!;
    expect(problem).to.contain('Your browser is blocking the microphone');
    expect(problem).to.contain('site settings icon at the left of the address bar');
    expect(part<HTMLButtonElement>(h.el, 'join-button')!.disabled).to.equal(true);
    await expect(h.el).to.be.accessible();
    h.devices.refuse = undefined;
    click(h.el, 'lobby-retry-button');
    await waitUntil(() => !part<HTMLButtonElement>(h!.el, 'join-button')!.disabled);
    expect(part(h.el, 'lobby-problem')).to.equal(null);
  });

  it('advice per browser, and a blocked camera lets the call go on without it', async () => {
    const firefox = 'Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0';
    const safari = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15';
    const chrome = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36';
    expect([firefox, safari, chrome].map((ua) => browserFamily(ua))).to.deep.equal(['firefox', 'safari', 'chromium']);
    expect(lobbyProblem('permission-denied', 'firefox')!.advice).to.contain('crossed-out microphone');
    expect(lobbyProblem('permission-denied', 'safari')!.advice).to.contain('Settings for This Website');

    h = await mount({ 'call-type': 'video' }, { lobby: true });
    h.devices.refuse = { name: 'NotAllowedError', only: 'videoinput' };
    click(h.el, 'call-button');
    await waitUntil(() => part<HTMLButtonElement>(h!.el, 'join-button') && !part<HTMLButtonElement>(h!.el, 'join-button')!.disabled);
    expect(text(h.el, 'preview')).to.contain('Your browser is blocking the camera');
    await expect(h.el).to.be.accessible();
  });

  it('no-lobby starts the call at once', async () => {
    h = await mount({ 'call-type': 'audio' });
    click(h.el, 'call-button');
    await untilPhase(h.el, 'in-call');
    expect(h.devices.tracks, 'no preview was opened').to.deep.equal([]);
  });
});
