import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Room } from '@livekit/rtc-node';
import { RoomServiceClient } from 'livekit-server-sdk';
import { base58 } from '@scure/base';
import * as eciesjs from 'eciesjs';
import { generateCallKey, parsePublicKey } from '../../protocol/index.ts';
import { startAgent } from '../helpers/agent-process.ts';
import type { AgentProcess } from '../helpers/agent-process.ts';
import { announceCall, syncCall, useStack } from '../helpers/backend.ts';
import type { Stack, StartedCall, TestUser } from '../helpers/backend.ts';
import { SAMPLE_RATE, closeRtc, firstRemoteAudioTrack, joinCall, recordLoudAudio, speakUtterance } from '../helpers/livekit.ts';
import { goertzelPower } from '../helpers/tone.ts';

type User = TestUser & { roomId: string };

/** How strongly `marker` stands out over its neighbourhood in the samples (1 = not at all). */
function markerProminence(samples: Int16Array, marker: number): number {
  const at = goertzelPower(samples, SAMPLE_RATE, marker);
  const around = [marker - 130, marker - 90, marker + 90, marker + 130].map((f) => goertzelPower(samples, SAMPLE_RATE, f));
  return at / (around.reduce((a, b) => a + b, 0) / around.length);
}

async function agentIn(s: Stack, roomName: string): Promise<boolean> {
  const participants = await new RoomServiceClient(s.livekit.httpUrl, s.livekit.apiKey, s.livekit.apiSecret).listParticipants(roomName).catch(() => []);
  return participants.some((p) => p.identity.startsWith('agent-'));
}

describe('the oracle agent (real agent worker, LiveKit, backend, Synapse)', () => {
  const stack = useStack();
  const rooms: Room[] = [];
  let agent: AgentProcess;
  let users: User[];

  before(async () => {
    agent = await startAgent(stack());
    users = await Promise.all([stack().newUser('kim'), stack().newUser('lee')]);
  });
  after(async () => {
    await agent?.stop();
    await closeRtc(rooms);
  });

  async function callAndHearEcho(user: User, call: StartedCall, markerHz: number) {
    const s = stack();
    const synced = await syncCall(s, user, call);
    assert.equal(synced.status, 200, JSON.stringify(synced.body));
    const room = await joinCall(synced.body.livekit.url, synced.body.livekit.token, call.callKey);
    rooms.push(room);
    const oracleTrack = firstRemoteAudioTrack(room, undefined, 30_000);
    const voice = await speakUtterance(room, markerHz);
    const echo = await recordLoudAudio(await oracleTrack, 1500, 25_000);
    await voice.stop();
    return { room, echo };
  }

  it('echoes what the person says, through the E2EE room', async () => {
    const s = stack();
    const call = await announceCall(s, users[0]!, { callType: 'audio' });
    const { room, echo } = await callAndHearEcho(users[0]!, call, 1000);
    assert.ok(echo.length >= SAMPLE_RATE * 1.5, `heard ${echo.length / SAMPLE_RATE} s of echo`);
    const prominence = markerProminence(echo, 1000);
    assert.ok(prominence > 5, `the echo carries the 1 kHz marker (prominence ${prominence.toFixed(1)})`);
    assert.ok(agent.output.some((line) => line.includes('joined the call with E2EE')));
    for (const line of agent.output) assert.equal(line.includes(call.callKey), false, 'the call key reached the agent log');
    await room.disconnect();
  });
});
