/**
 * Durability of the backend's call store, against real Synapse, real LiveKit and real HTTP: calls
 * survive a restart, every acknowledged write survives `kill -9`, one process per data file, and bad
 * configuration stops the backend at start with the variable named.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { AgentDispatchClient } from 'livekit-server-sdk';
import { decryptCallKey } from '../../protocol/index.ts';
import { loadConfig } from '../../server/config.ts';
import { AGENT_API_KEY, announceCall, syncCall } from '../../scripts/stack/stack.ts';
import { useStack } from '../helpers/use-stack.ts';
import type { ApiOptions, ApiResponse, StartedCall, Stack, TestUser } from '../../scripts/stack/stack.ts';
import { runBackendToExit, spawnBackend, stopAllBackends, tempDataDir } from '../../scripts/stack/backend-process.ts';
import type { BackendProcess } from '../../scripts/stack/backend-process.ts';
import { CALL_EVENT_SENDS, MatrixProxy } from '../../scripts/stack/matrix-proxy.ts';

type User = TestUser & { roomId: string };
type Api = (method: string, pathname: string, options?: ApiOptions) => Promise<ApiResponse>;

const enc = encodeURIComponent;

interface StoredCall {
  callId: string;
  userId: string;
  status: string;
  encryptionKey: string;
  dispatchId?: string;
  endReason?: string;
  callEndedAt?: string;
}

interface StoreFile {
  version: number;
  calls: StoredCall[];
}

function readStoreFile(dataDir: string): StoreFile {
  const text = readFileSync(path.join(dataDir, 'calls.json'), 'utf8');
  let data: StoreFile;
  try {
    data = JSON.parse(text) as StoreFile;
  } catch (error) {
    assert.fail(`calls.json is not valid JSON after the crash (${(error as Error).message}); it starts: ${text.slice(0, 200)}`);
  }
  assert.equal(data.version, 1);
  assert.ok(Array.isArray(data.calls), 'calls.json has a calls array');
  const ids = data.calls.map((call) => call.callId);
  assert.equal(new Set(ids).size, ids.length, 'no call is stored twice');
  return data;
}

/** Every call of a user, following `nextCursor`. */
async function listAll(api: Api, session: string): Promise<Map<string, any>> {
  const calls = new Map<string, any>();
  let cursor: string | undefined;
  do {
    const response = await api('GET', `/calls?limit=100${cursor ? `&cursor=${enc(cursor)}` : ''}`, { session });
    assert.equal(response.status, 200, JSON.stringify(response.body));
    for (const call of response.body.calls) calls.set(call.callId, call);
    cursor = response.body.nextCursor;
  } while (cursor);
  return calls;
}

/** The stack's settings for a backend process of its own: its own data folder, so its own Matrix device. */
async function childEnv(s: Stack): Promise<Record<string, string>> {
  return { ...s.env, LOG_LEVEL: 'info', MATRIX_ACCESS_TOKEN: await s.newOracleDevice() };
}

async function ourDispatches(s: Stack, roomName: string) {
  const all = await new AgentDispatchClient(s.livekit.httpUrl, s.livekit.apiKey, s.livekit.apiSecret).listDispatch(roomName);
  return all.filter((dispatch) => dispatch.agentName === 'oracle');
}

describe('backend durability (real Synapse, LiveKit, HTTP)', () => {
  // Registered first so that it runs first: the child backends stop before Synapse and LiveKit do.
  after(() => stopAllBackends());
  const stack = useStack();

  it('keeps synced and ended calls, their keys and their dispatch across a restart', async () => {
    const s = stack();
    const user = await s.newUser();
    const active = await announceCall(s, user);
    const activeSync = await syncCall(s, user, active);
    assert.equal(activeSync.status, 200, JSON.stringify(activeSync.body));
    assert.equal(activeSync.body.call.status, 'active');

    const ended = await announceCall(s, user);
    assert.equal((await syncCall(s, user, ended)).status, 200);
    const endResponse = await s.api('POST', `/calls/${enc(ended.callId)}/update`, { session: user.session, body: { status: 'ended' } });
    assert.equal(endResponse.status, 200, JSON.stringify(endResponse.body));
    assert.equal(endResponse.body.call.status, 'ended');

    const neverSynced = await announceCall(s, user);

    await s.restart();

    const listed = await listAll(s.api, user.session);
    assert.deepEqual(listed.get(active.callId), activeSync.body.call, 'the active call is listed as it was before the restart');
    assert.deepEqual(listed.get(ended.callId), endResponse.body.call, 'the ended call is listed as it was before the restart');
    assert.equal(listed.get(ended.callId).endReason, 'user');
    assert.equal(listed.has(neverSynced.callId), false, 'a call that was only announced is not listed');
    assert.equal(listed.size, 2);

    const key = await s.api('GET', `/calls/${enc(active.callId)}/key`, { apiKey: AGENT_API_KEY });
    assert.equal(key.status, 200, JSON.stringify(key.body));
    assert.equal(key.body.encryptionKey, active.content.encryptionKey);
    assert.equal(decryptCallKey(key.body.encryptionKey, s.oracleKeys.privateKey), active.callKey);
    const endedKey = await s.api('GET', `/calls/${enc(ended.callId)}/key`, { apiKey: AGENT_API_KEY });
    assert.equal(endedKey.status, 410, JSON.stringify(endedKey.body));
    assert.equal(endedKey.body.error.code, 'call_ended');

    // The dispatch and the 'active' edit were stored too: syncing again after the restart neither
    // dispatches a second agent nor edits the event again.
    const again = await syncCall(s, user, active);
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.deepEqual(again.body.call, activeSync.body.call);
    assert.equal((await ourDispatches(s, active.content.roomId)).length, 1, 'one agent dispatch for the room');
    const edits = await s.oracle.getEdits(user.roomId, active.eventId, 'm.ixo.oracles_call');
    assert.deepEqual(
      edits.map((edit) => (edit.content as any)['m.new_content'].callStatus),
      ['active'],
    );
    const endedAgain = await syncCall(s, user, ended);
    assert.equal(endedAgain.status, 409, JSON.stringify(endedAgain.body));
    assert.equal(endedAgain.body.error.code, 'call_ended');
  });

  it('keeps every acknowledged write when the backend is killed with SIGKILL in a burst of writes', async (t) => {
    const s = stack();
    const dataDir = tempDataDir();
    const env = await childEnv(s);
    const first = await spawnBackend(env, { dataDir });
    await first.ready();
    const users = [await s.newUser(), await s.newUser()] as const;
    const userOf = (i: number): User => users[i % 2]!;

    // Acknowledged before the burst: 16 synced calls (the burst then ends them through the agent API).
    const baseline = await Promise.all(
      Array.from({ length: 16 }, async (_, i) => {
        const user = userOf(i);
        const call = await announceCall(s, user);
        const response = await first.api('POST', `/calls/${enc(call.callId)}/sync`, {
          session: user.session,
          body: { matrixRoomId: user.roomId, sessionId: call.content.sessionId },
        });
        assert.equal(response.status, 200, JSON.stringify(response.body));
        return { user, call };
      }),
    );
    // Announced in Matrix, synced only in the burst.
    const fresh = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const user = userOf(i);
        return { user, call: await announceCall(s, user) };
      }),
    );

    interface Op {
      readonly kind: 'sync' | 'end';
      readonly user: User;
      readonly call: StartedCall;
    }
    const send = (backend: BackendProcess, op: Op) =>
      op.kind === 'sync'
        ? backend.api('POST', `/calls/${enc(op.call.callId)}/sync`, {
            session: op.user.session,
            body: { matrixRoomId: op.user.roomId, sessionId: op.call.content.sessionId },
          })
        : backend.api('POST', `/calls/${enc(op.call.callId)}/update`, { apiKey: AGENT_API_KEY, body: { status: 'ended' } });
    const ops: Op[] = [
      ...fresh.map(({ user, call }) => ({ kind: 'sync' as const, user, call })),
      ...baseline.map(({ user, call }) => ({ kind: 'end' as const, user, call })),
    ];
    for (let i = ops.length - 1; i > 0; i -= 1) {
      const j = Math.floor(Math.random() * (i + 1));
      [ops[i], ops[j]] = [ops[j]!, ops[i]!];
    }

    const KILL_AFTER = 20;
    const CONCURRENCY = 12;
    const ackedSync = new Map<string, Op>();
    const ackedEnd = new Map<string, Op>();
    const unacked: Op[] = [];
    const unexpected: string[] = [];
    let killed = false;
    let inFlight = 0;
    let inFlightAtKill = -1;
    let next = 0;
    const worker = async () => {
      while (!killed && next < ops.length) {
        const op = ops[next++]!;
        inFlight += 1;
        try {
          const response = await send(first, op);
          if (response.status === 200) {
            const expected = op.kind === 'sync' ? 'active' : 'ended';
            if (response.body.call?.status !== expected) unexpected.push(`${op.kind} answered ${JSON.stringify(response.body)}`);
            (op.kind === 'sync' ? ackedSync : ackedEnd).set(op.call.callId, op);
            if (!killed && ackedSync.size + ackedEnd.size >= KILL_AFTER) {
              killed = true;
              inFlightAtKill = inFlight - 1;
              first.child.kill('SIGKILL');
            }
          } else {
            unexpected.push(`${op.kind} ${op.call.callId}: HTTP ${response.status} ${JSON.stringify(response.body)}`);
            unacked.push(op);
          }
        } catch {
          unacked.push(op); // the connection died with the process: not acknowledged
        } finally {
          inFlight -= 1;
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    unacked.push(...ops.slice(next));
    const exit = await first.exited;
    assert.equal(exit.signal, 'SIGKILL', 'the backend was killed, not stopped');
    assert.deepEqual(unexpected, [], 'every answer before the kill was a 200 with the new status');
    assert.ok(killed && inFlightAtKill > 0, `writes were in flight when the backend was killed (${inFlightAtKill})`);
    assert.ok(unacked.length > 0, 'some writes were cut off by the kill');
    assert.equal(ackedSync.size + ackedEnd.size + unacked.length, ops.length);
    t.diagnostic(`acknowledged: ${ackedSync.size} syncs, ${ackedEnd.size} ends; in flight at the kill: ${inFlightAtKill}; not acknowledged: ${unacked.length}`);

    // The file on disk: whole, and with every acknowledged write.
    const data = readStoreFile(dataDir);
    const stored = new Map(data.calls.map((call) => [call.callId, call]));
    for (const { call, user } of baseline) {
      const record = stored.get(call.callId);
      assert.ok(record, `the call synced before the burst is in calls.json: ${call.callId}`);
      assert.equal(record.userId, user.matrix.userId);
      assert.equal(record.encryptionKey, call.content.encryptionKey);
      if (ackedEnd.has(call.callId)) {
        assert.equal(record.status, 'ended', `the acknowledged end of ${call.callId} is in calls.json`);
        assert.equal(record.endReason, 'agent');
        assert.ok(record.callEndedAt);
      }
    }
    for (const { call, user } of ackedSync.values()) {
      const record = stored.get(call.callId);
      assert.ok(record, `the acknowledged sync of ${call.callId} is in calls.json`);
      assert.equal(record.status, 'active', `the acknowledged sync of ${call.callId} is stored as active`);
      assert.equal(record.userId, user.matrix.userId);
      assert.equal(record.encryptionKey, call.content.encryptionKey);
      assert.equal(typeof record.dispatchId, 'string', 'the agent dispatch is stored');
    }

    // A new process on the same folder takes over once the dead one's lock is stale, and serves them.
    const startedAt = Date.now();
    const second = await spawnBackend(env, { dataDir });
    await second.ready(30_000);
    const takeoverMs = Date.now() - startedAt;
    t.diagnostic(`a new process served the data folder ${takeoverMs} ms after the kill`);
    const listed = new Map<string, any>();
    for (const user of users) for (const [id, call] of await listAll(second.api, user.session)) listed.set(id, call);
    for (const { call } of baseline) {
      // An end that was not acknowledged may or may not have reached the disk; either way the new
      // process serves what the file says.
      const expected = ackedEnd.has(call.callId) ? 'ended' : stored.get(call.callId)!.status;
      assert.equal(listed.get(call.callId)?.status, expected, `status of ${call.callId} after the crash`);
    }
    for (const { call } of ackedSync.values()) assert.equal(listed.get(call.callId)?.status, 'active', `${call.callId} listed after the crash`);
    for (const [callId, record] of stored) assert.equal(listed.get(callId)?.status, record.status, `${callId} is served as calls.json has it`);
    const endedUnacked = baseline.filter(({ call }) => !ackedEnd.has(call.callId) && stored.get(call.callId)!.status === 'ended').length;
    const syncedUnacked = fresh.filter(({ call }) => !ackedSync.has(call.callId) && stored.has(call.callId)).length;
    t.diagnostic(`on disk but not acknowledged: ${endedUnacked} ends, ${syncedUnacked} syncs`);
    const keyChecks = [...baseline, ...ackedSync.values()].map(async ({ call }) => {
      const key = await second.api('GET', `/calls/${enc(call.callId)}/key`, { apiKey: AGENT_API_KEY });
      if (listed.get(call.callId)?.status === 'ended') {
        assert.equal(key.status, 410, JSON.stringify(key.body));
      } else {
        assert.equal(key.status, 200, JSON.stringify(key.body));
        assert.equal(decryptCallKey(key.body.encryptionKey, s.oracleKeys.privateKey), call.callKey);
      }
    });
    await Promise.all(keyChecks);

    // A client retrying what was not acknowledged succeeds against the new process.
    for (const op of unacked) {
      const response = await send(second, op);
      assert.equal(response.status, 200, `retry of ${op.kind} ${op.call.callId}: ${JSON.stringify(response.body)}`);
      assert.equal(response.body.call.status, op.kind === 'sync' ? 'active' : 'ended');
    }
    const final = new Map<string, any>();
    for (const user of users) for (const [id, call] of await listAll(second.api, user.session)) final.set(id, call);
    assert.equal(final.size, baseline.length + fresh.length);
    for (const { call } of baseline) assert.equal(final.get(call.callId)?.status, 'ended');
    for (const { call } of fresh) assert.equal(final.get(call.callId)?.status, 'active');

    // Every ended call is ended in Matrix too: the oracle's last edit of the call event says so.
    // (Retrying an end whose store write reached the disk before the crash but whose Matrix edit did
    // not must still send the edit.)
    const notMirrored: string[] = [];
    for (const { user, call } of baseline) {
      const edits = await s.oracle.getEdits(user.roomId, call.eventId, 'm.ixo.oracles_call');
      const statuses = edits.filter((edit) => edit.sender === s.oracle.userId).map((edit) => (edit.content as any)['m.new_content'].callStatus);
      if (statuses.at(-1) !== 'ended')
        notMirrored.push(`${call.callId} (${ackedEnd.has(call.callId) ? 'acknowledged' : 'retried'}; oracle edits: ${statuses.join(', ')})`);
    }
    assert.deepEqual(notMirrored, [], 'calls ended in the store but not in Matrix');

    const stop = await second.stop();
    assert.equal(stop.code, 0, `a SIGTERM stops the backend cleanly; stderr: ${second.stderr()}`);
    assert.equal(readStoreFile(dataDir).calls.length, baseline.length + fresh.length);
    assert.ok(takeoverMs < 20_000, `the new process started within 20 s of the crash (${takeoverMs} ms)`);
  });

  it('still edits the Matrix event to ended when an end that was on disk before a crash is retried', async () => {
    const s = stack();
    const proxy = await MatrixProxy.start(s.synapse.baseUrl);
    try {
      const dataDir = tempDataDir();
      const env = { ...(await childEnv(s)), MATRIX_BASE_URL: proxy.url };
      const first = await spawnBackend(env, { dataDir });
      await first.ready();
      const user = await s.newUser();
      const call = await announceCall(s, user);
      const synced = await first.api('POST', `/calls/${enc(call.callId)}/sync`, {
        session: user.session,
        body: { matrixRoomId: user.roomId, sessionId: call.content.sessionId },
      });
      assert.equal(synced.status, 200, JSON.stringify(synced.body));

      // The agent ends the call; the backend writes the end to disk, then sends the Matrix edit, which
      // the proxy holds. The backend dies right there: the end is on disk, the edit never went out,
      // and the agent got no answer.
      const held = proxy.holdRequests(CALL_EVENT_SENDS);
      const end = first.api('POST', `/calls/${enc(call.callId)}/update`, { apiKey: AGENT_API_KEY, body: { status: 'ended' } }).then(
        (response) => `answered ${response.status}`,
        () => 'no answer',
      );
      await held;
      assert.equal(readStoreFile(dataDir).calls.find((record) => record.callId === call.callId)?.status, 'ended', 'the end is on disk');
      await first.kill('SIGKILL');
      assert.equal(await end, 'no answer', 'the end was not acknowledged');
      proxy.release();
      const oracleEdits = async () =>
        (await s.oracle.getEdits(user.roomId, call.eventId, 'm.ixo.oracles_call'))
          .filter((edit) => edit.sender === s.oracle.userId)
          .map((edit) => (edit.content as any)['m.new_content'].callStatus as string);
      assert.deepEqual(await oracleEdits(), ['active'], 'Matrix still says active');

      // The agent retries against the restarted backend: the call must end in Matrix too, or the
      // answer must at least not claim that it did.
      const second = await spawnBackend(env, { dataDir });
      await second.ready(30_000);
      const retry = await second.api('POST', `/calls/${enc(call.callId)}/update`, { apiKey: AGENT_API_KEY, body: { status: 'ended' } });
      assert.equal(retry.status, 200, JSON.stringify(retry.body));
      assert.equal(retry.body.call.status, 'ended');
      const edits = await oracleEdits();
      assert.ok(
        edits.at(-1) === 'ended' || retry.body.mirrored === false,
        `the retried end answered mirrored=${retry.body.mirrored} but the oracle's edits of the call event are [${edits.join(', ')}]: ` +
          'the call is ended in the store and still active in Matrix',
      );
      assert.equal(edits.at(-1), 'ended', `the call event is edited to ended after the retry (oracle edits: [${edits.join(', ')}])`);
    } finally {
      await stopAllBackends();
      await proxy.stop();
    }
  });

  it('refuses a second backend on the same data file, and the first keeps working', async () => {
    const s = stack();
    const dataDir = tempDataDir();
    const env = await childEnv(s);
    const first = await spawnBackend(env, { dataDir });
    await first.ready();
    const user = await s.newUser();
    const sync = async (backend: BackendProcess, call: StartedCall) =>
      backend.api('POST', `/calls/${enc(call.callId)}/sync`, { session: user.session, body: { matrixRoomId: user.roomId, sessionId: call.content.sessionId } });
    const one = await announceCall(s, user);
    assert.equal((await sync(first, one)).status, 200);
    const fileBefore = readStoreFile(dataDir);
    assert.deepEqual(
      fileBefore.calls.map((call) => call.callId),
      [one.callId],
    );

    // The second one must exit by itself (after its lock retries) and never listen.
    const secondProcess = await spawnBackend(env, { dataDir });
    const deadline = Date.now() + 30_000;
    while (secondProcess.running() && Date.now() < deadline) {
      const answered = await fetch(`${secondProcess.url}/health`).then(
        (response) => response.status,
        () => undefined,
      );
      assert.equal(answered, undefined, 'the second backend must not serve the same data file');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.equal(secondProcess.running(), false, 'the second backend exited within 30 s');
    const exit = await secondProcess.exited;
    const second = { ...exit, stdout: secondProcess.stdout(), stderr: secondProcess.stderr() };
    assert.notEqual(second.code, 0, `the second backend exits with an error; stderr: ${second.stderr}`);
    assert.notEqual(second.code, null, `exit ${JSON.stringify(exit)}`);
    assert.match(second.stderr, /cannot start: .*calls\.json is in use by another backend process/);
    assert.ok(second.stderr.includes(path.join(dataDir, 'calls.json')), 'stderr names the data file');
    assert.doesNotMatch(second.stdout, /backend listening/);

    // Past one lock refresh, so a stolen or broken lock would have shown by now.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.ok(first.running(), `the first backend is still running; stderr: ${first.stderr()}`);
    assert.equal((await first.api('GET', '/health')).status, 200);
    const listed = await listAll(first.api, user.session);
    assert.equal(listed.get(one.callId)?.status, 'active');
    const key = await first.api('GET', `/calls/${enc(one.callId)}/key`, { apiKey: AGENT_API_KEY });
    assert.equal(key.status, 200);
    assert.equal(decryptCallKey(key.body.encryptionKey, s.oracleKeys.privateKey), one.callKey);
    // and it still writes
    const two = await announceCall(s, user);
    const synced = await sync(first, two);
    assert.equal(synced.status, 200, JSON.stringify(synced.body));
    const fileAfter = readStoreFile(dataDir);
    const stored = new Map(fileAfter.calls.map((call) => [call.callId, call]));
    // The key fetch above marked the oracle's arrival; nothing else changed.
    const { agentArrivedAt, ...firstNow } = stored.get(one.callId) as unknown as Record<string, unknown>;
    assert.equal(typeof agentArrivedAt, 'string');
    assert.deepEqual(firstNow, fileBefore.calls[0], 'the first call is otherwise untouched');
    assert.equal(stored.get(two.callId)?.status, 'active');
    assert.equal(fileAfter.calls.length, 2);
    assert.equal(first.stderr(), '', 'the first backend wrote nothing to stderr');
    assert.doesNotMatch(first.stdout(), /"level":(50|60)/, 'the first backend logged no error');
  });

  describe('configuration refused at start', () => {
    // Refused at start, before any Matrix device is used: the stack's own settings will do.
    const base = (s: Stack): Record<string, string | undefined> => ({ ...s.env, LOG_LEVEL: 'info' });

    /** Runs the backend with a changed env; it must exit non-zero naming exactly `variable`. */
    async function refused(s: Stack, change: Record<string, string | undefined>, variable: string, dataDir?: string) {
      const run = await runBackendToExit({ ...base(s), ...change }, { ...(dataDir ? { dataDir } : {}), timeoutMs: 30_000 });
      assert.equal(run.signal, null);
      assert.equal(run.code, 1, `exit code; stderr: ${run.stderr}`);
      const lines = run.stderr.trimEnd().split('\n');
      assert.match(lines[0]!, /^oracle-call backend cannot start: Invalid configuration:$/, run.stderr);
      const problems = lines.slice(1).map((line) => line.trim());
      assert.equal(problems.length, 1, `one problem, for ${variable}: ${run.stderr}`);
      assert.ok(problems[0]!.startsWith(`${variable}: `), `the problem names ${variable}: ${problems[0]}`);
      assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
      assert.doesNotMatch(run.stdout, /backend listening/);
      return { ...run, problem: problems[0]! };
    }

    it('the unchanged configuration is valid (so each refusal below is for the one changed variable)', () => {
      const s = stack();
      assert.doesNotThrow(() => loadConfig({ ...base(s), DATA_DIR: tempDataDir() }));
    });

    it('refuses a missing AGENT_API_KEY', async () => {
      const run = await refused(stack(), { AGENT_API_KEY: undefined }, 'AGENT_API_KEY');
      assert.match(run.problem, /required/);
    });

    it('refuses a weak AGENT_API_KEY, without printing it', async () => {
      const weak = 'a'.repeat(40);
      const run = await refused(stack(), { AGENT_API_KEY: weak }, 'AGENT_API_KEY');
      assert.match(run.problem, /too weak/);
      assert.equal(run.stderr.includes(weak), false);
    });

    it('refuses a missing LIVEKIT_URL', async () => {
      const run = await refused(stack(), { LIVEKIT_URL: undefined }, 'LIVEKIT_URL');
      assert.match(run.problem, /required/);
    });

    it('refuses a DATA_DIR that cannot be a writable folder', async () => {
      const parent = tempDataDir();
      const file = path.join(parent, 'a-regular-file');
      writeFileSync(file, 'not a folder\n');
      const dataDir = path.join(file, 'data');
      const run = await refused(stack(), {}, 'DATA_DIR', dataDir);
      assert.ok(run.problem.includes(dataDir), run.problem);
      assert.equal(readFileSync(file, 'utf8'), 'not a folder\n', 'the file is left as it was');
      assert.ok(statSync(file).isFile());
      assert.equal(existsSync(path.join(parent, 'calls.json')), false);
    });
  });
});
