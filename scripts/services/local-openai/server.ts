/**
 * A local OpenAI-compatible server, for the tests and for `npm start` without a real one, so a
 * newcomer hears a whole conversation offline:
 * - `POST /v1/audio/transcriptions`: the known text of an utterance it was given (the test fixture's
 *   by default), recognised by the audio's content (utterance-match.ts), never by what the client says;
 * - `POST /v1/chat/completions` (streamed or not): a deterministic answer quoting the last question;
 * - `POST /v1/audio/speech`: real speech from Debian's espeak-ng, as raw 24 kHz PCM (`pcm`, what the
 *   LiveKit OpenAI plugin asks for) or WAV;
 * - `GET /v1/models`: the models it answers for.
 * It records what it was sent, so tests can assert what the agent sent.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { PROJECT_ROOT } from '../paths.ts';
import { MATCH_THRESHOLD, envelope, similarity, trimToSpeech } from './utterance-match.ts';
import { encodeWav, parseWav, rawPcm, resample } from './wav.ts';

export const FIXTURE_UTTERANCE = {
  wav: path.join(PROJECT_ROOT, 'test/fixtures/audio/utterance-16k.wav'),
  text: 'Hello oracle, can you hear me clearly today?',
};

/** The agent's default model names, so the demo needs no model settings. */
export const LOCAL_MODELS = { stt: 'whisper-1', llm: 'gpt-4o-mini', tts: 'tts-1' } as const;

const SPEECH_SAMPLE_RATE = 24_000;

export interface KnownUtterance {
  readonly wav: string;
  readonly text: string;
}

export type Recorded =
  | {
      readonly kind: 'transcription';
      readonly model: string;
      readonly language?: string;
      readonly audioMs: number;
      readonly text: string;
      readonly similarity: number;
    }
  | {
      readonly kind: 'chat';
      readonly model: string;
      readonly stream: boolean;
      readonly messages: readonly { role: string; content: string }[];
      readonly answer: string;
    }
  | { readonly kind: 'speech'; readonly model: string; readonly voice: string; readonly input: string; readonly format: string; readonly audioMs: number };

export interface LocalOpenAiServer {
  /** The base URL the OpenAI clients take (`…/v1`). */
  readonly baseUrl: string;
  readonly requests: readonly Recorded[];
  close(): Promise<void>;
}

export interface LocalOpenAiOptions {
  readonly utterances?: readonly KnownUtterance[];
  readonly models?: readonly string[];
  readonly port?: number;
  readonly espeak?: string;
}

/** The answer to a question: deterministic, and quoting it, so a test can find it in a transcript. */
export function answerTo(question: string): string {
  return `You asked: "${question.trim()}". The oracle says: yes, clearly.`;
}

/** A voice name espeak-ng knows (OpenAI's names, such as `alloy`, are not; they read as US English). */
function espeakVoice(voice: string): string {
  return /^[a-z]{2,3}(-[a-z0-9]+)*$/i.test(voice) &&
    !['alloy', 'ash', 'ballad', 'coral', 'echo', 'fable', 'nova', 'onyx', 'sage', 'shimmer', 'verse'].includes(voice)
    ? voice
    : 'en-us';
}

function speak(espeak: string, text: string, voice: string): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    execFile(espeak, ['-v', voice, '-s', '160', '--stdout', text], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 }, (error, stdout) =>
      error ? reject(error) : resolve(new Uint8Array(stdout)),
    );
  });
}

async function body(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function json(response: ServerResponse, status: number, value: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((part) => (typeof part === 'object' && part && 'text' in part ? String(part.text) : '')).join('');
  return '';
}

export async function startLocalOpenAi(options: LocalOpenAiOptions = {}): Promise<LocalOpenAiServer> {
  const espeak = options.espeak ?? '/usr/bin/espeak-ng';
  const models = options.models ?? Object.values(LOCAL_MODELS);
  const known = (options.utterances ?? [FIXTURE_UTTERANCE]).map((utterance) => {
    const pcm = parseWav(new Uint8Array(readFileSync(utterance.wav)));
    const reference = trimToSpeech(envelope(pcm));
    return { text: utterance.text, reference };
  });
  const requests: Recorded[] = [];

  async function transcription(request: IncomingMessage, response: ServerResponse) {
    const form = await new Response(new Uint8Array(await body(request)), { headers: { 'content-type': request.headers['content-type'] ?? '' } }).formData();
    const file = form.get('file');
    if (!(file instanceof Blob)) return json(response, 400, { error: { message: 'file is required' } });
    const pcm = parseWav(new Uint8Array(await file.arrayBuffer()));
    const received = envelope(pcm);
    const speech = trimToSpeech(received);
    let best = { text: '', similarity: 0 };
    for (const utterance of known) {
      // Far longer or shorter speech is another utterance, whatever its shape.
      const ratio = speech.length / utterance.reference.length;
      if (ratio < 0.6 || ratio > 1.8) continue;
      const score = similarity(utterance.reference, received);
      if (score > best.similarity) best = { text: score >= MATCH_THRESHOLD ? utterance.text : '', similarity: score };
    }
    const language = form.get('language');
    requests.push({
      kind: 'transcription',
      model: String(form.get('model') ?? ''),
      ...(typeof language === 'string' && language ? { language } : {}),
      audioMs: Math.round((pcm.samples.length / pcm.sampleRate) * 1000),
      text: best.text,
      similarity: Math.round(best.similarity * 100) / 100,
    });
    json(response, 200, { text: best.text });
  }

  async function chat(request: IncomingMessage, response: ServerResponse) {
    const payload = JSON.parse((await body(request)).toString('utf8')) as { model?: string; stream?: boolean; messages?: { role: string; content: unknown }[] };
    const messages = (payload.messages ?? []).map((message) => ({ role: message.role, content: textOf(message.content) }));
    const question = [...messages].reverse().find((message) => message.role === 'user')?.content ?? '';
    const answer = answerTo(question);
    const model = payload.model ?? '';
    requests.push({ kind: 'chat', model, stream: payload.stream === true, messages, answer });
    const id = `chatcmpl-local-${requests.length}`;
    const created = Math.floor(Date.now() / 1000);
    if (!payload.stream) {
      return json(response, 200, {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [{ index: 0, message: { role: 'assistant', content: answer }, finish_reason: 'stop' }],
      });
    }
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const chunk = (delta: Record<string, unknown>, finish: string | null) =>
      response.write(
        `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`,
      );
    chunk({ role: 'assistant', content: '' }, null);
    // A few words per chunk, as a real model streams.
    for (const words of answer.match(/(\S+\s*){1,3}/g) ?? []) chunk({ content: words }, null);
    chunk({}, 'stop');
    response.end('data: [DONE]\n\n');
  }

  async function speech(request: IncomingMessage, response: ServerResponse) {
    const payload = JSON.parse((await body(request)).toString('utf8')) as { model?: string; input?: string; voice?: string; response_format?: string };
    const format = payload.response_format ?? 'mp3';
    if (format !== 'pcm' && format !== 'wav') {
      return json(response, 400, { error: { message: `response_format ${format} is not supported by the local server (pcm or wav)` } });
    }
    const voice = payload.voice ?? 'alloy';
    const pcm = resample(parseWav(await speak(espeak, payload.input ?? '', espeakVoice(voice))), SPEECH_SAMPLE_RATE);
    requests.push({
      kind: 'speech',
      model: payload.model ?? '',
      voice,
      input: payload.input ?? '',
      format,
      audioMs: Math.round((pcm.samples.length / pcm.sampleRate) * 1000),
    });
    const audio = format === 'pcm' ? rawPcm(pcm.samples) : encodeWav(pcm);
    response.writeHead(200, { 'content-type': format === 'pcm' ? 'audio/pcm' : 'audio/wav', 'content-length': audio.length }).end(audio);
  }

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://local');
    const route =
      request.method === 'GET' && url.pathname === '/v1/models'
        ? async () => json(response, 200, { object: 'list', data: models.map((id) => ({ id, object: 'model', created: 0, owned_by: 'oracle-call' })) })
        : request.method === 'POST' && url.pathname === '/v1/audio/transcriptions'
          ? () => transcription(request, response)
          : request.method === 'POST' && url.pathname === '/v1/chat/completions'
            ? () => chat(request, response)
            : request.method === 'POST' && url.pathname === '/v1/audio/speech'
              ? () => speech(request, response)
              : async () => json(response, 404, { error: { message: `no ${request.method} ${url.pathname} here` } });
    route().catch((error: Error) => {
      if (!response.headersSent) json(response, 500, { error: { message: error.message } });
      else response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
