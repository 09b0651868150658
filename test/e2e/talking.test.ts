/**
 * The oracle that talks, end to end (real Synapse, LiveKit, backend, agent, headless Chromium): the
 * oracle's state, the captions and the chat with the echo oracle and with the OpenAI-compatible voice
 * pipeline against the local server, the pipeline's failure told to the person, and the transcript
 * and chat unreadable to a participant without the call key.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Room, RoomEvent, dispose } from '@livekit/rtc-node';
import type { Page } from 'playwright-core';
import { CHAT_TOPIC, TRANSCRIPTION_TOPIC, decryptCallKey, generateCallKey, parseCallId } from '../../protocol/index.ts';
import type { CallEventContent } from '../../protocol/index.ts';
import { FIXTURE_UTTERANCE, answerTo, startLocalOpenAi } from '../../scripts/services/local-openai/server.ts';
import type { LocalOpenAiServer } from '../../scripts/services/local-openai/server.ts';
import { startAgent } from '../../scripts/stack/agent-process.ts';
import { waitForPhase } from '../../scripts/stack/page-probes.ts';
import { joinEncrypted, participantToken } from '../../scripts/stack/participants.ts';
import { useE2E } from '../helpers/e2e.ts';
import type { E2E } from '../helpers/e2e.ts';
import { eventually as eventuallyWithin } from '../helpers/wait.ts';

interface Entry {
  speaker: 'you' | 'oracle';
  text: string;
  final: boolean;
  typed?: boolean;
}

const ORACLE_INSTRUCTIONS = 'You are the test oracle. Answer in one sentence.';

/** As the shared `eventually`, with 30 s by default: the talking oracle's steps take longer. */
const eventually = <T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000) => eventuallyWithin(what, probe, timeoutMs);

/** The voices and languages the test backend announces (GET /oracle). */
const BACKEND_CHOICES = { ORACLE_VOICES: 'en-us,en-gb', ORACLE_LANGUAGES: 'en,de' };

/**
 * Opens the page (the element given `attributes`), records the element's phases and the oracle's states
 * as the element reports them, starts an audio call and waits until the element reaches `until`.
 */
async function startCall(e: E2E, attributes: Record<string, string> = {}, until = 'in-call'): Promise<{ page: Page; callId: string }> {
  const page = await e.newPage();
  await page.goto(e.pages.pageUrl);
  await page.getByText('Signed in as').waitFor({ timeout: 30_000 });
  // Straight into the call (the lobby has its own tests).
  await page.evaluate(
    (set) => {
      for (const [name, value] of Object.entries(set)) document.querySelector('oracle-call')!.setAttribute(name, value);
    },
    { 'no-lobby': '', ...attributes },
  );
  await page.evaluate(() => {
    const w = window as unknown as { __oracleStates: string[]; __phases: string[] };
    w.__oracleStates = [];
    w.__phases = [];
    const element = document.querySelector('oracle-call')!;
    element.addEventListener('oracle-call-oracle-state-change', (event) => {
      const state = (event as CustomEvent<{ state?: string }>).detail.state;
      if (state) w.__oracleStates.push(state);
    });
    element.addEventListener('oracle-call-state', (event) => w.__phases.push((event as CustomEvent<{ state: string }>).detail.state));
  });
  await page.locator('oracle-call').getByRole('button', { name: 'Start audio call' }).click();
  await waitForPhase(page, until, 60_000);
  const callId = await page.evaluate(() => (document.querySelector('oracle-call') as unknown as { state: { callId: string } }).state.callId);
  return { page, callId };
}

function transcriptOf(page: Page): Promise<Entry[]> {
  return page.evaluate(() => [...((document.querySelector('oracle-call') as unknown as { transcript: Entry[] }).transcript ?? [])]);
}

function statesOf(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __oracleStates: string[] }).__oracleStates.slice());
}

function phasesOf(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __phases: string[] }).__phases.slice());
}

function untilEntry(page: Page, what: string, match: (entry: Entry) => boolean, timeoutMs = 60_000): Promise<Entry> {
  return eventually(what, async () => (await transcriptOf(page)).find(match), timeoutMs);
}

/** Whether `sequence` appears in `states` in order (other states may come between). */
function inOrder(states: string[], sequence: string[]): boolean {
  let at = 0;
  for (const state of states) if (state === sequence[at]) at += 1;
  return at >= sequence.length;
}

async function typeMessage(page: Page, text: string): Promise<void> {
  const box = page.locator('oracle-call').getByRole('textbox', { name: 'Message to the oracle' });
  await box.fill(text);
  await box.press('Enter');
}

/**
 * Listens in the page to what it plays, with a WebAudio analyser, for `durationMs`: how long the
 * oracle's audio carried speech energy while the element said the oracle was speaking.
 */
function listenForSpeech(page: Page, durationMs: number): Promise<{ speechMs: number; speakingMs: number; peakDb: number }> {
  return page.evaluate(`(async (durationMs) => {
    const remote = window.__playedStreams.filter((stream) => stream.getAudioTracks().some((track) => track.readyState === 'live'));
    const context = new AudioContext();
    await context.resume();
    const analysers = remote.map((stream) => {
      const analyser = context.createAnalyser();
      analyser.fftSize = 2048;
      context.createMediaStreamSource(stream).connect(analyser);
      return analyser;
    });
    const data = new Float32Array(2048);
    let speechMs = 0, speakingMs = 0, peakDb = -Infinity;
    const started = performance.now();
    while (performance.now() - started < durationMs) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const speaking = document.querySelector('oracle-call').oracleState === 'speaking';
      if (speaking) speakingMs += 50;
      for (const analyser of analysers) {
        analyser.getFloatTimeDomainData(data);
        let sum = 0;
        for (const s of data) sum += s * s;
        const db = 10 * Math.log10(sum / data.length + 1e-12);
        peakDb = Math.max(peakDb, db);
        if (db > -45 && speaking) speechMs += 50;
      }
    }
    await context.close();
    return { speechMs, speakingMs, peakDb };
  })(${durationMs})`) as Promise<{ speechMs: number; speakingMs: number; peakDb: number }>;
}

/** The call key: the call event (read by the person's other device) opened with the oracle's private key. */
async function callKeyOf(e: E2E, callId: string): Promise<string> {
  const { eventId } = parseCallId(callId);
  const event = await eventually('the call event to be readable', () => e.user.reader.event(e.user.roomId, eventId));
  return decryptCallKey((event.content as unknown as CallEventContent).encryptionKey, e.stack.oracleKeys.privateKey);
}

/** Everything a LiveKit participant receives as text on the transcript and chat topics, and as raw data. */
function collectText(room: Room): string[] {
  const seen: string[] = [];
  for (const topic of [TRANSCRIPTION_TOPIC, CHAT_TOPIC]) {
    room.registerTextStreamHandler(topic, (reader) => {
      void (async () => {
        try {
          for await (const chunk of reader) seen.push(chunk);
        } catch (error) {
          seen.push(`<unreadable: ${(error as Error).message}>`);
        }
      })();
    });
  }
  room.on(RoomEvent.DataReceived, (payload) => seen.push(Buffer.from(payload).toString('latin1')));
  return seen;
}

describe('the oracle that talks, in headless Chromium (real Synapse, LiveKit, backend, agent)', () => {
  const e2e = useE2E({ backendEnv: BACKEND_CHOICES });
  let local: LocalOpenAiServer | undefined;

  after(async () => {
    await local?.close();
    await dispose();
  });

  describe('the echo oracle', () => {
    it('shows its state and its "(echo)" entries, echoes a typed message, and none of it is readable without the call key', async () => {
      const e = e2e();
      const { page, callId } = await startCall(e);
      const { roomName } = parseCallId(callId);
      const callKey = await callKeyOf(e, callId);

      // Three more participants: one with the call key (it must read the text, or the test proves
      // nothing), one with another key, one with no E2EE at all (what the server could see).
      const keyed = await joinEncrypted(e.stack.livekit, roomName, 'keyed-listener', callKey);
      const wrong = await joinEncrypted(e.stack.livekit, roomName, 'wrong-key', generateCallKey());
      const plain = new Room();
      await plain.connect(e.stack.livekit.url, await participantToken(e.stack.livekit, roomName, 'no-e2ee'), { autoSubscribe: true, dynacast: false });
      const [keyedSeen, wrongSeen, plainSeen] = [collectText(keyed), collectText(wrong), collectText(plain)];

      await untilEntry(page, 'an "(echo)" entry of the oracle', (entry) => entry.speaker === 'oracle' && entry.text === '(echo)', 30_000);
      await eventually('the oracle to go back to listening after speaking', async () => inOrder(await statesOf(page), ['listening', 'speaking', 'listening']));
      assert.match((await page.locator('oracle-call').getAttribute('data-oracle-state')) ?? '', /^(listening|speaking)$/);

      const message = 'Please echo this secret sentence 4217';
      await typeMessage(page, message);
      await untilEntry(page, "the typed message as the person's", (entry) => entry.speaker === 'you' && entry.typed === true && entry.text === message, 10_000);
      await untilEntry(page, 'the echoed message from the oracle', (entry) => entry.speaker === 'oracle' && entry.text === message, 20_000);
      await page.locator('oracle-call').locator('[part="transcript"]').scrollIntoViewIfNeeded();
      await e.screenshot(page, 'echo-captions');

      // The keyed listener reads both (the text was on the wire, and it is readable with the key)…
      await eventually(
        'the keyed listener to read the chat and the echo mark',
        async () => keyedSeen.join('').includes(message) && keyedSeen.join('').includes('(echo)'),
        15_000,
      );
      // …while neither the wrong key nor a participant without E2EE gets a readable word of it.
      await new Promise((resolve) => setTimeout(resolve, 2000));
      for (const [who, seen] of [
        ['the wrong-key participant', wrongSeen],
        ['the participant without E2EE', plainSeen],
      ] as const) {
        const all = seen.join('\n');
        assert.ok(!all.includes('4217') && !all.includes('secret sentence'), `${who} read the chat message: ${all.slice(0, 200)}`);
        assert.ok(!all.includes('(echo)'), `${who} read the transcript: ${all.slice(0, 200)}`);
      }

      // Out of the room while the LiveKit server still runs (the stack stops it in its own after hook).
      await Promise.all([keyed, wrong, plain].map((room) => room.disconnect().catch(() => {})));
      await page.locator('oracle-call').getByRole('button', { name: 'Hang up' }).click();
      await waitForPhase(page, 'ended', 15_000);
      assert.ok(
        (await transcriptOf(page)).some((entry) => entry.text === message),
        'the transcript stays after the call',
      );
    });
  });

  describe('voice and language per call', () => {
    it('the oracle announces its voices and languages; one it does not offer is refused before any call is made', async () => {
      const e = e2e();
      const oracle = (await (await fetch(`${e.stack.backend.url}/oracle`)).json()) as { voices: string[]; languages: string[] };
      assert.deepEqual(oracle.voices, ['en-us', 'en-gb']);
      assert.deepEqual(oracle.languages, ['en', 'de']);
      const page = await e.newPage();
      await page.goto(e.pages.pageUrl);
      await page.getByText('Signed in as').waitFor({ timeout: 30_000 });
      await page.evaluate(() => {
        const element = document.querySelector('oracle-call')!;
        element.setAttribute('no-lobby', '');
        element.setAttribute('voice', 'robot');
      });
      await page.locator('oracle-call').getByRole('button', { name: 'Start audio call' }).click();
      await waitForPhase(page, 'error', 30_000);
      const error = await page.evaluate(
        () => (document.querySelector('oracle-call') as unknown as { state: { error: { reason: string; detail?: string }; callId?: string } }).state,
      );
      assert.equal(error.error.reason, 'not-configured');
      assert.match(error.error.detail ?? '', /voice "robot" is not offered by the oracle \(it offers en-us, en-gb\)/);
      assert.equal(error.callId, undefined, 'no call was announced');
    });
  });

  describe('the OpenAI-compatible voice pipeline against the local server', () => {
    before(async () => {
      const e = e2e();
      local = await startLocalOpenAi();
      await e.agent?.stop();
      e.agent = await startAgent(e.stack, { ORACLE_BRAIN: 'openai', OPENAI_BASE_URL: local.baseUrl, ORACLE_INSTRUCTIONS });
    });

    it('hears the person, shows their words and the answer, speaks it, and answers a typed question the same way', async () => {
      const e = e2e();
      // The person chooses the oracle's voice and their language; both reach the speech server.
      const { page } = await startCall(e, { voice: 'en-gb', language: 'en' });

      // The fake microphone says the fixture utterance; the local server recognises it by its sound.
      const heard = await untilEntry(
        page,
        "the person's words in the transcript",
        (entry) => entry.speaker === 'you' && entry.text.includes('Hello oracle'),
        60_000,
      );
      // Muted from here, so the looping fake microphone does not interrupt the answer.
      await page.locator('oracle-call').getByRole('button', { name: 'Mute' }).click();
      assert.equal(heard.text, FIXTURE_UTTERANCE.text);
      const transcription = local!.requests.find((request) => request.kind === 'transcription' && request.text);
      assert.ok(transcription, "the local server received the person's audio and recognised it");
      assert.ok(transcription.kind === 'transcription' && transcription.language === 'en', 'speech recognition was asked for the chosen language');

      const listening = listenForSpeech(page, 14_000);
      const answer = await untilEntry(
        page,
        "the oracle's answer",
        (entry) => entry.speaker === 'oracle' && entry.final && entry.text.includes('You asked'),
        45_000,
      );
      assert.equal(answer.text, answerTo(FIXTURE_UTTERANCE.text));
      const chat = local!.requests.find((request) => request.kind === 'chat');
      assert.ok(chat?.kind === 'chat' && chat.stream, 'the answer was streamed');
      assert.ok(
        chat.messages.some((m) => m.role === 'system' && m.content.includes(ORACLE_INSTRUCTIONS)),
        'the instructions were sent',
      );
      assert.ok(
        chat.messages.some((m) => m.role === 'user' && m.content.includes(FIXTURE_UTTERANCE.text)),
        "the person's words were sent",
      );
      assert.ok(
        local!.requests.some((r) => r.kind === 'speech' && r.input.includes('You asked') && r.format === 'pcm'),
        'the answer was synthesised',
      );
      assert.ok(
        local!.requests.filter((r) => r.kind === 'speech').every((r) => r.kind === 'speech' && r.voice === 'en-gb'),
        'in the chosen voice',
      );
      const sound = await listening;
      assert.ok(
        sound.speechMs >= 1000,
        `the synthesised answer is heard in the page while the oracle speaks (${sound.speechMs} ms of speech in ${sound.speakingMs} ms speaking, peak ${sound.peakDb.toFixed(1)} dBFS)`,
      );
      await eventually(
        'listening → thinking → speaking → listening',
        async () => inOrder(await statesOf(page), ['listening', 'thinking', 'speaking', 'listening']),
        30_000,
      ).catch(async (error: Error) => {
        throw new Error(`${error.message}; the states seen: ${(await statesOf(page)).join(' → ')}`);
      });

      // The same for a typed question.
      const before = (await statesOf(page)).length;
      const question = 'What will the weather be tomorrow?';
      const typedListening = listenForSpeech(page, 12_000);
      await typeMessage(page, question);
      const typedAnswer = await untilEntry(
        page,
        'the answer to the typed question',
        (entry) => entry.speaker === 'oracle' && entry.final && entry.text.includes(question),
        45_000,
      );
      assert.equal(typedAnswer.text, answerTo(question));
      assert.ok(
        local!.requests.some((r) => r.kind === 'chat' && r.messages.at(-1)?.content === question),
        'the typed question reached the model',
      );
      const typedSound = await typedListening;
      assert.ok(typedSound.speechMs >= 1000, `the typed question's answer is heard (${typedSound.speechMs} ms)`);
      await eventually(
        'thinking → speaking → listening for the typed question',
        async () => inOrder((await statesOf(page)).slice(before), ['thinking', 'speaking', 'listening']),
        30_000,
      );
      // The README's picture (docs/captions.png is a copy of it).
      await e.screenshot(page, 'openai-captions');

      await page.locator('oracle-call').getByRole('button', { name: 'Hang up' }).click();
      await waitForPhase(page, 'ended', 15_000);

      // Even at debug level (the test agent's), what was said stays out of the agent's log.
      const agentLog = e.agent!.output.join('\n');
      assert.match(agentLog, /redacted/, 'the framework did try to log conversation text, and it was dropped');
      for (const words of ['Hello oracle', 'clearly today', 'weather be tomorrow']) assert.ok(!agentLog.includes(words), `"${words}" is in the agent's log`);
    });

    it('a pipeline that cannot hear (no realtime endpoint) ends the call saying so, instead of a silent oracle', async () => {
      const e = e2e();
      await e.agent?.stop();
      const agent = await startAgent(e.stack, { ORACLE_BRAIN: 'openai', OPENAI_BASE_URL: local!.baseUrl, OPENAI_STT_REALTIME: 'true' });
      e.agent = agent;
      // The agent leaves as soon as its voice session fails, so the call may be in-call for less than
      // one look at the element: its phases are read from the events it fired.
      const { page } = await startCall(e, {}, 'ended');
      const phases = await phasesOf(page);
      assert.ok(inOrder(phases, ['connecting', 'in-call', 'ended']), `the call reached the oracle before it ended (phases: ${phases.join(', ')})`);
      const status = await page.locator('oracle-call').locator('[part="status-text"]').textContent();
      assert.equal(status?.trim(), 'The oracle cannot hear you right now');
      await e.screenshot(page, 'openai-cannot-hear');
      assert.match(agent.output.join('\n'), /the voice session failed/);
    });
  });
});
