/// <reference types="mocha" />
/**
 * Keyboard shortcuts (only with focus inside the element, announced through aria-keyshortcuts) and
 * the high-contrast theme (`prefers-contrast: more`), with axe in each state.
 */
import { expect, waitUntil } from '@open-wc/testing';
import { executeServerCommand, sendKeys } from '@web/test-runner-commands';
import { CHOICE_KEY } from '../../widget/device-choice.ts';
import { announced, click, mount, part, untilPhase } from './fakes/harness.ts';
import type { Harness } from './fakes/harness.ts';

let h: Harness | undefined;
let outside: HTMLButtonElement | undefined;

beforeEach(() => localStorage.removeItem(CHOICE_KEY));

afterEach(async () => {
  outside?.remove();
  if (h?.el.isConnected) {
    await h.el.endCall();
    h.el.remove();
  }
  h?.dispose();
  h = undefined;
});

function focusPart(el: Harness['el'], name: string): void {
  part(el, name)!.focus();
  expect(el.matches(':focus-within'), `focus in ${name}`).to.equal(true);
}

describe('<oracle-call> keyboard shortcuts', function () {
  this.timeout(20000);

  it('in a call: M mutes, V turns the camera off, holding T talks while muted, Shift+H hangs up', async () => {
    h = await mount({ 'call-type': 'video' });
    await h.el.callOracle();
    await untilPhase(h.el, 'in-call');
    const media = h.media.last;
    expect(part(h.el, 'mute-button')!.getAttribute('aria-keyshortcuts')).to.equal('M');
    expect(part(h.el, 'camera-button')!.getAttribute('aria-keyshortcuts')).to.equal('V');
    expect(part(h.el, 'hangup-button')!.getAttribute('aria-keyshortcuts')).to.equal('Shift+H');
    expect(part(h.el, 'mute-button')!.title).to.equal('Keyboard shortcut: M. Hold T to talk while muted.');
    await expect(h.el).to.be.accessible();

    focusPart(h.el, 'devices-button');
    await sendKeys({ press: 'm' });
    await waitUntil(() => !media.snapshot.microphoneEnabled, 'M did not mute');
    await waitUntil(() => announced(h!.el) === 'Microphone muted');
    await sendKeys({ press: 'v' });
    await waitUntil(() => !media.snapshot.cameraEnabled, 'V did not turn the camera off');

    await sendKeys({ down: 't' });
    await waitUntil(() => media.snapshot.microphoneEnabled, 'holding T did not unmute');
    await sendKeys({ up: 't' });
    await waitUntil(() => !media.snapshot.microphoneEnabled, 'letting T go did not mute again');

    await sendKeys({ press: 'm' });
    await waitUntil(() => media.snapshot.microphoneEnabled, 'M did not unmute');
    await sendKeys({ down: 't' });
    await sendKeys({ up: 't' });
    expect(media.snapshot.microphoneEnabled, 'push-to-talk leaves an open microphone open').to.equal(true);

    await sendKeys({ down: 'Shift' });
    await sendKeys({ press: 'H' });
    await sendKeys({ up: 'Shift' });
    await untilPhase(h.el, 'ended');
  });

  it('takes no key from the page: with focus outside the element nothing happens', async () => {
    h = await mount({ 'call-type': 'video' });
    await h.el.callOracle();
    await untilPhase(h.el, 'in-call');
    outside = document.createElement('button');
    outside.textContent = 'A button of the page';
    document.body.append(outside);
    outside.focus();
    let pageHeard = 0;
    const listener = (event: KeyboardEvent) => {
      if (!event.defaultPrevented) pageHeard += 1;
    };
    document.addEventListener('keydown', listener);
    await sendKeys({ press: 'm' });
    await sendKeys({ press: 'v' });
    await sendKeys({ down: 'Shift' });
    await sendKeys({ press: 'H' });
    await sendKeys({ up: 'Shift' });
    document.removeEventListener('keydown', listener);
    expect(pageHeard, 'the page got its keys').to.equal(4);
    expect(h.media.last.snapshot.microphoneEnabled).to.equal(true);
    expect(h.media.last.snapshot.cameraEnabled).to.equal(true);
    expect(h.el.state.phase).to.equal('in-call');
  });

  it('in the lobby: M and V set how the call starts, Shift+H leaves', async () => {
    h = await mount({ 'call-type': 'video' }, { lobby: true });
    click(h.el, 'call-button');
    await waitUntil(() => part<HTMLButtonElement>(h!.el, 'join-button')?.disabled === false);
    expect(part(h.el, 'lobby-mute-button')!.getAttribute('aria-keyshortcuts')).to.equal('M');
    focusPart(h.el, 'join-button');
    await sendKeys({ press: 'm' });
    await waitUntil(() => part(h!.el, 'lobby-mute-button')!.getAttribute('aria-pressed') === 'true');
    await sendKeys({ press: 'v' });
    await waitUntil(() => part(h!.el, 'lobby-camera-button')!.getAttribute('aria-pressed') === 'true');
    expect(part(h.el, 'preview-video')).to.equal(null);
    await sendKeys({ down: 'Shift' });
    await sendKeys({ press: 'H' });
    await sendKeys({ up: 'Shift' });
    await untilPhase(h.el, 'idle');
    expect(h.devices.live).to.deep.equal([]);
  });
});

describe('<oracle-call> high contrast (prefers-contrast: more)', function () {
  this.timeout(20000);

  before(() => executeServerCommand('emulate-contrast', { contrast: 'more' }));
  after(() => executeServerCommand('emulate-contrast', { contrast: 'no-preference' }));

  const property = (el: Element, name: string) => getComputedStyle(el).getPropertyValue(name).trim();

  it('black on white with 2px borders, and accessible in the lobby, in a call and after an error', async () => {
    expect(matchMedia('(prefers-contrast: more)').matches).to.equal(true);
    h = await mount({ 'call-type': 'video', theme: 'light' }, { lobby: true });
    expect(property(h.el, '--oracle-call-foreground')).to.equal('#000000');
    expect(property(h.el, '--oracle-call-border')).to.equal('#000000');
    expect(getComputedStyle(part(h.el, 'call-button')!).borderTopWidth).to.equal('2px');
    click(h.el, 'call-button');
    await waitUntil(() => part<HTMLButtonElement>(h!.el, 'join-button')?.disabled === false);
    await expect(h.el).to.be.accessible();
    click(h.el, 'join-button');
    await untilPhase(h.el, 'in-call');
    h.media.last.change({ oracleSpeaking: true });
    await h.el.updateComplete;
    await expect(h.el).to.be.accessible();
    h.media.last.emit({ type: 'disconnected', reason: 'gone' });
    await untilPhase(h.el, 'error');
    await expect(h.el).to.be.accessible();
  });

  it('white on black in the dark theme, and accessible', async () => {
    h = await mount({ 'call-type': 'video', theme: 'dark' });
    expect(property(h.el, '--oracle-call-background')).to.equal('#000000');
    expect(property(h.el, '--oracle-call-foreground')).to.equal('#ffffff');
    await h.el.callOracle();
    await untilPhase(h.el, 'in-call');
    await expect(h.el).to.be.accessible();
  });
});
