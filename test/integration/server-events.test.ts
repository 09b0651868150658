import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Room } from '@livekit/rtc-node';
import { AccessToken } from 'livekit-server-sdk';
import { CALL_EVENT_TYPE, makeCallEdit } from '../../protocol/index.ts';
import { waitFor } from '../helpers/wait.ts';
import { announceCall, syncCall } from '../../scripts/stack/stack.ts';
import { assertRefused, useStack } from '../helpers/use-stack.ts';
import type { Stack, TestUser } from '../../scripts/stack/stack.ts';
import { closeRtc } from '../../scripts/stack/participants.ts';

type User = TestUser & { roomId: string };

async function activeCall(s: Stack, user: User) {
  const call = await announceCall(s, user);
  const response = await syncCall(s, user, call);
  assert.equal(response.status, 200, JSON.stringify(response.body));
  return { ...call, token: response.body.livekit.token as string };
}

async function signedWebhook(s: Stack, body: string, signWith = s.livekit.apiSecret): Promise<string> {
  const token = new AccessToken(s.livekit.apiKey, signWith);
  token.sha256 = createHash('sha256').update(body).digest('base64');
  return token.toJwt();
}

async function statusOf(s: Stack, callId: string) {
  return s.backend.store.get(callId);
}

describe('calls end from LiveKit webhooks and Matrix edits (real LiveKit, Synapse, HTTP)', () => {
  const stack = useStack();
  let alice: User;
  let mallory: User;
  const rooms: Room[] = [];

  before(async () => {
    [alice, mallory] = await Promise.all([stack().newUser('ivan'), stack().newUser('judy')]);
  });
  after(() => closeRtc(rooms));

  it('a signed room_finished webhook ends the call and the end reaches Matrix', async () => {
    const s = stack();
    const call = await activeCall(s, alice);
    const body = JSON.stringify({ event: 'room_finished', id: 'EV_test', createdAt: Math.floor(Date.now() / 1000), room: { name: call.content.roomId } });
    const response = await s.api('POST', '/livekit/webhook', {
      rawBody: body,
      headers: { 'content-type': 'application/webhook+json', authorization: await signedWebhook(s, body) },
    });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    const record = await statusOf(s, call.callId);
    assert.equal(record?.status, 'ended');
    assert.equal(record?.endReason, 'livekit');
    const edits = await s.oracle.getEdits(alice.roomId, call.eventId, CALL_EVENT_TYPE);
    assert.ok(edits.some((e) => (e.content as any)['m.new_content'].callStatus === 'ended'));
  });

  it('refuses unsigned, wrongly signed and tampered webhooks', async () => {
    const s = stack();
    const call = await activeCall(s, alice);
    const body = JSON.stringify({ event: 'room_finished', id: 'EV_x', room: { name: call.content.roomId } });
    const headers = { 'content-type': 'application/webhook+json' };
    await assertRefused(s, () => s.api('POST', '/livekit/webhook', { rawBody: body, headers }), 401, 'invalid_webhook');
    const forged = await signedWebhook(s, body, 'another-secret-another-secret-another');
    await assertRefused(s, () => s.api('POST', '/livekit/webhook', { rawBody: body, headers: { ...headers, authorization: forged } }), 401, 'invalid_webhook');
    const signedOther = await signedWebhook(s, body.replace('EV_x', 'EV_y'));
    await assertRefused(
      s,
      () => s.api('POST', '/livekit/webhook', { rawBody: body, headers: { ...headers, authorization: signedOther } }),
      401,
      'invalid_webhook',
    );
    assert.equal((await statusOf(s, call.callId))?.status, 'active');
  });

  it('the real LiveKit server reports the user leaving, and that ends the call', async () => {
    const s = stack();
    const call = await activeCall(s, alice);
    const room = new Room();
    rooms.push(room);
    await room.connect(s.livekit.url, call.token, { autoSubscribe: false, dynacast: false });
    assert.equal(room.localParticipant?.identity, alice.matrix.userId);
    await room.disconnect();
    const ended = await waitFor('the call to end', async () => {
      const record = await statusOf(s, call.callId);
      return record?.status === 'ended' ? record : undefined;
    });
    assert.equal(ended.endReason, 'user_left');
  });

  /** A signed `participant_left` webhook for the call's room. */
  async function participantLeft(s: Stack, call: { content: { roomId: string } }, id: string, participant: Record<string, string>) {
    const body = JSON.stringify({ event: 'participant_left', id, room: { name: call.content.roomId }, participant });
    const headers = { 'content-type': 'application/webhook+json', authorization: await signedWebhook(s, body) };
    return s.api('POST', '/livekit/webhook', { rawBody: body, headers });
  }

  it('the user leaving because LiveKit lost their connection is recorded as such; another participant leaving ends nothing', async () => {
    const s = stack();
    const call = await activeCall(s, alice);
    const left = (id: string, identity: string, disconnectReason: string) => participantLeft(s, call, id, { identity, disconnectReason });
    assert.equal((await left('EV_other_left', 'observer', 'CLIENT_INITIATED')).status, 200);
    assert.equal((await statusOf(s, call.callId))?.status, 'active');
    assert.equal((await left('EV_user_lost', alice.matrix.userId, 'CONNECTION_TIMEOUT')).status, 200);
    const record = await statusOf(s, call.callId);
    assert.equal(record?.status, 'ended');
    assert.equal(record?.endReason, 'user_left: connection_lost');
  });

  it('the oracle (an agent participant) gone from an open call ends it as oracle_left; gone from an ended call, nothing changes', async () => {
    const s = stack();
    const call = await activeCall(s, alice);
    const agentLeft = (id: string) => participantLeft(s, call, id, { identity: 'agent-AJ_worker_died', kind: 'AGENT', disconnectReason: 'CONNECTION_TIMEOUT' });
    assert.equal((await agentLeft('EV_agent_gone')).status, 200);
    const ended = await statusOf(s, call.callId);
    assert.equal(ended?.status, 'ended');
    assert.equal(ended?.endReason, 'oracle_left');
    // The end reaches Matrix, as every end does.
    const edits = await s.oracle.getEdits(alice.roomId, call.eventId, CALL_EVENT_TYPE);
    assert.ok(edits.some((e) => (e.content as any)['m.new_content'].callStatus === 'ended'));

    // The usual order: the person leaves first, then the oracle; the call keeps the person's reason.
    const second = await activeCall(s, alice);
    assert.equal((await participantLeft(s, second, 'EV_user_left_2', { identity: alice.matrix.userId, disconnectReason: 'CLIENT_INITIATED' })).status, 200);
    assert.equal(
      (await participantLeft(s, second, 'EV_agent_left_2', { identity: 'agent-AJ_normal', kind: 'AGENT', disconnectReason: 'CLIENT_INITIATED' })).status,
      200,
    );
    assert.equal((await statusOf(s, second.callId))?.endReason, 'user_left');
  });

  it("the user's own ended edit in Matrix ends the call; a stranger's does not", async () => {
    const s = stack();
    const call = await activeCall(s, alice);
    const active = { ...call.content, callStatus: 'active' as const, callId: call.callId };
    // A stranger who is a member of the same room edits the call to ended.
    await alice.matrix.request('POST', `/_matrix/client/v3/rooms/${encodeURIComponent(alice.roomId)}/invite`, { user_id: mallory.matrix.userId });
    await mallory.matrix.joinRoom(alice.roomId);
    await mallory.matrix.sendEvent(
      alice.roomId,
      CALL_EVENT_TYPE,
      makeCallEdit(call.eventId, active, { callStatus: 'ended', callEndedAt: new Date().toISOString() }),
    );
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal((await statusOf(s, call.callId))?.status, 'active', "a stranger's edit must not end the call");

    await alice.matrix.sendEvent(
      alice.roomId,
      CALL_EVENT_TYPE,
      makeCallEdit(call.eventId, active, { callStatus: 'ended', callEndedAt: new Date().toISOString() }),
    );
    const ended = await waitFor('the call to end', async () => {
      const record = await statusOf(s, call.callId);
      return record?.status === 'ended' ? record : undefined;
    });
    assert.equal(ended.endReason, 'user');
  });
});
