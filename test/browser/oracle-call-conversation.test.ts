/// <reference types="mocha" />
import { expect, waitUntil } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
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

async function inCall(attributes: Record<string, string> = {}): Promise<Harness> {
  h = await mount(attributes);
  click(h.el, 'call-button');
  await untilPhase(h.el, 'in-call');
  return h;
}

function entries(harness: Harness) {
  return [...harness.el.shadowRoot!.querySelectorAll('.transcript .entry:not(.empty)')].map((li) => li.textContent!.replace(/\s+/g, ' ').trim());
}

describe('<oracle-call> oracle state', () => {
  it('shows the state with a level, sets data-oracle-state, fires the event, and announces settled states only', async () => {
    await inCall();
    expect(part(h.el, 'oracle-state')).to.equal(null);
    h.media.last.change({ oracleState: 'listening' });
    await h.el.updateComplete;
    expect(text(h.el, 'oracle-state')).to.equal('The oracle is listening');
    expect(h.el.oracleState).to.equal('listening');
    expect(h.el.getAttribute('data-oracle-state')).to.equal('listening');
    expect(part(h.el, 'voice-level')!.getAttribute('aria-hidden')).to.equal('true');

    // A flicker through thinking to speaking: both events, but only the settled state is announced.
    h.media.last.change({ oracleState: 'thinking' });
    await h.el.updateComplete;
    h.media.last.change({ oracleState: 'speaking' });
    await h.el.updateComplete;
    expect(eventsOf(h, 'oracle-call-oracle-state-change').map((e) => e.detail.state)).to.deep.equal(['listening', 'thinking', 'speaking']);
    expect(eventsOf(h, 'oracle-call-oracle-state-change')[2]!.detail.previous).to.equal('thinking');
    expect(announced(h.el)).not.to.contain('thinking');
    await waitUntil(() => announced(h.el) === 'The oracle is speaking.', 'the settled state is announced', { timeout: 3000 });
    expect(part(h.el, 'oracle-state')!.dataset.state).to.equal('speaking');
    await expect(h.el).to.be.accessible();

    await h.el.endCall();
    await untilPhase(h.el, 'ended');
    expect(h.el.oracleState).to.equal(undefined);
    expect(h.el.hasAttribute('data-oracle-state')).to.equal(false);
    expect(eventsOf(h, 'oracle-call-oracle-state-change').at(-1)!.detail.state).to.equal(undefined);
  });
});

describe('<oracle-call> voice level', () => {
  it("follows the loudness of the oracle's voice track, and rests when it is silent", async () => {
    await inCall();
    // A real key press: the page gets the user activation that lets it run audio, as the call's click does.
    await sendKeys({ press: 'Tab' });
    const context = new AudioContext();
    await context.resume();
    const oscillator = context.createOscillator();
    const gain = context.createGain();
    const destination = context.createMediaStreamDestination();
    oscillator.connect(gain).connect(destination);
    oscillator.start();
    try {
      h.media.last.change({ oracleState: 'speaking', oracleAudio: destination.stream.getAudioTracks()[0]! });
      await h.el.updateComplete;
      const level = () => Number(part(h.el, 'voice-level')!.style.getPropertyValue('--level') || '0');
      await waitUntil(() => level() > 0.5, `the level rises with a loud voice (it is ${level()})`, { timeout: 3000 });
      gain.gain.value = 0;
      await waitUntil(() => level() < 0.1, `the level falls back in silence (it is ${level()})`, { timeout: 3000 });
    } finally {
      oscillator.stop();
      await context.close();
    }
  });
});

describe('<oracle-call> captions', () => {
  it('shows interim and final entries with their speaker, fires transcript events, and keeps them after the call', async () => {
    await inCall();
    expect(entries(h)).to.deep.equal([]);
    expect(text(h.el, 'transcript')).to.equal('Nothing said yet.');
    h.media.last.change({ transcript: [{ id: 's1', speaker: 'you', text: 'Hello oracle', final: true }] });
    h.media.last.change({ transcript: [...h.media.last.snapshot.transcript, { id: 's2', speaker: 'oracle', text: 'You asked', final: false }] });
    await h.el.updateComplete;
    expect(entries(h)).to.deep.equal(['You: Hello oracle', 'Oracle: You asked (still speaking)']);
    expect(h.el.shadowRoot!.querySelector('.entry.interim')).to.not.equal(null);
    h.media.last.change({ transcript: [h.media.last.snapshot.transcript[0]!, { id: 's2', speaker: 'oracle', text: 'You asked: yes.', final: true }] });
    await h.el.updateComplete;
    expect(entries(h)).to.deep.equal(['You: Hello oracle', 'Oracle: You asked: yes.']);
    expect(h.el.transcript.map((e) => e.text)).to.deep.equal(['Hello oracle', 'You asked: yes.']);
    const events = eventsOf(h, 'oracle-call-transcript').map((e) => [e.detail.entry.id, e.detail.entry.final]);
    expect(events).to.deep.equal([
      ['s1', true],
      ['s2', false],
      ['s2', true],
    ]);
    await expect(h.el).to.be.accessible();

    await h.el.endCall();
    await untilPhase(h.el, 'ended');
    expect(entries(h), 'the transcript stays readable after the call').to.have.length(2);
    expect(part(h.el, 'chat'), 'no chat box outside a call').to.equal(null);
    await expect(h.el).to.be.accessible();
    click(h.el, 'close-button');
    await untilPhase(h.el, 'idle');
    expect(part(h.el, 'captions'), "closing returns to the start, without the last call's captions").to.equal(null);
    expect(h.el.transcript, 'the property keeps them until the next call').to.have.length(2);
  });

  it('scrolls: a long transcript stays in a scrollable, focusable box that follows new words', async () => {
    await inCall();
    const many = Array.from({ length: 40 }, (_, i) => ({
      id: `s${i}`,
      speaker: i % 2 ? ('oracle' as const) : ('you' as const),
      text: `Sentence number ${i}`,
      final: true,
    }));
    h.media.last.change({ transcript: many });
    await h.el.updateComplete;
    await h.el.updateComplete;
    const list = part(h.el, 'transcript')!;
    expect(list.scrollHeight).to.be.greaterThan(list.clientHeight);
    expect(list.getAttribute('tabindex')).to.equal('0');
    expect(list.scrollTop + list.clientHeight).to.be.closeTo(list.scrollHeight, 2);
    await expect(h.el).to.be.accessible();
  });

  it('hides and shows with its button; captions="off" starts hidden', async () => {
    await inCall({ captions: 'off' });
    expect(part(h.el, 'transcript')).to.equal(null);
    expect(text(h.el, 'captions-button')).to.equal('Show captions');
    expect(part(h.el, 'captions-button')!.getAttribute('aria-expanded')).to.equal('false');
    click(h.el, 'captions-button');
    await h.el.updateComplete;
    expect(part(h.el, 'transcript')).to.not.equal(null);
    expect(text(h.el, 'captions-button')).to.equal('Hide captions');
    click(h.el, 'captions-button');
    await h.el.updateComplete;
    expect(part(h.el, 'transcript')).to.equal(null);
    await expect(h.el).to.be.accessible();
  });
});

describe('<oracle-call> chat', () => {
  it('sends what the person types, shows it as theirs, and clears the box', async () => {
    await inCall();
    const input = part<HTMLInputElement>(h.el, 'chat-input')!;
    expect(h.el.shadowRoot!.querySelector(`label[for="${input.id}"]`)!.textContent).to.equal('Message to the oracle');
    input.value = '   ';
    click(h.el, 'chat-send');
    expect(h.media.last.chats, 'blank messages are not sent').to.deep.equal([]);
    input.value = 'Is it raining?';
    click(h.el, 'chat-send');
    await waitUntil(() => h.media.last.chats.length === 1);
    expect(h.media.last.chats).to.deep.equal(['Is it raining?']);
    await h.el.updateComplete;
    expect(input.value).to.equal('');
    expect(entries(h)).to.deep.equal(['You (typed): Is it raining?']);
    await h.el.sendMessage('And tomorrow?');
    expect(h.media.last.chats).to.deep.equal(['Is it raining?', 'And tomorrow?']);
    await expect(h.el).to.be.accessible();
  });

  it('cannot send outside a call', async () => {
    h = await mount();
    let failed = false;
    await h.el.sendMessage('hello').catch(() => (failed = true));
    expect(failed).to.equal(true);
  });
});

describe('<oracle-call> the oracle leaving with a reason', () => {
  it('says the oracle cannot hear, rather than leaving silently', async () => {
    await inCall();
    h.media.last.change({ oracleEndReason: 'cannot-hear' });
    h.media.last.emit({ type: 'oracle-left' });
    await untilPhase(h.el, 'ended');
    expect(text(h.el, 'status-text')).to.equal('The oracle cannot hear you right now');
    expect(eventsOf(h, 'oracle-call-ended')[0]!.detail.reason).to.equal('oracle-cannot-hear');
    expect(announced(h.el)).to.contain('The oracle cannot hear you right now');
  });
});

describe('<oracle-call> voice and language', () => {
  it('puts the chosen voice and language in the call event when the oracle offers them', async () => {
    h = await mount({ voice: 'en-gb', language: 'en' });
    h.backend.oracle = { ...h.backend.oracle, voices: ['en-us', 'en-gb'], languages: ['en'] };
    click(h.el, 'call-button');
    await untilPhase(h.el, 'in-call');
    const content = h.transport.sent[0]!.content as { agentVoice?: string; language?: string };
    expect(content.agentVoice).to.equal('en-gb');
    expect(content.language).to.equal('en');
  });

  it('refuses a voice the oracle does not offer before any call is announced', async () => {
    h = await mount({ voice: 'robot' });
    h.backend.oracle = { ...h.backend.oracle, voices: ['en-us'], languages: [] };
    click(h.el, 'call-button');
    await untilPhase(h.el, 'error');
    expect(h.el.state.phase === 'error' && h.el.state.error.reason).to.equal('not-configured');
    expect(h.el.state.phase === 'error' && h.el.state.error.detail).to.contain('voice "robot" is not offered by the oracle (it offers en-us)');
    expect(h.transport.sent, 'no call event was sent').to.have.length(0);
    await expect(h.el).to.be.accessible();
  });
});
