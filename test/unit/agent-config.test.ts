import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import * as silero from '@livekit/agents-plugin-silero';
import { createBrain } from '../../agent/brain.ts';
import { EchoBrain } from '../../agent/brains/echo.ts';
import { OpenAiBrain } from '../../agent/brains/openai.ts';
import { AgentConfigError, CALLS_PER_CORE, MAX_DEFAULT_IDLE_PROCESSES, loadAgentConfig } from '../../agent/config.ts';
import { generateOracleKeyPair } from '../../protocol/index.ts';
import { tempDir } from '../../scripts/stack/temp-dir.ts';

const oracle = generateOracleKeyPair();
const base = {
  LIVEKIT_URL: 'ws://127.0.0.1:7880',
  LIVEKIT_API_KEY: 'APIkey',
  LIVEKIT_API_SECRET: 'secret',
  ORACLE_BACKEND_URL: 'http://127.0.0.1:8787/',
  AGENT_API_KEY: 'a'.repeat(8) + 'b'.repeat(8) + 'c'.repeat(8) + 'd'.repeat(8),
  ORACLE_PRIVATE_KEY: oracle.privateKey,
};

function refused(env: Record<string, string | undefined>, variable: RegExp): void {
  assert.throws(
    () => loadAgentConfig(env),
    (error: unknown) => error instanceof AgentConfigError && variable.test(error.message),
  );
}

describe('agent configuration', () => {
  it('reads a valid environment, with defaults', () => {
    const config = loadAgentConfig(base);
    assert.equal(config.backendUrl, 'http://127.0.0.1:8787');
    assert.equal(config.agentName, 'oracle');
    assert.equal(config.brain, 'echo');
    assert.equal(config.oraclePublicKey, oracle.publicKey);
    assert.equal(config.keyFetchAttempts, 4);
    assert.equal(config.maxCalls, CALLS_PER_CORE * availableParallelism(), 'two calls per core unless set');
    assert.equal(config.idleProcesses, Math.min(config.maxCalls, MAX_DEFAULT_IDLE_PROCESSES), 'a warm job process per call slot, up to 4');
    assert.equal(loadAgentConfig({ ...base, AGENT_MAX_CALLS: '2' }).idleProcesses, 2);
    assert.equal(config.httpPort, 8081);
  });

  it('reads the worker limits, and refuses ones that make no sense', () => {
    const config = loadAgentConfig({ ...base, AGENT_MAX_CALLS: '12', AGENT_HTTP_PORT: '9000', AGENT_IDLE_PROCESSES: '2' });
    assert.deepEqual([config.maxCalls, config.httpPort, config.idleProcesses], [12, 9000, 2]);
    refused({ ...base, AGENT_MAX_CALLS: '0' }, /AGENT_MAX_CALLS:/);
    refused({ ...base, AGENT_MAX_CALLS: 'many' }, /AGENT_MAX_CALLS:/);
    refused({ ...base, AGENT_MAX_CALLS: '2.5' }, /AGENT_MAX_CALLS:/);
    refused({ ...base, AGENT_HTTP_PORT: '70000' }, /AGENT_HTTP_PORT:/);
    refused({ ...base, AGENT_IDLE_PROCESSES: '0' }, /AGENT_IDLE_PROCESSES:/);
  });

  it('reads the private key from a file', () => {
    const file = path.join(tempDir('agent-'), 'oracle.key');
    writeFileSync(file, `${oracle.privateKey}\n`);
    const { ORACLE_PRIVATE_KEY: _inline, ...env } = base;
    assert.equal(loadAgentConfig({ ...env, ORACLE_PRIVATE_KEY_FILE: file }).oraclePrivateKey, oracle.privateKey);
  });

  it('stops on a missing, malformed or doubly given private key, naming the variable and never printing it', () => {
    const { ORACLE_PRIVATE_KEY: _key, ...withoutKey } = base;
    refused(withoutKey, /ORACLE_PRIVATE_KEY or ORACLE_PRIVATE_KEY_FILE: required/);
    refused({ ...base, ORACLE_PRIVATE_KEY: 'zz'.repeat(32) }, /ORACLE_PRIVATE_KEY: not an oracle private key/);
    refused({ ...base, ORACLE_PRIVATE_KEY: '00'.repeat(32) }, /ORACLE_PRIVATE_KEY: not an oracle private key/);
    refused({ ...base, ORACLE_PRIVATE_KEY_FILE: '/nonexistent/key' }, /set one, not both/);
    refused({ ...withoutKey, ORACLE_PRIVATE_KEY_FILE: '/nonexistent/key' }, /ORACLE_PRIVATE_KEY_FILE: cannot read/);
    try {
      loadAgentConfig({ ...base, ORACLE_PRIVATE_KEY: `${oracle.privateKey.slice(0, 63)}x` });
      assert.fail('accepted a malformed key');
    } catch (error) {
      assert.equal((error as Error).message.includes(oracle.privateKey.slice(0, 20)), false);
    }
  });

  it('stops on missing LiveKit, backend or API key settings', () => {
    refused({ ...base, LIVEKIT_URL: undefined }, /LIVEKIT_URL: required/);
    refused({ ...base, LIVEKIT_URL: 'http://x' }, /LIVEKIT_URL: expected a ws: or wss: URL/);
    refused({ ...base, ORACLE_BACKEND_URL: undefined }, /ORACLE_BACKEND_URL: required/);
    refused({ ...base, AGENT_API_KEY: 'short' }, /AGENT_API_KEY/);
    refused({ ...base, ORACLE_BRAIN: 'openai' }, /OPENAI_BASE_URL/);
    refused({ ...base, AGENT_IDLE_PROCESSES: '0' }, /AGENT_IDLE_PROCESSES/);
  });
});

describe('the brains', () => {
  it('builds the echo brain by default, and an OpenAI-compatible pipeline pointed at the configured server', async () => {
    const vad = await silero.VAD.load();
    assert.ok((await createBrain(loadAgentConfig(base), { vad })) instanceof EchoBrain);
    const config = loadAgentConfig({
      ...base,
      ORACLE_BRAIN: 'openai',
      OPENAI_BASE_URL: 'http://127.0.0.1:8000/v1',
      OPENAI_LLM_MODEL: 'local-llm',
      OPENAI_STT_MODEL: 'local-stt',
      OPENAI_TTS_MODEL: 'local-tts',
    });
    const brain = await createBrain(config, { vad });
    assert.ok(brain instanceof OpenAiBrain);
    assert.equal(brain.llm.model, 'local-llm');
    assert.equal(brain.stt.model, 'local-stt');
    assert.equal(brain.tts.model, 'local-tts');
    for (const part of [brain.llm, brain.stt, brain.tts]) assert.equal(part.provider, '127.0.0.1:8000');
    // Plain HTTP transcription by default (POST /v1/audio/transcriptions), the realtime WebSocket on request.
    assert.equal(config.openai.sttRealtime, false);
    assert.equal(brain.stt.capabilities.streaming, false);
    const realtime = await createBrain(
      loadAgentConfig({ ...base, ORACLE_BRAIN: 'openai', OPENAI_BASE_URL: 'http://127.0.0.1:8000/v1', OPENAI_STT_REALTIME: 'true' }),
      { vad },
    );
    assert.equal((realtime as OpenAiBrain).stt.capabilities.streaming, true);
    assert.throws(() => loadAgentConfig({ ...base, OPENAI_STT_REALTIME: 'yes' }), /OPENAI_STT_REALTIME: expected true or false/);
    assert.equal(loadAgentConfig(base).logConversation, false);
  });
});
