/**
 * The dispatch's metadata (`protocol/api/dispatch-metadata.ts`): the callId and the call's key answer
 * go to the agent through LiveKit and come back as they were; a bare callId (a backend of before this
 * format) is read as such; anything else is refused naming the field. And the agent's check that the
 * backend's key answer is the dispatch's call (`assertSameCall`).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HandoffError, assertSameCall } from '../../agent/key-handoff.ts';
import { encodeDispatchMetadata, readDispatchMetadata } from '../../protocol/api/dispatch-metadata.ts';
import type { KeyAnswer } from '../../protocol/api/index.ts';
import { encryptCallKey, generateCallKey, generateOracleKeyPair } from '../../protocol/index.ts';

const CALL_ID = `$${'a'.repeat(43)}@call-room-name-1`;
const answer: KeyAnswer = {
  encryptionKey: encryptCallKey(generateCallKey(), generateOracleKeyPair().publicKey),
  userId: '@alice:example.org',
  userDid: 'did:matrix:alice',
  oracleDid: 'did:ixo:oracle',
  callType: 'video',
  agentVoice: 'alloy',
  language: 'de',
};

describe('the dispatch metadata', () => {
  it('carries the callId and the key answer there and back', () => {
    const metadata = encodeDispatchMetadata(CALL_ID, answer);
    assert.deepEqual(readDispatchMetadata(metadata), { callId: CALL_ID, answer });
    assert.equal(metadata.includes(answer.encryptionKey), true, 'the key as encrypted to the oracle, as the event carries it');
  });

  it('reads a bare callId as a dispatch without the key answer', () => {
    assert.deepEqual(readDispatchMetadata(CALL_ID), { callId: CALL_ID });
  });

  it('refuses JSON that is broken or does not match, naming the field', () => {
    assert.throws(() => readDispatchMetadata('{"callId":'), /not valid JSON/);
    assert.throws(() => readDispatchMetadata(JSON.stringify({ callId: CALL_ID, ...answer, encryptionKey: undefined })), /"encryptionKey"/);
    assert.throws(() => readDispatchMetadata(JSON.stringify({ ...answer })), /"callId"/);
    assert.throws(() => readDispatchMetadata(JSON.stringify({ callId: CALL_ID, ...answer, callType: 'fax' })), /"callType"/);
  });

  it("the backend's answer must be the dispatch's call", () => {
    assert.doesNotThrow(() => assertSameCall(answer, { ...answer }));
    for (const field of ['encryptionKey', 'userId', 'callType', 'oracleDid'] as const) {
      const other = { ...answer, [field]: field === 'callType' ? 'audio' : `${answer[field]}x` } as KeyAnswer;
      const failure = (() => {
        try {
          assertSameCall(answer, other);
        } catch (error) {
          return error;
        }
        return undefined;
      })();
      assert.ok(failure instanceof HandoffError, field);
      assert.equal(failure.reason, 'backend_error');
      assert.match(failure.message, new RegExp(field));
    }
  });
});
