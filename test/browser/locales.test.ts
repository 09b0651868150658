/// <reference types="mocha" />
/**
 * Every state of a call rendered in every locale: each non-English render has no English left (no
 * text or label equal to one of the English render of the same state), and passes axe.
 */
import { expect, waitUntil } from '@open-wc/testing';
import { LOCALES } from '../../widget/i18n/localize.ts';
import type { Locale } from '../../widget/i18n/localize.ts';
import { formatDuration, spokenDuration } from '../../widget/copy.ts';
import { Gate } from './fakes/gate.ts';
import { DEVICES } from './fakes/fake-media.ts';
import { CHOICE_KEY } from '../../widget/device-choice.ts';
import { click, mount, part, untilPhase } from './fakes/harness.ts';
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

/** Words that are the same in every language: the devices' own names, the timer, the avatar. */
const SAME_EVERYWHERE = new Set<string>([...Object.values(DEVICES).flatMap((list) => list.map((d) => d.label)), '✶']);

/** Every text and label the element shows or gives to assistive technology. */
function wordsOf(root: ShadowRoot): string[] {
  const found: string[] = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.nodeType === Node.TEXT_NODE) {
      if (node.parentElement?.closest('style')) continue;
      const text = node.textContent!.replace(/\s+/g, ' ').trim();
      if (text) found.push(text);
    } else {
      for (const name of ['aria-label', 'title', 'alt', 'placeholder', 'aria-roledescription']) {
        const value = (node as Element).getAttribute(name);
        if (value) found.push(value);
      }
    }
  }
  return found.filter((text) => !SAME_EVERYWHERE.has(text) && /\p{L}/u.test(text));
}

/** Drives one video call through every state, calling `look` in each (the element in `locale`). */
async function everyState(locale: Locale, look: (state: string, root: ShadowRoot) => Promise<void>): Promise<void> {
  localStorage.removeItem(CHOICE_KEY);
  h = await mount({ lang: locale, 'call-type': 'video' }, { lobby: true });
  await h.el.localeReady();
  const seen = (state: string) => look(state, h!.el.shadowRoot!);
  await seen('idle');
  const joinable = () => waitUntil(() => part<HTMLButtonElement>(h!.el, 'join-button')?.disabled === false, 'the lobby never got ready');

  click(h.el, 'call-button');
  await untilPhase(h.el, 'lobby');
  await joinable();
  await seen('lobby');
  h.devices.remove('mic-1');
  await waitUntil(() => part(h!.el, 'lobby-notice'));
  await joinable();
  await seen('lobby, a device gone');

  const gates = { prepare: new Gate(), send: new Gate(), sync: new Gate(), connect: new Gate() };
  h.media.behaviour = { ...h.media.behaviour, prepareGate: gates.prepare, connectGate: gates.connect, oracle: 'manual' };
  h.transport.sendGate = gates.send;
  h.backend.syncGate = gates.sync;
  click(h.el, 'join-button');
  await untilPhase(h.el, 'preparing-media');
  await seen('preparing-media');
  gates.prepare.open();
  await untilPhase(h.el, 'calling');
  await seen('calling');
  gates.send.open();
  await waitUntil(() => gates.sync.entered);
  gates.sync.open();
  await untilPhase(h.el, 'connecting');
  await seen('connecting');
  gates.connect.open();
  await untilPhase(h.el, 'waiting-for-oracle');
  await seen('waiting-for-oracle');
  h.media.last.oracleJoins();
  await untilPhase(h.el, 'in-call');
  h.media.last.change({ oracleSpeaking: true, audioBlocked: true });
  click(h.el, 'devices-button');
  await h.el.updateComplete;
  await seen('in-call');
  click(h.el, 'mute-button');
  await waitUntil(() => !h!.media.last.snapshot.microphoneEnabled);
  await h.el.updateComplete;
  await seen('in-call, muted');
  h.media.last.emit({ type: 'reconnecting' });
  await untilPhase(h.el, 'reconnecting');
  await seen('reconnecting');
  h.media.last.emit({ type: 'reconnected' });
  await untilPhase(h.el, 'in-call');
  h.backend.endGate = new Gate();
  click(h.el, 'hangup-button');
  await untilPhase(h.el, 'ending');
  await seen('ending');
  h.backend.endGate.open();
  await untilPhase(h.el, 'ended');
  await seen('ended');
  click(h.el, 'close-button');
  await untilPhase(h.el, 'idle');

  h.media.behaviour = { oracle: 'auto', encryption: 'encrypted', prepareError: new DOMException('Permission denied', 'NotAllowedError') };
  h.transport.sendGate = undefined;
  h.backend.syncGate = undefined;
  await h.el.callOracle();
  await untilPhase(h.el, 'error');
  await seen('error');
  click(h.el, 'close-button');
  await untilPhase(h.el, 'idle');
  h.devices.refuse = { name: 'NotAllowedError' };
  click(h.el, 'call-button');
  await waitUntil(() => part(h!.el, 'lobby-problem'));
  await seen('lobby, microphone blocked');
  await h.el.endCall();
  h.el.remove();
  h.dispose();
  h = undefined;
}

describe('<oracle-call> in every locale', function () {
  this.timeout(60000);
  const english = new Map<string, string[]>();

  it('en: every state renders words, and passes axe', async () => {
    await everyState('en', async (state, root) => {
      const words = wordsOf(root);
      expect(words.length, `${state}: words`).to.be.greaterThan(1);
      english.set(state, words);
      await expect(root.host).to.be.accessible();
    });
    expect([...english.keys()]).to.have.length(14);
  });

  for (const locale of LOCALES.filter((l) => l !== 'en')) {
    it(`${locale}: no English left in any state, lang set, and accessible`, async () => {
      expect(english.size, 'the English run went first').to.equal(14);
      await everyState(locale, async (state, root) => {
        const words = wordsOf(root);
        const left = words.filter((text) => english.get(state)!.includes(text));
        expect(left, `${locale} ${state}: English left`).to.deep.equal([]);
        expect(words.length, `${locale} ${state}: as many texts as in English`).to.equal(english.get(state)!.length);
        expect(root.querySelector('[part="base"]')!.getAttribute('lang')).to.equal(locale);
        await expect(root.host).to.be.accessible();
      });
    });
  }

  it('durations and numbers go through Intl', () => {
    expect(formatDuration(65_000, 'de')).to.equal('1:05');
    expect(formatDuration(3_725_000, 'en')).to.equal('1:02:05');
    expect(formatDuration(65_000, 'ar-EG')).to.equal('١:٠٥');
    expect(spokenDuration(125_000, 'en')).to.equal('2 minutes and 5 seconds');
    expect(spokenDuration(125_000, 'de')).to.equal('2 Minuten und 5 Sekunden');
    expect(spokenDuration(1_000, 'fr')).to.equal('1\u00a0seconde');
    expect(spokenDuration(3_600_000, 'es')).to.equal('1 hora');
  });

  it('the locale comes from lang, else the page, else the browser; an unsupported one falls back', async () => {
    document.documentElement.lang = 'fr-CA';
    h = await mount();
    await h.el.localeReady();
    expect(h.el.shadowRoot!.querySelector('[part="call-button"]')!.textContent!.trim()).to.equal('Démarrer un appel audio');
    h.el.setAttribute('lang', 'es-MX');
    await h.el.localeReady();
    expect(h.el.shadowRoot!.querySelector('[part="call-button"]')!.textContent!.trim()).to.equal('Iniciar llamada de voz');
    h.el.setAttribute('lang', 'xx');
    await h.el.localeReady();
    expect(h.el.shadowRoot!.querySelector('[part="call-button"]')!.textContent!.trim(), 'xx: the page (fr-CA)').to.equal('Démarrer un appel audio');
    document.documentElement.lang = '';
    h.el.removeAttribute('lang');
    await h.el.localeReady();
    // Headless Chromium's languages are English.
    expect(h.el.shadowRoot!.querySelector('[part="call-button"]')!.textContent!.trim()).to.equal('Start audio call');
  });
});
