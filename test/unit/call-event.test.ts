import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeCallEdit, parseCallEditContent, parseCallEventContent } from '../../protocol/index.ts';
import { newCallContent } from '../fixtures/call-events.ts';

function refuses(content: unknown, field: string): void {
  assert.throws(
    () => parseCallEventContent(content),
    (error: Error & { reason?: string }) => error.reason === 'invalid_call_content' && error.message.includes(field),
    `expected a complaint about ${field}`,
  );
}

describe('call event content', () => {
  it('takes an optional voice and language, and keeps them in every edit', () => {
    const content = parseCallEventContent({ ...newCallContent(), agentVoice: 'en-gb', language: 'pt-BR' });
    assert.equal(content.agentVoice, 'en-gb');
    assert.equal(content.language, 'pt-BR');
    const edit = makeCallEdit('$event', content, { callStatus: 'active', callId: 'x' });
    assert.equal(edit['m.new_content'].agentVoice, 'en-gb');
    assert.equal(edit['m.new_content'].language, 'pt-BR');
    assert.equal('agentVoice' in makeCallEdit('$event', parseCallEventContent(newCallContent()), { callStatus: 'active' })['m.new_content'], false);
    refuses({ ...newCallContent(), language: 'English' }, 'language');
    refuses({ ...newCallContent(), agentVoice: 'a voice with spaces' }, 'agentVoice');
  });

  it('accepts a valid new call and keeps its fields', () => {
    const content = newCallContent();
    assert.deepEqual(parseCallEventContent(content), content);
  });

  it('accepts both call types and timestamps with an offset', () => {
    assert.equal(parseCallEventContent(newCallContent({ callType: 'audio' })).callType, 'audio');
    const content = { ...newCallContent(), callStartedAt: '2026-01-01T10:00:00.000+02:00' };
    assert.equal(parseCallEventContent(content).callStartedAt, '2026-01-01T10:00:00.000+02:00');
  });

  it('drops fields it does not know instead of passing them on', () => {
    const parsed = parseCallEventContent({ ...newCallContent(), extra: 'x' }) as Record<string, unknown>;
    assert.equal('extra' in parsed, false);
  });

  it('names each bad field', () => {
    const good = newCallContent();
    refuses(null, 'content');
    refuses('text', 'content');
    refuses({ ...good, callType: 'screen' }, 'callType');
    refuses({ ...good, callStatus: 'active' }, 'callStatus');
    refuses({ ...good, callStartedAt: 'yesterday' }, 'callStartedAt');
    refuses({ ...good, callStartedAt: 1_700_000_000_000 }, 'callStartedAt');
    refuses({ ...good, encryptionKey: '' }, 'encryptionKey');
    refuses({ ...good, encryptionKey: '0OIl' }, 'encryptionKey');
    refuses({ ...good, encryptionKey: 'z'.repeat(2000) }, 'encryptionKey');
    refuses({ ...good, sessionId: '' }, 'sessionId');
    refuses({ ...good, roomId: 'bad room' }, 'roomId');
    refuses({ ...good, userDid: 'user' }, 'userDid');
    refuses({ ...good, oracleDid: 'did:' }, 'oracleDid');
    const { roomId: _omitted, ...missing } = good;
    refuses(missing, 'roomId');
  });
});

describe('call edit', () => {
  it('carries the whole new content, the relation, and a fallback at the top level', () => {
    const content = newCallContent();
    const edit = makeCallEdit('$original', content, { callStatus: 'ended', callId: '$original@room', callEndedAt: '2026-01-01T10:30:00.000Z' });
    assert.deepEqual(edit['m.relates_to'], { rel_type: 'm.replace', event_id: '$original' });
    assert.equal(edit['m.new_content'].callStatus, 'ended');
    assert.equal(edit['m.new_content'].callEndedAt, '2026-01-01T10:30:00.000Z');
    assert.equal(edit['m.new_content'].encryptionKey, content.encryptionKey);
    assert.equal(edit.callStatus, 'ended');
    assert.deepEqual(parseCallEditContent(edit)['m.new_content'], edit['m.new_content']);
  });

  it('refuses an edit without m.replace or with invalid new content', () => {
    const content = newCallContent();
    const edit = makeCallEdit('$original', content, { callStatus: 'active' });
    assert.throws(() => parseCallEditContent({ ...edit, 'm.relates_to': { rel_type: 'm.reference', event_id: '$x' } }), { reason: 'invalid_call_content' });
    assert.throws(() => parseCallEditContent({ ...edit, 'm.new_content': { ...edit['m.new_content'], callStatus: 'gone' } }), /callStatus/);
  });
});
