/** The worker's call slots (agent/call-slots.ts): the limit under a burst, and what LiveKit is told of it. */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { WorkerStatus } from '@livekit/protocol';
import type { WorkerMessage } from '@livekit/protocol';
import type { AgentServer, JobRequest } from '@livekit/agents';
import { CallSlots, FREE_SLOT_LOAD_CEILING, slotLoad } from '../../agent/call-slots.ts';

/** LiveKit's default `agents.target_load` (v1.13): a worker reporting this load or more is never asked for a job. */
const LIVEKIT_TARGET_LOAD = 0.7;

function job(id: string) {
  const answers: string[] = [];
  const request = { id, room: { name: `room-${id}` }, accept: async () => void answers.push('accept'), reject: async () => void answers.push('reject') };
  return { request: request as unknown as JobRequest, answers };
}

/** The parts of the framework's AgentServer the slots use: its running jobs and its channel to LiveKit. */
function fakeServer() {
  const server = { activeJobs: [] as { job: { id: string } }[], event: new EventEmitter() };
  const reports: { load: number; status: WorkerStatus | undefined }[] = [];
  server.event.on('worker_msg', (message: WorkerMessage) => {
    assert.equal(message.message.case, 'updateWorker');
    if (message.message.case === 'updateWorker') reports.push({ load: message.message.value.load, status: message.message.value.status });
  });
  return { server, asServer: server as unknown as AgentServer, reports };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("the worker's call slots", () => {
  it('a burst larger than the limit: only as many accepted as there are slots, before any job runs', async () => {
    const slots = new CallSlots(2, () => {});
    const burst = ['a', 'b', 'c', 'd'].map(job);
    await Promise.all(burst.map((j) => slots.request(j.request)));
    assert.deepEqual(
      burst.map((j) => j.answers[0]),
      ['accept', 'accept', 'reject', 'reject'],
    );
  });

  it('counts running jobs once, and frees a slot when a job ends', async () => {
    const slots = new CallSlots(2, () => {});
    const { server, asServer } = fakeServer();
    await slots.load(asServer);
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(job);
    await slots.request(a!.request);
    server.activeJobs.push({ job: { id: 'a' } });
    assert.equal(await slots.load(asServer), slotLoad(1, 2), 'a running job is not counted twice');
    await slots.request(b!.request);
    await slots.request(c!.request);
    assert.deepEqual([b!.answers[0], c!.answers[0]], ['accept', 'reject']);
    server.activeJobs.splice(0, 1);
    server.activeJobs.push({ job: { id: 'b' } });
    await slots.request(d!.request);
    assert.equal(d!.answers[0], 'accept', "a's slot is free again");
    slots.stop();
  });
});

describe('the load LiveKit is told', () => {
  it('stays under LiveKit’s target load while a slot is free, is 1 when none is, and grows with the slots in use', () => {
    for (let maxCalls = 1; maxCalls <= 16; maxCalls += 1) {
      let previous = -1;
      for (let inUse = 0; inUse < maxCalls; inUse += 1) {
        const load = slotLoad(inUse, maxCalls);
        assert.ok(load < LIVEKIT_TARGET_LOAD && load <= FREE_SLOT_LOAD_CEILING, `${inUse} of ${maxCalls}: ${load}`);
        assert.ok(load > previous, `${inUse} of ${maxCalls}: ${load} after ${previous}`);
        previous = load;
      }
      assert.equal(slotLoad(maxCalls, maxCalls), 1);
      assert.equal(slotLoad(maxCalls + 1, maxCalls), 1);
    }
  });

  it('a slot that frees is reported at once (not at the framework’s next report), and so is the last one taken', async () => {
    const slots = new CallSlots(2, () => {});
    const { server, asServer, reports } = fakeServer();
    server.activeJobs.push({ job: { id: 'a' } }, { job: { id: 'b' } });
    assert.equal(await slots.load(asServer), 1, 'both slots in use: full');

    // Both calls end (their job processes exit): one report, within a few watch periods.
    server.activeJobs.splice(0);
    const deadline = Date.now() + 1000;
    while (reports.length === 0 && Date.now() < deadline) await sleep(20);
    assert.deepEqual(reports, [{ load: 0, status: WorkerStatus.WS_AVAILABLE }]);
    await sleep(300);
    assert.equal(reports.length, 1, 'nothing more while nothing changes');

    // Two calls taken: the second makes the worker full, reported before the job is even accepted.
    const [c, d] = ['c', 'd'].map(job);
    await slots.request(c!.request);
    assert.deepEqual(reports.at(-1), { load: slotLoad(1, 2), status: WorkerStatus.WS_AVAILABLE });
    const accepted = slots.request(d!.request);
    assert.deepEqual(reports.at(-1), { load: 1, status: WorkerStatus.WS_FULL });
    await accepted;
    slots.stop();
  });

  it('reports nothing once stopped (the framework drains and says the worker is full)', async () => {
    const slots = new CallSlots(2, () => {});
    const { server, asServer, reports } = fakeServer();
    server.activeJobs.push({ job: { id: 'a' } });
    await slots.load(asServer);
    slots.stop();
    server.activeJobs.splice(0);
    await sleep(300);
    await slots.request(job('b').request);
    assert.deepEqual(reports, []);
  });
});
