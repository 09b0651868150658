import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { CALL_EVENT_TYPE, currentCallState, formatCallId, makeCallEdit } from '../../protocol/index.ts';
import { registerUser } from '../../scripts/services/matrix-admin.ts';
import { newCallContent } from '../fixtures/call-events.ts';
import { MatrixRestClient } from '../../scripts/stack/matrix-client.ts';
import { useSynapse } from '../helpers/services.ts';

describe('call events on a real Synapse', () => {
  const synapse = useSynapse();
  let user: MatrixRestClient;
  let oracle: MatrixRestClient;
  let stranger: MatrixRestClient;
  let roomId: string;

  before(async () => {
    const { baseUrl, registrationSharedSecret } = synapse();
    const account = async (name: string) => {
      const created = await registerUser(baseUrl, registrationSharedSecret, name);
      return new MatrixRestClient(baseUrl, created.userId, created.accessToken);
    };
    [user, oracle, stranger] = await Promise.all([account('alice'), account('oracle'), account('mallory')]);
    roomId = await user.createRoom({ name: 'alice ↔ oracle', invite: [oracle.userId, stranger.userId] });
    await Promise.all([oracle.joinRoom(roomId), stranger.joinRoom(roomId)]);
  });

  it("reads back the call, applying the oracle's edit and ignoring a stranger's", async () => {
    const content = newCallContent();
    const eventId = await user.sendEvent(roomId, CALL_EVENT_TYPE, content);
    const callId = formatCallId({ eventId, roomName: content.roomId });

    const activeEdit = makeCallEdit(eventId, content, { callStatus: 'active', callId });
    const activeId = await oracle.sendEvent(roomId, CALL_EVENT_TYPE, activeEdit);
    const forgedId = await stranger.sendEvent(
      roomId,
      CALL_EVENT_TYPE,
      makeCallEdit(eventId, activeEdit['m.new_content'], { callStatus: 'ended', callEndedAt: new Date().toISOString() }),
    );

    const original = await oracle.getEvent(roomId, eventId);
    assert.equal(original.type, CALL_EVENT_TYPE);
    assert.equal(original.sender, user.userId);
    const edits = await oracle.getEdits(roomId, eventId, CALL_EVENT_TYPE);
    assert.deepEqual(new Set(edits.map((e) => e.event_id)), new Set([activeId, forgedId]));

    const state = currentCallState(original, edits, { editors: [oracle.userId] });
    assert.equal(state.status, 'active');
    assert.equal(state.lastEditEventId, activeId);
    assert.equal(state.content.callId, callId);
    assert.equal(state.content.encryptionKey, content.encryptionKey);
    assert.deepEqual(
      state.ignored.map((i) => i.eventId),
      [forgedId],
    );
  });

  it("ends the call with the user's own edit, and the end sticks", async () => {
    const content = newCallContent({ callType: 'audio' });
    const eventId = await user.sendEvent(roomId, CALL_EVENT_TYPE, content);
    const callId = formatCallId({ eventId, roomName: content.roomId });
    const active = makeCallEdit(eventId, content, { callStatus: 'active', callId });
    await oracle.sendEvent(roomId, CALL_EVENT_TYPE, active);
    const endedAt = new Date().toISOString();
    const ended = makeCallEdit(eventId, active['m.new_content'], { callStatus: 'ended', callEndedAt: endedAt });
    const endedId = await user.sendEvent(roomId, CALL_EVENT_TYPE, ended);
    // A later attempt to revive it, even from an allowed sender, does not count.
    await user.sendEvent(roomId, CALL_EVENT_TYPE, makeCallEdit(eventId, ended['m.new_content'], { callStatus: 'active' }));

    const state = currentCallState(await oracle.getEvent(roomId, eventId), await oracle.getEdits(roomId, eventId, CALL_EVENT_TYPE), {
      editors: [oracle.userId],
    });
    assert.equal(state.status, 'ended');
    assert.equal(state.lastEditEventId, endedId);
    assert.equal(state.content.callEndedAt, endedAt);
    assert.equal(state.ignored.length, 1);
  });

  it('refuses a call event whose content is not a valid new call', async () => {
    const eventId = await user.sendEvent(roomId, CALL_EVENT_TYPE, { ...newCallContent(), callStatus: 'active' });
    await assert.rejects(async () => currentCallState(await oracle.getEvent(roomId, eventId), []), { reason: 'invalid_call_content' });
  });

  it('answers OpenID tokens at the federation userinfo endpoint', async () => {
    const token = await user.openIdToken();
    assert.equal(token.matrix_server_name, synapse().serverName);
    const response = await fetch(`${synapse().baseUrl}/_matrix/federation/v1/openid/userinfo?access_token=${encodeURIComponent(token.access_token)}`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { sub: user.userId });
  });
});
