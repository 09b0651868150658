import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { checkModels } from '../../agent/model-check.ts';
import type { OpenAiSettings } from '../../agent/config.ts';

const settings = (baseUrl: string): OpenAiSettings => ({
  baseUrl,
  llmModel: 'llm-a',
  sttModel: 'stt-a',
  ttsModel: 'tts-a',
  ttsVoice: 'alloy',
  sttRealtime: false,
  instructions: 'x',
});

describe('the model settings checked against GET /v1/models', () => {
  let base = '';
  let models: unknown = { data: [{ id: 'llm-a' }, { id: 'stt-a' }, { id: 'tts-a' }] };
  let status = 200;
  const server = createServer((request, response) => {
    if (request.url !== '/v1/models') return void response.writeHead(404).end();
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(models));
  });
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  after(() => server.close());

  it('finds every model', async () => {
    assert.deepEqual(await checkModels(settings(base)), { kind: 'ok', models: ['stt-a', 'llm-a', 'tts-a'] });
  });

  it('names each missing model by its variable', async () => {
    models = { data: [{ id: 'llm-a' }] };
    const check = await checkModels(settings(base));
    assert.equal(check.kind, 'missing');
    assert.deepEqual(check.kind === 'missing' && check.missing, ['OPENAI_STT_MODEL=stt-a', 'OPENAI_TTS_MODEL=tts-a']);
  });

  it('leaves a server without the list unchecked, saying why', async () => {
    status = 404;
    const check = await checkModels(settings(base));
    assert.equal(check.kind, 'unchecked');
    assert.match(check.kind === 'unchecked' ? check.why : '', /HTTP 404/);
    const unreachable = await checkModels(settings('http://127.0.0.1:9/v1'), 2000);
    assert.equal(unreachable.kind, 'unchecked');
  });
});
