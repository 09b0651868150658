import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { currentCallState, makeCallEdit } from '../../protocol/index.ts';
import { editEvent, matrixEvent, newCallContent } from '../fixtures/call-events.ts';

const USER = '@alice:localhost';
const ORACLE = '@oracle:localhost';
const STRANGER = '@mallory:localhost';
const T0 = 1_800_000_000_000;

function setup() {
  const content = newCallContent();
  const original = matrixEvent(USER, content, T0);
  return { content, original };
}

describe('currentCallState', () => {
  it('is the original event when there are no edits', () => {
    const { content, original } = setup();
    const state = currentCallState(original, []);
    assert.equal(state.status, 'pending');
    assert.deepEqual(state.content, content);
    assert.equal(state.lastEditEventId, undefined);
  });

  it('applies edits from the sender and the oracle, newest last', () => {
    const { content, original } = setup();
    const active = editEvent(ORACLE, original, content, { callStatus: 'active', callId: 'cid' }, T0 + 10);
    const ended = editEvent(
      USER,
      original,
      { ...content, callStatus: 'active', callId: 'cid' },
      { callStatus: 'ended', callEndedAt: new Date(T0 + 20).toISOString() },
      T0 + 20,
    );
    const state = currentCallState(original, [ended, active], { editors: [ORACLE] });
    assert.equal(state.status, 'ended');
    assert.equal(state.lastEditEventId, ended.event_id);
    assert.equal(state.content.callId, 'cid');
    assert.equal(state.content.callEndedAt, new Date(T0 + 20).toISOString());
    assert.deepEqual(state.ignored, []);
  });

  it('ignores an edit from a stranger, even the newest', () => {
    const { content, original } = setup();
    const active = editEvent(ORACLE, original, content, { callStatus: 'active' }, T0 + 10);
    const forged = editEvent(STRANGER, original, content, { callStatus: 'ended' }, T0 + 20);
    const state = currentCallState(original, [active, forged], { editors: [ORACLE] });
    assert.equal(state.status, 'active');
    assert.deepEqual(
      state.ignored.map((i) => i.eventId),
      [forged.event_id],
    );
    assert.match(state.ignored[0]!.reason, /sender/);
  });

  it('ignores the oracle account when it is not named as an editor', () => {
    const { content, original } = setup();
    const active = editEvent(ORACLE, original, content, { callStatus: 'active' }, T0 + 10);
    assert.equal(currentCallState(original, [active]).status, 'pending');
  });

  it('ignores edits that change an immutable field (a swapped key, another room)', () => {
    const { content, original } = setup();
    const swapped = matrixEvent(
      USER,
      makeCallEdit(original.event_id, { ...content, encryptionKey: newCallContent().encryptionKey }, { callStatus: 'active' }),
      T0 + 10,
    );
    const moved = matrixEvent(USER, makeCallEdit(original.event_id, { ...content, roomId: 'another-room' }, { callStatus: 'active' }), T0 + 11);
    const state = currentCallState(original, [swapped, moved]);
    assert.equal(state.status, 'pending');
    assert.deepEqual(
      state.ignored.map((i) => i.reason),
      ['encryptionKey may not change', 'roomId may not change'],
    );
  });

  it('ignores edits of another event, of another type, or without m.replace', () => {
    const { content, original } = setup();
    const other = matrixEvent(USER, makeCallEdit('$someOtherEvent', content, { callStatus: 'ended' }), T0 + 10);
    const wrongType = matrixEvent(USER, makeCallEdit(original.event_id, content, { callStatus: 'ended' }), T0 + 11, 'm.room.message');
    const noRelation = matrixEvent(USER, { 'm.new_content': { ...content, callStatus: 'ended' } }, T0 + 12);
    const garbage = matrixEvent(USER, 'not an object', T0 + 13);
    const state = currentCallState(original, [other, wrongType, noRelation, garbage]);
    assert.equal(state.status, 'pending');
    assert.equal(state.ignored.length, 4);
  });

  it('ignores invalid new content', () => {
    const { content, original } = setup();
    const edit = makeCallEdit(original.event_id, content, { callStatus: 'active' });
    const bad = matrixEvent(USER, { ...edit, 'm.new_content': { ...edit['m.new_content'], callStatus: 'ringing' } }, T0 + 10);
    assert.equal(currentCallState(original, [bad]).status, 'pending');
  });

  it('keeps an ended call ended: a later "active" edit does not count', () => {
    const { content, original } = setup();
    const ended = editEvent(USER, original, content, { callStatus: 'ended' }, T0 + 10);
    const revived = editEvent(USER, original, { ...content, callStatus: 'ended' }, { callStatus: 'active' }, T0 + 20);
    const state = currentCallState(original, [revived, ended]);
    assert.equal(state.status, 'ended');
    assert.equal(state.lastEditEventId, ended.event_id);
    assert.match(state.ignored[0]!.reason, /ended to active/);
  });

  it('orders edits with the same timestamp by event ID', () => {
    const { content, original } = setup();
    const a = editEvent(USER, original, content, { callStatus: 'active' }, T0 + 10);
    const b = editEvent(USER, original, { ...content, callStatus: 'active' }, { callStatus: 'ended' }, T0 + 10);
    assert.ok(a.event_id < b.event_id);
    assert.equal(currentCallState(original, [b, a]).status, 'ended');
  });

  it('refuses an original event whose content is not a new call', () => {
    const { content } = setup();
    assert.throws(() => currentCallState(matrixEvent(USER, { ...content, callStatus: 'active' }), []), { reason: 'invalid_call_content' });
  });
});
