import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { RemoteTrack, Room } from '@livekit/rtc-node';
import { RoomServiceClient } from 'livekit-server-sdk';
import { base58 } from '@scure/base';
import * as eciesjs from 'eciesjs';
import { generateCallKey, parsePublicKey } from '../../protocol/index.ts';
import { descendants, jobProcessesStarted, startAgent } from '../../scripts/stack/agent-process.ts';
import type { AgentProcess } from '../../scripts/stack/agent-process.ts';
import { announceCall, syncCall } from '../../scripts/stack/stack.ts';
import { encodeDispatchMetadata } from '../../protocol/api/dispatch-metadata.ts';
import { keyAnswer } from '../../server/call-service.ts';
import { useStack } from '../helpers/use-stack.ts';
import { eventually } from '../helpers/wait.ts';
import type { Stack, StartedCall, TestUser } from '../../scripts/stack/stack.ts';
import { SAMPLE_RATE, closeRtc, firstRemoteAudioTrack, joinCall, recordLoudAudio, speakUtterance } from '../../scripts/stack/participants.ts';
import { goertzelPower } from '../../scripts/stack/tone.ts';

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

  /** Syncs, joins with E2EE and waits for the oracle's voice track (a person speaks once the oracle is there). */
  async function joinWithOracle(user: User, call: StartedCall) {
    const synced = await syncCall(stack(), user, call);
    assert.equal(synced.status, 200, JSON.stringify(synced.body));
    const room = await joinCall(synced.body.livekit.url, synced.body.livekit.token, call.callKey);
    rooms.push(room);
    return { room, oracleTrack: await firstRemoteAudioTrack(room, undefined, 30_000) };
  }

  /** Speaks the utterance (with a marker) and records the oracle's answer. */
  async function speakAndHearEcho(joined: { room: Room; oracleTrack: RemoteTrack }, call: StartedCall, markerHz: number) {
    const voice = await speakUtterance(joined.room, markerHz);
    const echo = await recordLoudAudio(joined.oracleTrack, 1500, 25_000);
    await voice.stop();
    assert.ok(
      echo.length >= SAMPLE_RATE * 1.5,
      `heard ${echo.length / SAMPLE_RATE} s of echo in ${call.callId}; the agent's output ends with:\n${agent.output
        .filter((l) => !l.includes('"level":20'))
        .slice(-15)
        .join('\n')}`,
    );
    return echo;
  }

  async function callAndHearEcho(user: User, call: StartedCall, markerHz: number) {
    const joined = await joinWithOracle(user, call);
    return { room: joined.room, echo: await speakAndHearEcho(joined, call, markerHz) };
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

  it("job processes watch their event loop without the framework's watchdog thread (the worker keeps its own)", async () => {
    const s = stack();
    const call = await announceCall(s, users[0]!, { callType: 'audio' });
    const joined = await joinWithOracle(users[0]!, call);
    // Node names a worker thread after its `name` (the kernel keeps 15 characters): the framework's
    // watchdog is "livekit-loop-monitor-<loop>".
    // Undefined for a process that ended meanwhile (an earlier test's job process, shutting down).
    const watchdogs = (pid: number): number | undefined => {
      let tasks: string[];
      try {
        tasks = readdirSync(`/proc/${pid}/task`);
      } catch {
        return undefined;
      }
      return tasks.filter((task) => {
        try {
          return readFileSync(`/proc/${pid}/task/${task}/comm`, 'utf8').startsWith('livekit-loop-mo');
        } catch {
          return false; // the thread ended meanwhile
        }
      }).length;
    };
    assert.equal(watchdogs(agent.child.pid!), 1, "the worker's own loop monitor has its watchdog");
    const jobs = descendants(agent.child.pid!)
      .map((pid) => ({ pid, watchdogs: watchdogs(pid) }))
      .filter((job) => job.watchdogs !== undefined);
    assert.ok(jobs.length >= 1, 'the worker has a job process holding the call');
    for (const job of jobs) assert.equal(job.watchdogs, 0, `job process ${job.pid} runs no watchdog thread`);
    await joined.room.disconnect();
  });

  it('the job process that replaces the one a call took loads once the person receives the oracle, not during the set-up', async () => {
    const s = stack();
    type Line = { msg?: string; pid?: number; time: number; callId?: string; waitedMs?: number };
    const lines = (from = 0): Line[] =>
      agent.output.slice(from).flatMap((text) => {
        try {
          return text.startsWith('{') ? [JSON.parse(text) as Line] : [];
        } catch {
          return [];
        }
      });
    // Every job process of the worker started (none from an earlier test still waiting or loading).
    await eventually('every job process of the worker to have started', async () => jobProcessesStarted(agent), 60_000);
    const from = agent.output.length;
    const call = await announceCall(s, users[0]!, { callType: 'audio' });
    const joined = await joinWithOracle(users[0]!, call);
    const voice = await eventually('the oracle to log its voice published', async () =>
      lines(from).find((l) => l.msg === 'voice published' && l.callId === call.callId),
    );
    const warmed = await eventually('a job process to warm up after the call', async () =>
      lines(from).find((l) => l.msg === 'warmed up after the calls being set up' && l.pid !== voice.pid),
    );
    const loading = lines(from).find((l) => l.msg === 'initializing job runner' && l.pid === warmed.pid);
    assert.ok(loading, `the replacement (pid ${warmed.pid}) logged its start`);
    assert.ok((warmed.waitedMs ?? 0) > 0, 'the replacement waited for the set-up');
    // It loads after the voice is out (unless the set-up outlasted the bound on a wait: 3 s).
    if ((warmed.waitedMs ?? 0) < 2900) {
      assert.ok(loading.time >= voice.time, `the replacement loaded ${voice.time - loading.time} ms before the oracle's voice was published`);
    }
    await joined.room.disconnect();
  });

  it('follows a microphone published again (another device, a reconnection): the new one is echoed', async () => {
    const s = stack();
    const call = await announceCall(s, users[0]!, { callType: 'audio' });
    const joined = await joinWithOracle(users[0]!, call);
    const first = await speakUtterance(joined.room, 1100);
    const firstEcho = await recordLoudAudio(joined.oracleTrack, 1500, 25_000);
    assert.ok(markerProminence(firstEcho, 1100) > 5, 'the first microphone is echoed');
    await first.stop();
    for (const publication of [...joined.room.localParticipant!.trackPublications.values()]) {
      await joined.room.localParticipant!.unpublishTrack(publication.sid!);
    }
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const echo = await speakAndHearEcho(joined, call, 1600);
    assert.ok(markerProminence(echo, 1600) > 5, `the republished microphone is echoed (prominence ${markerProminence(echo, 1600).toFixed(1)})`);
    assert.ok(agent.output.filter((line) => line.includes("listening to the person's microphone")).length >= 2, 'the agent switched tracks');
    await joined.room.disconnect();
  });

  it('works the same with a key encrypted by eciesjs itself (what other clients of the protocol send)', async () => {
    const s = stack();
    const callKey = generateCallKey();
    const encryptionKey = base58.encode(eciesjs.encrypt(parsePublicKey(s.oracleKeys.publicKey), new TextEncoder().encode(callKey)));
    const call = { ...(await announceCall(s, users[1]!, { encryptionKey })), callKey };
    const { room, echo } = await callAndHearEcho(users[1]!, call, 1300);
    assert.ok(markerProminence(echo, 1300) > 5, 'the echo carries the 1.3 kHz marker');
    await room.disconnect();
  });

  it('two concurrent calls with different keys: each person hears only their own echo', async () => {
    const s = stack();
    const [a, b] = await Promise.all([announceCall(s, users[0]!), announceCall(s, users[1]!)]);
    const [first, second] = await Promise.all([callAndHearEcho(users[0]!, a, 900), callAndHearEcho(users[1]!, b, 1500)]);
    assert.ok(markerProminence(first.echo, 900) > 5, 'the first person hears their own marker');
    assert.ok(markerProminence(second.echo, 1500) > 5, 'the second person hears their own marker');
    // Your own marker stands out by thousands; speech alone can lift a frequency up to about ten times
    // over its neighbours (10.04 measured once, with the part of the utterance recorded), and even a
    // faint cross-talk would lift the other's marker by hundreds.
    const crossTalk = [markerProminence(first.echo, 1500), markerProminence(second.echo, 900)];
    assert.ok(
      crossTalk.every((p) => p < 30),
      `neither person hears the other's marker (prominence ${crossTalk.map((p) => p.toFixed(2)).join(', ')})`,
    );
    await Promise.all([first.room.disconnect(), second.room.disconnect()]);
  });

  it('a crash in one call does not end another call in the same worker', async () => {
    const s = stack();
    const [a, b] = await Promise.all([announceCall(s, users[0]!), announceCall(s, users[1]!)]);
    const [first, second] = await Promise.all([joinWithOracle(users[0]!, a), joinWithOracle(users[1]!, b)]);
    // Each call runs in its own job process: kill the first call's.
    const pidOf = (callId: string) => {
      const line = agent.output.find((l) => l.includes('joined the call with E2EE') && l.includes(callId));
      assert.ok(line, `the agent logged joining ${callId}`);
      return (JSON.parse(line) as { pid: number }).pid;
    };
    const pid = pidOf(a.callId);
    assert.notEqual(pidOf(b.callId), pid, 'the calls run in different processes');
    process.kill(pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 500));
    assert.throws(() => process.kill(pid, 0), "the first call's job process is gone");
    assert.equal(agent.child.exitCode, null, 'the worker itself keeps running');
    // The other call goes on: its person speaks and is echoed.
    const echo = await speakAndHearEcho(second, b, 1700);
    assert.ok(markerProminence(echo, 1700) > 5, 'the other call still echoes');
    await Promise.all([first.room.disconnect(), second.room.disconnect()]);
  });

  it('leaves when the person leaves', async () => {
    const s = stack();
    const call = await announceCall(s, users[0]!);
    const { room } = await callAndHearEcho(users[0]!, call, 1100);
    assert.equal(await agentIn(s, call.content.roomId), true);
    await room.disconnect();
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && (await agentIn(s, call.content.roomId))) await new Promise((r) => setTimeout(r, 200));
    assert.equal(await agentIn(s, call.content.roomId), false, 'the agent is still in the room');
  });

  describe('when the key handoff fails, the agent stays out and says why', () => {
    async function syncedCall(s: Stack, user: User, overrides = {}) {
      const call = await announceCall(s, user, overrides);
      const synced = await syncCall(s, user, call);
      assert.equal(synced.status, 200, JSON.stringify(synced.body));
      return call;
    }

    async function waitForEnd(s: Stack, callId: string) {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const record = await s.backend.store.get(callId);
        if (record?.status === 'ended' || Date.now() > deadline) return record;
        await new Promise((r) => setTimeout(r, 200));
      }
    }

    it('tampered ciphertext: not decrypted, reported, the call ends with the reason', async () => {
      const s = stack();
      const genuine = await announceCall(s, users[0]!);
      const bytes = base58.decode(genuine.content.encryptionKey);
      bytes[bytes.length - 1]! ^= 0x01;
      const call = await syncedCall(s, users[0]!, { encryptionKey: base58.encode(bytes) });
      const record = await waitForEnd(s, call.callId);
      assert.equal(record?.status, 'ended');
      assert.equal(record?.endReason, 'agent_failed: key_decryption_failed');
      assert.equal(await agentIn(s, call.content.roomId), false);
      assert.ok(agent.output.some((line) => line.includes('key_decryption_failed') && line.includes(call.callId)));
    });

    it('a key encrypted to another oracle: the same', async () => {
      const s = stack();
      const other = eciesjs.PrivateKey.fromHex(Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex'));
      const encryptionKey = base58.encode(eciesjs.encrypt(other.publicKey.toBytes(true), new TextEncoder().encode(generateCallKey())));
      const call = await syncedCall(s, users[1]!, { encryptionKey });
      const record = await waitForEnd(s, call.callId);
      assert.equal(record?.endReason, 'agent_failed: key_decryption_failed');
      assert.equal(await agentIn(s, call.content.roomId), false);
    });

    it("a dispatch whose key does not decrypt and is not the backend's call: not reported, the call goes on", async () => {
      const s = stack();
      const other = await startAgent(s, { LIVEKIT_AGENT_NAME: 'forged-dispatch', AGENT_IDLE_PROCESSES: '1' });
      try {
        const call = await syncedCall(s, users[0]!);
        const record = (await s.backend.store.get(call.callId))!;
        const bytes = base58.decode(record.encryptionKey);
        bytes[bytes.length - 1]! ^= 0x01;
        const { AgentDispatchClient } = await import('livekit-server-sdk');
        await new AgentDispatchClient(s.livekit.httpUrl, s.livekit.apiKey, s.livekit.apiSecret).createDispatch(call.content.roomId, other.name, {
          metadata: encodeDispatchMetadata(call.callId, { ...keyAnswer(record), encryptionKey: base58.encode(bytes) }),
        });
        const line = await other.waitForLine(/oracle stays out of the call/, 40_000);
        assert.match(line, /backend_error/);
        assert.match(line, /encryptionKey/);
        assert.equal(
          other.output.some((l) => l.includes('the backend was told the call failed')),
          false,
          'a decryption failure is reported only for the backend’s own call',
        );
        assert.equal((await s.backend.store.get(call.callId))?.status, 'active', 'the call goes on with its oracle');
      } finally {
        await other.stop();
      }
    });

    // The dispatch carries the key answer: the agent joins at once, and the key route confirms the call
    // while it does. Refused there, the oracle leaves having said nothing (no voice published).
    for (const [name, env, reason] of [
      ['a dispatch for a call that has ended', {}, 'call_ended'],
      ['the API key is wrong, the key from the dispatch', { AGENT_API_KEY: 'a-wrong-api-key-a-wrong-api-key-a-wrong' }, 'api_key_refused'],
    ] as const) {
      it(`${name}: the agent leaves without a word and logs ${reason}`, async () => {
        const s = stack();
        const other = await startAgent(s, { ...env, LIVEKIT_AGENT_NAME: `unconfirmed-${reason}`, AGENT_IDLE_PROCESSES: '1' });
        try {
          const call = await syncedCall(s, users[1]!);
          if (reason === 'call_ended') {
            const ended = await s.api('POST', `/calls/${encodeURIComponent(call.callId)}/update`, { session: users[1]!.session, body: { status: 'ended' } });
            assert.equal(ended.status, 200, JSON.stringify(ended.body));
          }
          const record = (await s.backend.store.get(call.callId))!;
          const { AgentDispatchClient } = await import('livekit-server-sdk');
          await new AgentDispatchClient(s.livekit.httpUrl, s.livekit.apiKey, s.livekit.apiSecret).createDispatch(call.content.roomId, other.name, {
            metadata: encodeDispatchMetadata(call.callId, keyAnswer(record)),
          });
          const line = await other.waitForLine(/did not confirm the call/, 40_000);
          assert.match(line, new RegExp(reason));
          assert.ok(
            other.output.some((l) => l.includes('joined the call with E2EE') && l.includes(call.callId)),
            'it had joined with the key from the dispatch',
          );
          assert.equal(
            other.output.some((l) => l.includes('voice published')),
            false,
            'it said nothing',
          );
          const participants = () =>
            new RoomServiceClient(s.livekit.httpUrl, s.livekit.apiKey, s.livekit.apiSecret).listParticipants(call.content.roomId).catch(() => []);
          const deadline = Date.now() + 15_000;
          while (Date.now() < deadline && (await participants()).some((p) => p.identity.startsWith('agent-') && p.tracks.length === 0)) {
            await new Promise((r) => setTimeout(r, 200));
          }
          assert.equal((await participants()).filter((p) => p.identity.startsWith('agent-') && p.tracks.length === 0).length, 0, 'it left');
        } finally {
          await other.stop();
        }
      });
    }

    for (const [name, env, reason] of [
      ['the backend is down (a dispatch with only the callId)', { ORACLE_BACKEND_URL: 'http://127.0.0.1:9', KEY_FETCH_ATTEMPTS: '2' }, 'backend_unreachable'],
      ['the API key is wrong (a dispatch with only the callId)', { AGENT_API_KEY: 'a-wrong-api-key-a-wrong-api-key-a-wrong' }, 'api_key_refused'],
    ] as const) {
      it(`${name}: the agent stays out and logs ${reason}`, async () => {
        const s = stack();
        const faulty = await startAgent(s, { ...env, LIVEKIT_AGENT_NAME: `faulty-${reason}`, AGENT_IDLE_PROCESSES: '1' });
        try {
          const call = await syncedCall(s, users[0]!);
          const { AgentDispatchClient } = await import('livekit-server-sdk');
          await new AgentDispatchClient(s.livekit.httpUrl, s.livekit.apiKey, s.livekit.apiSecret).createDispatch(call.content.roomId, faulty.name, {
            metadata: call.callId,
          });
          const line = await faulty.waitForLine(/oracle stays out of the call/, 40_000);
          assert.match(line, new RegExp(reason));
          assert.equal(await agentIn(s, call.content.roomId), true, 'the good agent (dispatched by sync) is there');
          const participants = await new RoomServiceClient(s.livekit.httpUrl, s.livekit.apiKey, s.livekit.apiSecret).listParticipants(call.content.roomId);
          assert.equal(participants.filter((p) => p.identity.startsWith('agent-')).length, 1, 'the faulty agent did not join');
          assert.equal((await s.backend.store.get(call.callId))?.status, 'active', 'the call goes on with the good agent');
        } finally {
          await faulty.stop();
        }
      });
    }
  });
});
