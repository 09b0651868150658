import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { FIXTURE_UTTERANCE, answerTo, startLocalOpenAi } from '../../scripts/services/local-openai/server.ts';
import type { LocalOpenAiServer } from '../../scripts/services/local-openai/server.ts';
import { encodeWav, parseWav, resample } from '../../scripts/services/local-openai/wav.ts';
import { MARKER_WAV } from '../../scripts/stack/page-probes.ts';

function wavFile(bytes: Uint8Array): File {
  return new File([new Uint8Array(bytes)], 'audio.wav', { type: 'audio/wav' });
}

/** The fixture as the agent would send it: 48 kHz, quieter, with silence around it and some noise. */
function throughACall(): Uint8Array {
  const pcm = resample(parseWav(new Uint8Array(readFileSync(MARKER_WAV))), 48_000);
  const samples = new Int16Array(pcm.samples.length + 24_000);
  let seed = 7;
  for (let i = 0; i < samples.length; i += 1) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const noise = (seed / 2 ** 31 - 0.5) * 200;
    samples[i] = Math.round((pcm.samples[i - 12_000] ?? 0) * 0.5 + noise);
  }
  return encodeWav({ sampleRate: 48_000, samples });
}

describe('the local OpenAI-compatible server', () => {
  let server: LocalOpenAiServer;
  before(async () => {
    server = await startLocalOpenAi();
  });
  const post = async (route: string, body: unknown) => {
    const init = body instanceof FormData ? { body } : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } };
    return fetch(`${server.baseUrl}${route}`, { method: 'POST', ...init });
  };
  const transcribe = async (file: File, fields: Record<string, string>) => {
    const form = new FormData();
    form.set('file', file);
    for (const [key, value] of Object.entries(fields)) form.set(key, value);
    return ((await (await post('/audio/transcriptions', form)).json()) as { text: string }).text;
  };
  const speak = async (fields: Record<string, string>) => post('/audio/speech', fields);
  after(() => server.close());

  it('lists its models', async () => {
    const models = (await (await fetch(`${server.baseUrl}/models`)).json()) as { data: { id: string }[] };
    assert.deepEqual(models.data.map((m) => m.id).sort(), ['gpt-4o-mini', 'tts-1', 'whisper-1']);
  });

  it('transcribes the fixture utterance by its content, even changed by the trip through a call', async () => {
    assert.equal(await transcribe(wavFile(throughACall()), { model: 'whisper-1', language: 'en' }), FIXTURE_UTTERANCE.text);
    const recorded = server.requests.at(-1);
    assert.equal(recorded?.kind, 'transcription');
    assert.ok(recorded.kind === 'transcription' && recorded.language === 'en' && recorded.audioMs > 5000);
  });

  it('does not trust the file name: other speech gets no transcript', async () => {
    const other = execFileSync('/usr/bin/espeak-ng', ['-v', 'en-us', '--stdout', 'The weather will be sunny and warm all week long in the valley']);
    assert.equal(await transcribe(new File([new Uint8Array(other)], 'utterance-16k.wav'), { model: 'whisper-1' }), '');
    const recorded = server.requests.at(-1);
    assert.ok(recorded?.kind === 'transcription' && recorded.similarity < 0.6, `similarity ${JSON.stringify(recorded)}`);
  });

  it('streams a deterministic answer quoting the question, and records the instructions', async () => {
    const response = await post('/chat/completions', {
      model: 'gpt-4o-mini',
      stream: true,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Is it raining?' },
      ],
    });
    assert.match(response.headers.get('content-type') ?? '', /text\/event-stream/);
    const events = (await response.text()).split('\n\n').filter((line) => line.startsWith('data: ') && !line.includes('[DONE]'));
    const chunks = events.length;
    const text = events.map((line) => (JSON.parse(line.slice(6)) as { choices: { delta: { content?: string } }[] }).choices[0]!.delta.content ?? '').join('');
    assert.equal(text, answerTo('Is it raining?'));
    assert.ok(chunks > 3, 'the answer arrives in several chunks');
    const recorded = server.requests.at(-1);
    assert.ok(recorded?.kind === 'chat' && recorded.stream);
    assert.deepEqual(recorded.messages[0], { role: 'system', content: 'Be brief.' });
  });

  it('speaks with espeak-ng as 24 kHz PCM, or WAV', async () => {
    const pcm = new Uint8Array(await (await speak({ model: 'tts-1', voice: 'alloy', input: 'Yes, clearly.', response_format: 'pcm' })).arrayBuffer());
    assert.ok(pcm.length > 24_000 * 2 * 0.5, `at least half a second of speech (${pcm.length} bytes)`);
    const samples = new Int16Array(pcm.buffer, pcm.byteOffset, pcm.length / 2);
    assert.ok(
      samples.some((s) => Math.abs(s) > 3000),
      'not silence',
    );
    const wav = parseWav(new Uint8Array(await (await speak({ model: 'tts-1', voice: 'en-gb', input: 'Yes.', response_format: 'wav' })).arrayBuffer()));
    assert.equal(wav.sampleRate, 24_000);
    const recorded = server.requests.at(-1);
    assert.ok(recorded?.kind === 'speech' && recorded.voice === 'en-gb' && recorded.format === 'wav');
    assert.equal((await speak({ model: 'tts-1', voice: 'alloy', input: 'x', response_format: 'mp3' })).status, 400);
  });
});
