/**
 * One user trying to occupy the oracle (real agent worker, LiveKit, backend, Synapse): a burst of calls
 * nobody joins, larger than the worker's call limit. The worker never runs more calls than its limit,
 * the calls it could not take end within seconds (`oracle_busy`), the oracle leaves each call nobody
 * joined (`no_show`), and another user's call then gets the oracle.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
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

async function agentsIn(s: Stack, roomNames: readonly string[]): Promise<number> {
  const rooms = new RoomServiceClient(s.livekit.httpUrl, s.livekit.apiKey, s.livekit.apiSecret);
  let agents = 0;
  for (const name of roomNames) {
    const participants = await rooms.listParticipants(name).catch(() => []);
    agents += participants.filter((p) => p.identity.startsWith('agent-')).length;
  }
  return agents;
}

describe('the oracle cannot be occupied by one user (real agent worker)', () => {
  const stack = useStack({ USER_MAX_OPEN_CALLS: '10', ORACLE_ARRIVAL_SECONDS: String(ARRIVAL_SECONDS) });
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
      assert.ok(after < (ARRIVAL_SECONDS + 8) * 1000, `a busy call ended ${after} ms after the sync`);
    }

    // Another user's call now gets the oracle.
    const call = await announceCall(s, other, { callType: 'audio' });
    const response = await syncCall(s, other, call);
    assert.equal(response.status, 200, JSON.stringify(response.body));
    const room = await joinCall(response.body.livekit.url, response.body.livekit.token, call.callKey);
    rooms.push(room);
    await firstRemoteAudioTrack(room, undefined, 45_000);
    assert.equal((await s.backend.store.get(call.callId))?.status, 'active');
  });
});
