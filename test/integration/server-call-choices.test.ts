import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { AGENT_API_KEY, announceCall, syncCall } from '../../scripts/stack/stack.ts';
import type { TestUser } from '../../scripts/stack/stack.ts';
import { assertRefused, useStack } from '../helpers/use-stack.ts';

type User = TestUser & { roomId: string };

describe('voice and language per call (real Synapse, LiveKit, HTTP)', () => {
  const stack = useStack({ ORACLE_VOICES: 'en-us, en-gb', ORACLE_LANGUAGES: 'en,pt-BR' });
  let erin: User;

  before(async () => {
    erin = await stack().newUser('erin');
  });

  it('GET /oracle announces the choices', async () => {
    const response = await stack().api('GET', '/oracle');
    assert.equal(response.status, 200);
    assert.deepEqual(response.body.voices, ['en-us', 'en-gb']);
    assert.deepEqual(response.body.languages, ['en', 'pt-BR']);
  });

  it('admits a call with an offered voice and language, and gives them to the agent with the key', async () => {
    const s = stack();
    const call = await announceCall(s, erin, { agentVoice: 'en-gb', language: 'pt-BR' });
    const synced = await syncCall(s, erin, call);
    assert.equal(synced.status, 200, JSON.stringify(synced.body));
    assert.equal(synced.body.call.agentVoice, 'en-gb');
    const key = await s.api('GET', `/calls/${encodeURIComponent(call.callId)}/key`, { apiKey: AGENT_API_KEY });
    assert.equal(key.status, 200);
    assert.equal(key.body.agentVoice, 'en-gb');
    assert.equal(key.body.language, 'pt-BR');
  });

  it('a call without a choice carries none', async () => {
    const s = stack();
    const call = await announceCall(s, erin);
    assert.equal((await syncCall(s, erin, call)).status, 200);
    const key = await s.api('GET', `/calls/${encodeURIComponent(call.callId)}/key`, { apiKey: AGENT_API_KEY });
    assert.equal('agentVoice' in key.body || 'language' in key.body, false);
  });

  it('refuses a voice or a language the oracle does not offer, storing nothing', async () => {
    const s = stack();
    const robot = await announceCall(s, erin, { agentVoice: 'robot' });
    await assertRefused(s, () => syncCall(s, erin, robot), 422, 'voice_not_offered');
    const klingon = await announceCall(s, erin, { language: 'tlh' });
    await assertRefused(s, () => syncCall(s, erin, klingon), 422, 'language_not_offered');
  });
});
