/**
 * The worker's call limit (real agent worker, LiveKit, backend, Synapse):
 *
 * - one user trying to occupy the oracle: a burst of calls nobody joins, larger than the limit. The
 *   worker never runs more calls than its limit, the calls it could not take end within seconds
 *   (`oracle_busy`), the oracle leaves each call nobody joined (`no_show`), and another user's call
 *   then gets the oracle;
 * - the worker full with calls people are in: one call more reaches its person as busy within
 *   seconds (the backend sees that no worker took the dispatch, ends the call and closes its room),
 *   not after the element's own wait.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RoomEvent } from '@livekit/rtc-node';
import type { Room } from '@livekit/rtc-node';
import { RoomServiceClient } from 'livekit-server-sdk';
import { startAgent } from '../../scripts/stack/agent-process.ts';
import type { AgentProcess } from '../../scripts/stack/agent-process.ts';
import { closeRtc, firstRemoteAudioTrack, joinCall } from '../../scripts/stack/participants.ts';
import { announceCall, syncCall } from '../../scripts/stack/stack.ts';
import type { Stack } from '../../scripts/stack/stack.ts';
import { useStack } from '../helpers/use-stack.ts';
import type { CallRecord } from '../../server/store/call-store.ts';

const MAX_CALLS = 2;
const JOIN_TIMEOUT_SECONDS = 6;
// Long enough for a job process started cold on a busy machine (the worker keeps one warm).
const ARRIVAL_SECONDS = 20;
// A dispatch no worker took (LiveKit lists no job under it) is ended after this.
const ACCEPT_SECONDS = 3;
// What "within seconds" allows beyond ACCEPT_SECONDS on a shared machine: the polls, the end mirrored
// to Matrix, the room closed.
const BUSY_MARGIN_MS = 4000;

async function agentsIn(s: Stack, roomNames: readonly string[]): Promise<number> {
  const rooms = new RoomServiceClient(s.livekit.httpUrl, s.livekit.apiKey, s.livekit.apiSecret);
  let agents = 0;
  for (const name of roomNames) {
    const participants = await rooms.listParticipants(name).catch(() => []);
    agents += participants.filter((p) => p.identity.startsWith('agent-')).length;
  }
  return agents;
}

/** Waits until no room has the oracle in it (the calls of an earlier test over, their slots free). */
async function noOracleAnywhere(s: Stack, timeoutMs: number): Promise<void> {
  const rooms = new RoomServiceClient(s.livekit.httpUrl, s.livekit.apiKey, s.livekit.apiSecret);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const names = (await rooms.listRooms()).map((room) => room.name);
    const agents = await agentsIn(s, names);
    if (agents === 0) return;
    assert.ok(Date.now() < deadline, `the oracle is still in ${agents} room(s) after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('the oracle cannot be occupied by one user (real agent worker)', () => {
  const stack = useStack({ USER_MAX_OPEN_CALLS: '10', ORACLE_ARRIVAL_SECONDS: String(ARRIVAL_SECONDS), ORACLE_ACCEPT_SECONDS: String(ACCEPT_SECONDS) });
  const rooms: Room[] = [];
  let agent: AgentProcess;

  before(async () => {
    agent = await startAgent(stack(), { AGENT_MAX_CALLS: String(MAX_CALLS), AGENT_JOIN_TIMEOUT_SECONDS: String(JOIN_TIMEOUT_SECONDS) });
  });
  after(async () => {
    await agent?.stop();
    await closeRtc(rooms);
  });

  it('a burst larger than the call limit: never more than the limit at once, no-shows ended, and another user then gets the oracle', async () => {
    const s = stack();
    const [occupier, other] = [await s.newUser(), await s.newUser()];
    const burst = await Promise.all(Array.from({ length: MAX_CALLS + 2 }, () => announceCall(s, occupier)));
    const syncedAt = Date.now();
    const synced = await Promise.all(burst.map((call) => syncCall(s, occupier, call)));
    for (const response of synced) assert.equal(response.status, 200, JSON.stringify(response.body));
    const roomNames = burst.map((call) => call.content.roomId);

    // Until every call of the burst has ended: the worker holds at most its limit at once. The calls
    // the oracle could not take end within seconds (oracle_busy); those it took end as no-shows once
    // nobody came. Matrix shows each end (mirroredStatus).
    let most = 0;
    let records: (CallRecord | undefined)[] = [];
    const deadline = Date.now() + (ARRIVAL_SECONDS + JOIN_TIMEOUT_SECONDS) * 1000 + 40_000;
    while (Date.now() < deadline) {
      most = Math.max(most, await agentsIn(s, roomNames));
      records = await Promise.all(burst.map((call) => s.backend.store.get(call.callId)));
      if (records.every((record) => record?.mirroredStatus === 'ended')) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.ok(
      records.every((record) => record?.mirroredStatus === 'ended'),
      `calls still open: ${JSON.stringify(records.map((r) => r?.status))}`,
    );
    assert.ok(most >= 1, 'the oracle took some of the calls');
    assert.ok(most <= MAX_CALLS, `the oracle was in ${most} calls at once (limit ${MAX_CALLS})`);
    await agent.waitForLine(/all call slots in use; the job is declined/, 5000);
    const reasons = records.map((record) => record!.endReason);
    const noShows = reasons.filter((reason) => reason === 'no_show').length;
    assert.ok(noShows >= 1 && noShows <= MAX_CALLS, reasons.join(', '));
    assert.equal(reasons.filter((reason) => reason === 'oracle_busy').length, burst.length - noShows, reasons.join(', '));
    for (const record of records.filter((r) => r!.endReason === 'oracle_busy')) {
      const after = Date.parse(record!.callEndedAt!) - syncedAt;
      assert.ok(after < ACCEPT_SECONDS * 1000 + BUSY_MARGIN_MS, `a busy call ended ${after} ms after the sync`);
    }

    // Another user's call now gets the oracle. The worker tells LiveKit its load every 2.5 s: a call
    // placed before its next report after the burst may still find it full and be ended as busy, and
    // the person calls again (what the element's "Try again" does). It must get the oracle.
    await noOracleAnywhere(s, 20_000);
    const attempts: string[] = [];
    for (;;) {
      const call = await announceCall(s, other, { callType: 'audio' });
      const response = await syncCall(s, other, call);
      assert.equal(response.status, 200, JSON.stringify(response.body));
      const room = await joinCall(response.body.livekit.url, response.body.livekit.token, call.callKey);
      const heard = await firstRemoteAudioTrack(room, undefined, 20_000).then(
        () => true,
        () => false,
      );
      const record = await s.backend.store.get(call.callId);
      if (heard) {
        rooms.push(room);
        assert.equal(record?.status, 'active');
        break;
      }
      attempts.push(record?.endReason ?? String(record?.status));
      assert.ok(attempts.length < 3 && record?.endReason === 'oracle_busy', `no oracle for another user's calls: ${attempts.join(', ')}`);
    }
    if (attempts.length > 0) console.log(`another user's call got the oracle after ${attempts.length} busy answer(s)`);
  });

  it('the worker full with calls people are in: one call more is ended as busy within seconds, and its person is disconnected', async () => {
    const s = stack();
    await Promise.all(rooms.splice(0).map((room) => room.disconnect().catch(() => {})));
    await noOracleAnywhere(s, 20_000);
    const held: Room[] = [];
    try {
      // MAX_CALLS calls the oracle takes, each with its person in the room.
      for (let i = 0; i < MAX_CALLS; i += 1) {
        const user = await s.newUser();
        const call = await announceCall(s, user, { callType: 'audio' });
        const response = await syncCall(s, user, call);
        assert.equal(response.status, 200, JSON.stringify(response.body));
        const room = await joinCall(response.body.livekit.url, response.body.livekit.token, call.callKey);
        rooms.push(room);
        held.push(room);
        await firstRemoteAudioTrack(room, undefined, 45_000);
      }

      // One more: no worker takes it.
      const user = await s.newUser();
      const call = await announceCall(s, user, { callType: 'audio' });
      const syncedAt = Date.now();
      const response = await syncCall(s, user, call);
      assert.equal(response.status, 200, JSON.stringify(response.body));
      const room = await joinCall(response.body.livekit.url, response.body.livekit.token, call.callKey);
      const disconnected = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the person of the call no worker took was not disconnected within 20 s')), 20_000);
        room.once(RoomEvent.Disconnected, () => {
          clearTimeout(timer);
          resolve(Date.now() - syncedAt);
        });
      });
      const record = await s.backend.store.get(call.callId);
      assert.equal(record?.endReason, 'oracle_busy', JSON.stringify(record));
      assert.ok(disconnected < ACCEPT_SECONDS * 1000 + BUSY_MARGIN_MS, `the person was disconnected ${disconnected} ms after the sync`);
      assert.equal(await agentsIn(s, [call.content.roomId]), 0, 'no oracle joined the call');
      // The calls the oracle holds go on.
      for (const heldRoom of held) assert.ok(heldRoom.isConnected, 'a call the oracle took was disconnected');
    } finally {
      await Promise.all(held.map((room) => room.disconnect().catch(() => {})));
      // The held calls end once the oracle sees its people gone (webhooks, edits mirrored to Matrix):
      // let that finish before the stack stops, or an end would reach a Matrix client already closed.
      await noOracleAnywhere(s, 20_000).catch(() => {});
    }
  });
});
