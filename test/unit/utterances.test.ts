import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { initializeLogger } from '@livekit/agents';
import * as silero from '@livekit/agents-plugin-silero';
import { AudioFrame, dispose } from '@livekit/rtc-node';
import { AudioHistory, UtteranceCollector } from '../../agent/utterances.ts';
import { UTTERANCE_WAV, readWav } from '../../scripts/stack/participants.ts';

const RATE = 48_000;

/** The 16 kHz utterance at 48 kHz (each sample three times), between stretches of silence. */
function input(): { samples: Int16Array; speechStart: number; speechEnd: number } {
  const { samples } = readWav(UTTERANCE_WAV);
  const lead = RATE;
  const out = new Int16Array(lead + samples.length * 3 + 2 * RATE);
  for (let i = 0; i < samples.length; i += 1) out.fill(samples[i]!, lead + i * 3, lead + i * 3 + 3);
  let speechStart = -1;
  let speechEnd = -1;
  for (let i = 0; i < out.length; i += 1) {
    if (Math.abs(out[i]!) > 1000) {
      if (speechStart < 0) speechStart = i;
      speechEnd = i;
    }
  }
  return { samples: out, speechStart, speechEnd };
}

describe('AudioHistory', () => {
  it('returns any range it still keeps, across chunks, and forgets beyond its limit', () => {
    const history = new AudioHistory(10);
    for (let i = 0; i < 5; i += 1) history.push(Int16Array.from({ length: 4 }, (_, j) => i * 4 + j));
    assert.deepEqual([...history.range(14, 19)], [14, 15, 16, 17, 18]);
    assert.deepEqual([...history.range(0, 3)], [0, 0, 0], 'what is forgotten reads as silence');
  });
});

describe('UtteranceCollector (real Silero VAD)', () => {
  // The VAD resamples through LiveKit's native library, which keeps the process alive until disposed.
  after(() => dispose());

  it('yields the utterance exactly as it was heard, onset included', { timeout: 60_000 }, async () => {
    initializeLogger({ pretty: false, level: 'warn' });
    const vad = await silero.VAD.load();
    const collector = new UtteranceCollector(vad);
    const { samples, speechStart, speechEnd } = input();
    const feeding = (async () => {
      for (let i = 0; i + 480 <= samples.length; i += 480) {
        collector.push(new AudioFrame(samples.slice(i, i + 480), RATE, 1, 480));
        if (i % 4800 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    let utterance: Int16Array | undefined;
    for await (const heard of collector.utterances()) {
      assert.equal(heard.sampleRate, RATE);
      utterance = heard.samples;
      break;
    }
    await feeding;
    collector.close();
    assert.ok(utterance, 'an utterance was heard');
    // Where in the input does it sit? It must be an exact, contiguous copy of the input.
    const probe = utterance.findIndex((v) => Math.abs(v) > 1000);
    const at = samples.findIndex((v, i) => v === utterance![probe] && samples.subarray(i, i + 2000).every((w, j) => w === utterance![probe + j]));
    assert.ok(at >= 0, 'the utterance is a copy of the input');
    const start = at - probe;
    assert.deepEqual(utterance, samples.slice(start, start + utterance.length));
    assert.ok(
      start <= speechStart && start + utterance.length > speechEnd,
      `the whole speech is in it (input ${speechStart}-${speechEnd}, utterance ${start}-${start + utterance.length})`,
    );
  });
});
