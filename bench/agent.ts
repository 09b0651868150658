/**
 * `npm run bench:agent`: the oracle agent (the real agent worker process, echo brain) in real calls,
 * on loopback, against the real stack (Synapse, the LiveKit server and the backend, from
 * scripts/stack/stack.ts). The simulated people are `@livekit/rtc-node` participants in this process.
 *
 * 1. Dispatch: BENCH_CALLS calls, one after another. Each call is announced in Matrix and synced (the
 *    backend dispatches the agent during sync); measured from the sync answer to the moment the
 *    person's room has the oracle's voice track subscribed. Each call waits until the worker has a
 *    prewarmed idle job process (AGENT_IDLE_PROCESSES, the largest step by default): the warm case.
 * 2. Echo latency: in each of those calls the person speaks the test utterance; measured from the
 *    moment its last sample is sent to the first loud frame of the oracle's audio. The agent's own log
 *    line ("utterance heard", Silero's end of speech) splits it in two.
 * 3. CPU and memory per concurrent call: BENCH_STEPS concurrent calls (8 added at once, then 7 hung up:
 *    "8,1"; "1,2,4,6,8" adds them in steps), each person speaking the utterance every
 *    BENCH_SPEAK_PERIOD_MS (staggered), BENCH_STEP_SECONDS measured per step. CPU time and resident
 *    memory (RSS and PSS) of the agent worker's process tree from /proc, CPU of this process (the
 *    simulated people and the backend), the LiveKit server, Synapse and the whole machine. Each echo is
 *    checked for dropouts (quiet runs of BENCH_DROPOUT_MS or more inside it). The join time of each
 *    call of a step added at once is printed (goal: 2 s each). Stops adding calls once underruns appear
 *    or the machine's CPU is saturated.
 * 4. The bare echo (bench/lib/bare-echo.ts): the same steps with the same simulated people, each in a
 *    room with a bare rtc-node participant in a child process of its own that republishes what it
 *    hears; its CPU per added call is the baseline for the agent's (goal: the agent's at most 1.5 times).
 *    Then the same with a bare echo process per call, as the agent runs its calls: the process model's
 *    share of the gap.
 *
 * BENCH_KEEP_GOING=1 runs every step regardless (for a diagnosis on a quiet machine).
 *
 * Bounded: about 5 minutes; a watchdog stops the run after 480 s. Exits 0 when the run completed,
 * 1 when a call without load failed to connect (no oracle voice track in 45 s: step 1, or 1 call in
 * step 3) or the run failed, 2 on the watchdog. A call that gets no oracle when added under load ends
 * the steps and is reported, as underruns are. The agent's whole log is left in the temp folder.
 */
import './lib/agent-quiet.ts';
import { readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import os from 'node:os';
import type { Room } from '@livekit/rtc-node';
import type { CallType } from '../protocol/index.ts';
import { startAgent } from '../scripts/stack/agent-process.ts';
import type { AgentProcess } from '../scripts/stack/agent-process.ts';
import { announceCall, startStack, stopStack, syncCall } from '../scripts/stack/stack.ts';
import type { Stack, TestUser } from '../scripts/stack/stack.ts';
import { closeRtc } from '../scripts/stack/participants.ts';
import { EchoListener, Speaker, joinAndWaitForOracle, utteranceSeconds, voiceEndSeconds } from './lib/agent-call.ts';
import type { Echo, Spoken } from './lib/agent-call.ts';
import { processCpu, sampleMachine, sampleTree } from './lib/agent-cpu.ts';
import { runBareEcho } from './lib/bare-echo-run.ts';
import type { BareStep } from './lib/bare-echo-run.ts';
import { treeMemory } from './lib/proc-memory.ts';
import type { Memory } from './lib/proc-memory.ts';
import { AgentLog } from './lib/agent-log.ts';
import { fixed, table } from './lib/table.ts';
import { setting } from './lib/settings.ts';
import { RUN_START, elapsed, guardRun, progress, timed } from './lib/run.ts';
import { percentile } from './lib/stats.ts';

const CALLS = setting('BENCH_CALLS', 10, 1, 50);
const STEPS = (process.env.BENCH_STEPS ?? '8,1').split(',').map((step) => {
  const n = Number(step.trim());
  if (!Number.isInteger(n) || n < 1 || n > 16) throw new Error(`BENCH_STEPS: "${step}" is not a whole number from 1 to 16`);
  return n;
});
if (STEPS.some((n, i) => i > 0 && n === STEPS[i - 1]!)) throw new Error('BENCH_STEPS: two steps in a row with the same number of calls');
const STEP_SECONDS = setting('BENCH_STEP_SECONDS', 15, 5, 60);
const SETTLE_SECONDS = setting('BENCH_SETTLE_SECONDS', 2, 0, 30);
const SPEAK_PERIOD_MS = setting('BENCH_SPEAK_PERIOD_MS', 5000, 4800, 30_000);
const LOUD_RMS = setting('BENCH_LOUD_RMS', 500, 50, 20_000);
const DROPOUT_MS = setting('BENCH_DROPOUT_MS', 60, 20, 600);
// At least 1: the agents framework (1.9) reads numIdleProcesses with `||`, so 0 silently becomes its
// production default, min(cores, 4) — there is no cold case to ask for. By default as many as the
// largest step, so that its calls, added at once, all find a warm job process.
const IDLE_PROCESSES = setting('AGENT_IDLE_PROCESSES', Math.max(...STEPS), 1, 16);
/** The goal for each call of a step added at once: sync answered -> oracle voice track subscribed. */
const BURST_JOIN_GOAL_MS = 2000;
/** BENCH_KEEP_GOING=1: run every step even after underruns or saturation (a diagnosis, not the benchmark's answer). */
const KEEP_GOING = process.env.BENCH_KEEP_GOING === '1';
const CALL_TYPE = (process.env.BENCH_CALL_TYPE ?? 'audio') as CallType;
if (CALL_TYPE !== 'audio' && CALL_TYPE !== 'video') throw new Error('BENCH_CALL_TYPE must be audio or video');

const CORES = os.availableParallelism();
const UTTERANCE_MS = utteranceSeconds() * 1000;
/** A call whose oracle voice track is not there by then failed to connect. */
const JOIN_TIMEOUT_MS = 45_000;
/** No loud audio this long after an utterance: its echo is missing. */
const MISSING_AFTER_MS = 4000;
/** A quiet run this long ends an echo. */
const END_QUIET_MS = 700;
/** An echo shorter than this (the utterance is ~3.5 s) was cut short or split by a long gap. */
const SHORT_ECHO_MS = 3000;
/**
 * Holes in the first part of an echo are not counted as underruns: the echo brain replays Silero's
 * END_OF_SPEECH frame, whose first 0.5 s (the prefix padding) the VAD has already overwritten with the
 * last 0.5 s of the buffer by then (see the README), so every echo starts with a copy of the
 * utterance's ending and a hole that the audio path did not cause.
 */
const PREFIX_ARTIFACT_MS = 600;
/** After a step's window, how long the calls go on (same load) for the last utterances' echoes to end. */
const ECHO_TAIL_MS = 7000;
/** Machine CPU at or above this share of all cores: saturated. */
const SATURATED_SHARE = 0.9;
const WATCHDOG_MS = KEEP_GOING ? 600_000 : 480_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)))]).finally(() => clearTimeout(timer));
}

/** The lower middle value (nearest rank), as this benchmark has always reported it. */
const median = (values: readonly number[]) => percentile(values, 50);
const max = (values: readonly number[]) => (values.length === 0 ? Number.NaN : Math.max(...values));
const ms = (value: number) => fixed(value, 0);

// Everything the clean-up must stop.
let stack: Stack | undefined;
let agent: AgentProcess | undefined;
const rooms: Room[] = [];
const speakers: Speaker[] = [];
const listeners: EchoListener[] = [];
const loops: Promise<void>[] = [];
let speaking = true;
let agentPids: number[] = [];
let cleaning: Promise<void> | undefined;

function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    speaking = false;
    await Promise.all(loops.map((loop) => withTimeout(loop, 6000)));
    await Promise.all(speakers.map((speaker) => speaker.stop()));
    await Promise.all(listeners.map((listener) => listener.stop()));
    // The people leave first, so the worker has no call left to drain when it is told to stop.
    await Promise.all(rooms.map((room) => room.disconnect().catch(() => {})));
    if (agent) {
      agentPids = sampleTree(agent.child.pid!).processes.map((p) => p.pid);
      await agent.stop();
      // The agent's whole log (worker and job processes), for a closer look at anything odd above.
      const file = path.join(os.tmpdir(), `oracle-call-bench-agent-${Date.now()}.log`);
      await writeFile(file, `${agent.output.join('\n')}\n`).then(
        () => progress(`agent log: ${file}`),
        () => {},
      );
      // Job processes the worker left behind (it is killed if it does not stop within 10 s).
      await sleep(500);
      for (const pid of agentPids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    await closeRtc(rooms);
    const dataDir = stack?.env.DATA_DIR;
    await stopStack(stack);
    if (dataDir) await rm(dataDir, { recursive: true, force: true }).catch(() => {});
  })();
  return cleaning;
}

guardRun({ stopping: 'the agent, the calls and the stack', watchdogMs: WATCHDOG_MS, graceMs: 20_000, cleanUp });

type User = TestUser & { roomId: string };

interface LiveCall {
  readonly index: number;
  readonly callId: string;
  readonly room: Room;
  readonly speaker: Speaker;
  readonly listener: EchoListener;
  readonly syncedAt: number;
  readonly joinMs: number;
  readonly oracleSeenMs: number;
  /** (1): sync answered → the oracle's voice track subscribed in the person's room. */
  readonly dispatchMs: number;
  /** Each utterance said in the call. */
  readonly utterances: Spoken[];
  /** Hung up by a step with fewer calls: its person stops speaking. */
  hungUp: boolean;
}

async function openCall(s: Stack, user: User, index: number): Promise<LiveCall> {
  const call = await announceCall(s, user, { callType: CALL_TYPE });
  const synced = await syncCall(s, user, call);
  const syncedAt = performance.now();
  if (synced.status !== 200) throw new Error(`sync answered ${synced.status} ${JSON.stringify(synced.body)}`);
  const joined = await joinAndWaitForOracle(synced.body.livekit.url, synced.body.livekit.token, call.callKey, (room) => rooms.push(room), JOIN_TIMEOUT_MS);
  const listener = new EchoListener(joined.track, { loudRms: LOUD_RMS, dropoutMs: DROPOUT_MS, endQuietMs: END_QUIET_MS });
  listeners.push(listener);
  // Each person's utterance carries its own marker tone (as the tests do), 700 Hz, 800 Hz, …
  const speaker = await Speaker.start(joined.room, 700 + 100 * (index % 16));
  speakers.push(speaker);
  return {
    index,
    callId: call.callId,
    room: joined.room,
    speaker,
    listener,
    syncedAt,
    joinMs: joined.joinedAt - syncedAt,
    oracleSeenMs: joined.oracleSeenAt - syncedAt,
    dispatchMs: joined.subscribedAt - syncedAt,
    utterances: [],
    hungUp: false,
  };
}

async function hangUp(call: LiveCall): Promise<void> {
  call.hungUp = true;
  await call.speaker.stop();
  await call.listener.stop();
  await call.room.disconnect().catch(() => {});
}

interface Judgement {
  readonly missing: boolean;
  readonly latencyMs?: number;
  readonly spanMs?: number;
  /** Dropouts after the prefix region: underruns. */
  readonly dropouts: readonly number[];
  /** Holes in the prefix region (the VAD buffer artifact), not counted. */
  readonly artifacts: number;
  readonly short: boolean;
}

/** The echo of the utterance whose last sample was sent at `spokenAt`, and what is wrong with it. */
function judge(listener: EchoListener, spokenAt: number): Judgement {
  const echo: Echo | undefined = listener.echoes.find((e) => e.startAt > spokenAt - 100 && e.startAt < spokenAt + MISSING_AFTER_MS);
  if (!echo) return { missing: true, dropouts: [], artifacts: 0, short: false };
  const dropouts = echo.dropouts.filter((_, i) => echo.dropoutOffsets[i]! >= PREFIX_ARTIFACT_MS);
  return {
    missing: false,
    latencyMs: echo.startAt - spokenAt,
    spanMs: echo.spanMs,
    dropouts,
    artifacts: echo.dropouts.length - dropouts.length,
    short: !echo.open && echo.spanMs < SHORT_ECHO_MS,
  };
}

interface CpuSnapshot {
  readonly at: number;
  readonly agent: number;
  readonly agentProcesses: number;
  /** Each process of the agent's tree: its own CPU seconds so far. */
  readonly perProcess: ReadonlyMap<number, number>;
  readonly self: number;
  readonly livekit: number;
  readonly synapse: number;
  readonly machineBusy: number;
  readonly machineAll: number;
}

/**
 * CPU seconds per second of the calls themselves: the job processes holding a call through the whole
 * window, plus the worker and its inference process (whatever they spend on the calls). Job processes
 * warming up for the next calls (the pool refilling after a burst, about 1.5 CPU-s each) are left out.
 */
function callsCpu(a: CpuSnapshot, b: CpuSnapshot, agentPid: number, callPids: readonly number[]): number {
  const seconds = (b.at - a.at) / 1000;
  const delta = (pid: number) => (b.perProcess.get(pid) ?? Number.NaN) - (a.perProcess.get(pid) ?? Number.NaN);
  // The worker's direct children that never took a job and were there before: the inference process.
  const shared = [
    agentPid,
    ...[...a.perProcess.keys()].filter((pid) => pid !== agentPid && b.perProcess.has(pid) && !callPids.includes(pid) && isInference(pid)),
  ];
  const calls = callPids.filter((pid) => a.perProcess.has(pid) && b.perProcess.has(pid));
  return [...shared, ...calls].reduce((sum, pid) => sum + delta(pid), 0) / seconds;
}

function isInference(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('inference_proc');
  } catch {
    return false;
  }
}

function cpuSnapshot(s: Stack, agentPid: number): CpuSnapshot {
  const tree = sampleTree(agentPid);
  const machine = sampleMachine();
  return {
    at: performance.now(),
    agent: tree.total,
    agentProcesses: tree.processes.length,
    perProcess: new Map(tree.processes.map((p) => [p.pid, p.cpu])),
    self: processCpu(process.pid),
    livekit: processCpu(s.livekit.process.child.pid!),
    synapse: processCpu(s.synapse.process.child.pid!),
    machineBusy: machine.busy,
    machineAll: machine.all,
  };
}

interface CpuRates {
  readonly seconds: number;
  readonly agent: number;
  readonly self: number;
  readonly livekit: number;
  readonly synapse: number;
  /** Busy cores, over the whole machine. */
  readonly machine: number;
  /** The machine's busy cores not accounted for by the four above: other people's work. */
  readonly other: number;
}

function rates(a: CpuSnapshot, b: CpuSnapshot): CpuRates {
  const seconds = (b.at - a.at) / 1000;
  const agentRate = (b.agent - a.agent) / seconds;
  const self = (b.self - a.self) / seconds;
  const livekit = (b.livekit - a.livekit) / seconds;
  const synapse = (b.synapse - a.synapse) / seconds;
  const machine = ((b.machineBusy - a.machineBusy) / (b.machineAll - a.machineAll)) * CORES;
  return { seconds, agent: agentRate, self, livekit, synapse, machine, other: Math.max(0, machine - agentRate - self - livekit - synapse) };
}

interface StepResult {
  readonly n: number;
  readonly cpu: CpuRates;
  /** CPU s/s of the calls alone (see callsCpu): the agent's figure per call. */
  readonly callsCpu: number;
  readonly agentProcesses: number;
  /** The agent's process tree at the end of the window (its warm idle job processes included). */
  readonly memory: Memory;
  /** The job processes holding a call then, and their mean memory: what each added call costs. */
  readonly callProcesses: number;
  readonly callProcessMemory: Memory;
  /** Warm idle job processes then. */
  readonly idleProcesses: number;
  readonly newCallsDispatchMs: readonly number[];
  /** Filled in by judgeStep at the end of the window. */
  judged: number;
  missing: number;
  dropouts: number[];
  short: number;
  artifacts: number;
  latencies: number[];
  spans: number[];
  /** Judged utterances during which the person's own audio ran dry (this process was late). */
  dry: number;
  stalls: { notScheduled: number; loopBlocked: number; vadSlow: number; prewarmTimeouts: number };
  readonly window: readonly [number, number];
}

/** Whether the echo of every utterance sent in the window can be judged yet (ended, or overdue). */
function echoesSettled(calls: readonly LiveCall[], [from, to]: readonly [number, number]): boolean {
  const now = performance.now();
  return calls.every((call) =>
    call.utterances.every(({ sentAt }) => {
      if (sentAt < from || sentAt > to) return true;
      const echo = call.listener.echoes.find((e) => e.startAt > sentAt - 100 && e.startAt < sentAt + MISSING_AFTER_MS);
      return echo ? !echo.open : now > sentAt + MISSING_AFTER_MS;
    }),
  );
}

/** One stderr line per bad echo: what the person received around it and what the oracle logged hearing. */
function describe(call: LiveCall, spokenAt: number, log: AgentLog, verdict: Judgement): string {
  const rel = (at: number) => `${at - spokenAt >= 0 ? '+' : ''}${ms(at - spokenAt)}`;
  const near = call.listener.echoes.filter((e) => e.startAt > spokenAt - 6000 && e.startAt < spokenAt + 6000);
  const heard = log.heardBetween(call.callId, spokenAt - 6000, spokenAt + 6000);
  const what = verdict.missing ? 'missing' : `${verdict.dropouts.map((d) => `${ms(d)} ms dropout`).join(', ')}${verdict.short ? ' short' : ''}`;
  return (
    `call ${call.index + 1}, utterance sent at ${fixed((spokenAt - RUN_START) / 1000, 1)}s: ${what}; echoes received at ` +
    `${near.map((e) => `${rel(e.startAt)} ms (${ms(e.spanMs)} ms long${e.dropouts.length ? `, holes ${e.dropouts.map((d, i) => `${ms(d)}@${ms(e.dropoutOffsets[i]!)}`).join(' ')}` : ''})`).join('; ') || 'none'}; ` +
    `oracle heard ${heard.map((h) => `${rel(h.at)} ms (${ms(h.speechMs)} ms of speech)`).join('; ') || 'nothing'}`
  );
}

/** Judges the echoes of the utterances sent in the step's window. */
function judgeStep(step: StepResult, calls: readonly LiveCall[], log: AgentLog): void {
  const [from, to] = step.window;
  for (const call of calls) {
    for (const { sentAt: spokenAt, starved } of call.utterances) {
      if (spokenAt < from || spokenAt > to) continue;
      const verdict = judge(call.listener, spokenAt);
      step.judged += 1;
      if (starved > 0) step.dry += 1;
      if (verdict.missing || verdict.short || verdict.dropouts.length > 0)
        progress(`  ${describe(call, spokenAt, log, verdict)}${starved > 0 ? ' (its own audio ran dry)' : ''}`);
      if (verdict.missing) {
        step.missing += 1;
        continue;
      }
      step.latencies.push(verdict.latencyMs!);
      step.spans.push(verdict.spanMs!);
      step.dropouts.push(...verdict.dropouts);
      step.artifacts += verdict.artifacts;
      if (verdict.short) step.short += 1;
    }
  }
}

/** Waits until the agent's process tree has had the same processes for 2 s (job processes of ended calls gone). */
async function settledTree(agentPid: number, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = '';
  let since = performance.now();
  while (performance.now() < deadline) {
    const now = sampleTree(agentPid)
      .processes.map((p) => p.pid)
      .join(',');
    if (now !== last) {
      last = now;
      since = performance.now();
    } else if (performance.now() - since >= 2000) return;
    await sleep(250);
  }
}

const underrunsIn = (step: StepResult) => step.missing + step.dropouts.length + step.short;

async function main(): Promise<boolean> {
  progress(
    `agent benchmark: ${CALLS} sequential calls, then ${STEPS.join('/')} concurrent ${CALL_TYPE} calls for ${STEP_SECONDS} s each ` +
      `(utterance of ${fixed(UTTERANCE_MS / 1000, 2)} s every ${SPEAK_PERIOD_MS / 1000} s per person); ${CORES} cores, load average ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
  );
  stack = await timed('stack up (Synapse, LiveKit server, backend)', () => startStack({ LOG_LEVEL: 'warn' }));
  const s = stack;
  // The worker may take as many calls as the largest step: the run measures where calls break down,
  // not where the worker's default limit (AGENT_MAX_CALLS) would stop taking them.
  const callLimit = String(Math.max(...STEPS));
  agent = await timed(`agent worker registered (AGENT_IDLE_PROCESSES=${IDLE_PROCESSES}, AGENT_MAX_CALLS=${callLimit})`, () =>
    startAgent(s, { AGENT_IDLE_PROCESSES: String(IDLE_PROCESSES), AGENT_MAX_CALLS: callLimit }),
  );
  const agentPid = agent.child.pid!;
  const log = new AgentLog(agent);
  const maxCalls = Math.max(...STEPS);
  const users = await timed(`${maxCalls} people signed in (real OpenID exchanges)`, async () => {
    const list: User[] = [];
    for (let i = 0; i < maxCalls; i += 4) list.push(...(await Promise.all(Array.from({ length: Math.min(4, maxCalls - i) }, () => s.newUser()))));
    return list;
  });

  // The idle worker: the worker, its inference process (if any) and the prewarmed job process(es).
  if (!(await log.waitIdleReady(60_000, IDLE_PROCESSES))) progress(`warning: only ${log.idleCount()} of ${IDLE_PROCESSES} job processes warm after 60 s`);
  // A few seconds after the prewarm, so its tail (JIT, GC) is not counted as idle.
  await sleep(3000);
  const idleFrom = cpuSnapshot(s, agentPid);
  await sleep(4000);
  const idle = rates(idleFrom, cpuSnapshot(s, agentPid));
  const idleTree = sampleTree(agentPid);
  progress(
    `idle agent: ${fixed(idle.agent, 3)} CPU s/s over ${idleTree.processes.length} processes ` +
      `(${idleTree.processes.map((p) => `pid ${p.pid}${p.pid === agentPid ? ' worker' : ''}`).join(', ')}); machine busy ${fixed(idle.machine, 2)} cores`,
  );

  // ---- 1 and 2: calls one after another ----
  interface Sequential {
    warm: boolean;
    dispatchMs?: number;
    joinMs?: number;
    oracleSeenMs?: number;
    heardMs?: number;
    firstLoudMs?: number;
    utteranceMs?: number;
    queuedMs?: number;
    error?: string;
  }
  const sequential: Sequential[] = [];
  for (let i = 0; i < CALLS; i += 1) {
    const warm = await log.waitIdleReady(20_000);
    const result: Sequential = { warm };
    sequential.push(result);
    let call: LiveCall | undefined;
    try {
      call = await openCall(s, users[i % users.length]!, i);
      Object.assign(result, { dispatchMs: call.dispatchMs, joinMs: call.joinMs, oracleSeenMs: call.oracleSeenMs });
      const spokenAt = (await call.speaker.say()).sentAt;
      result.queuedMs = call.speaker.queuedAtEnd.at(-1);
      const loud = await withTimeout(call.listener.firstLoudAfter(spokenAt), 8000);
      if (loud !== undefined) result.firstLoudMs = loud - spokenAt;
      const heard = await log.heardAfter(call.callId, spokenAt, 3000);
      if (heard !== undefined) result.heardMs = heard - spokenAt;
      if (loud !== undefined) {
        // Where the echoed utterance itself begins: after the prefix-region hole (see PREFIX_ARTIFACT_MS).
        await sleep(Math.max(0, loud + PREFIX_ARTIFACT_MS + 300 - performance.now()));
        const echo = call.listener.echoes.find((e) => e.startAt === loud);
        const hole = echo?.dropoutOffsets.findIndex((offset) => offset < PREFIX_ARTIFACT_MS) ?? -1;
        result.utteranceMs = echo && hole >= 0 ? echo.startAt + echo.dropoutOffsets[hole]! + echo.dropouts[hole]! - spokenAt : result.firstLoudMs;
      }
      progress(
        `call ${i + 1}/${CALLS} (${warm ? 'warm' : 'no idle process ready'}): oracle voice track ${ms(call.dispatchMs)} ms after sync; ` +
          `first echo ${loud === undefined ? 'NOT HEARD within 8 s' : `${ms(result.firstLoudMs!)} ms`} after the utterance was sent` +
          (result.heardMs !== undefined ? ` (VAD end of speech at +${ms(result.heardMs)} ms)` : ''),
      );
    } catch (error) {
      result.error = (error as Error).message;
      progress(`call ${i + 1}/${CALLS} FAILED: ${result.error}`);
    } finally {
      if (call) await hangUp(call);
    }
  }
  const connected = sequential.filter((r) => r.dispatchMs !== undefined);

  // ---- 3: concurrent calls, in steps ----
  const live: LiveCall[] = [];
  const steps: StepResult[] = [];
  const scheduleBase = performance.now();
  /** Calls that did not connect in the steps; at 1 call that fails the run, under load it is a finding. */
  let connectFailures = 0;
  let connectFailuresAlone = 0;
  /** CPU while the calls of a step were added at once (the whole burst, from the first sync to the last subscription). */
  let burstLoad: CpuRates | undefined;
  let burstCalls = Number.NaN;
  let stopReason = KEEP_GOING ? `BENCH_KEEP_GOING=1, every step run` : `reached ${maxCalls} calls`;

  const speakLoop = async (call: LiveCall) => {
    // Staggered: person i speaks at base + i·period/maxCalls + k·period.
    let next = scheduleBase + (((call.index * SPEAK_PERIOD_MS) / maxCalls) % SPEAK_PERIOD_MS);
    while (next < performance.now() + 300) next += SPEAK_PERIOD_MS;
    while (speaking && !call.hungUp) {
      await sleep(next - performance.now());
      if (!speaking || call.hungUp) break;
      call.utterances.push(await call.speaker.say());
      next += SPEAK_PERIOD_MS;
      while (next < performance.now()) next += SPEAK_PERIOD_MS;
    }
  };

  for (const [stepIndex, n] of STEPS.entries()) {
    // A step with fewer calls hangs up the latest ones; their job processes end.
    const hangingUp = live.splice(n);
    if (hangingUp.length > 0) {
      await timed(`${hangingUp.length} call(s) hung up (${n} left)`, async () => {
        await Promise.all(hangingUp.map(hangUp));
        await settledTree(agentPid, 20_000);
      });
    }
    // The jobs of calls hung up before hold their call slots until their processes have ended.
    if (!(await log.waitRunningAtMost(live.length, 20_000))) progress(`${log.runningJobs()} jobs still running for ${live.length} calls after 20 s`);
    // A burst finds every warm job process the worker keeps (AGENT_IDLE_PROCESSES).
    if (n > live.length && !(await log.waitIdleReady(60_000, IDLE_PROCESSES))) {
      progress(`only ${log.idleCount()} of ${IDLE_PROCESSES} job processes warm after 60 s; adding the calls anyway`);
    }
    const stepStart = performance.now();
    const beforeAdding = cpuSnapshot(s, agentPid);
    const adding = n - live.length;
    const first = live.length;
    const opened = await timed(`${adding} call${adding === 1 ? '' : 's'} added at once (${n} in all)`, () =>
      Promise.allSettled(Array.from({ length: adding }, (_, k) => openCall(s, users[first + k]!, first + k))),
    );
    const added: LiveCall[] = [];
    for (const outcome of opened) {
      if (outcome.status === 'fulfilled') added.push(outcome.value);
      else {
        connectFailures += 1;
        if (n === 1) connectFailuresAlone += 1;
        progress(`a call FAILED to connect: ${(outcome.reason as Error).message}`);
      }
    }
    live.push(...added);
    for (const call of added) loops.push(speakLoop(call));
    if (adding > 1) {
      const joins = added.map((call) => call.dispatchMs).sort((a, b) => a - b);
      const afterAdding = cpuSnapshot(s, agentPid);
      const during = rates(beforeAdding, afterAdding);
      // The warm processes that took the calls existed before as idle ones: their CPU is the joins'.
      burstCalls = callsCpu(beforeAdding, afterAdding, agentPid, log.runningJobPids());
      burstLoad = during;
      progress(
        `${adding} calls added at once: sync answered -> oracle voice track ${joins.map((j) => fixed(j / 1000, 2)).join(', ')} s ` +
          `(${joins.filter((j) => j <= BURST_JOIN_GOAL_MS).length}/${adding} within ${BURST_JOIN_GOAL_MS / 1000} s); meanwhile the machine had ` +
          `${fixed(during.machine, 2)} of ${CORES} cores busy (agent ${fixed(during.agent, 2)}: the joining calls with the worker ${fixed(burstCalls, 2)}, the pool's warm-ups ${fixed(during.agent - burstCalls, 2)}; this process ${fixed(during.self, 2)}, other work ${fixed(during.other, 2)})`,
      );
    }
    if (added.length < adding) {
      stopReason = `${adding - added.length} call(s) added at ${n} calls got no oracle within ${JOIN_TIMEOUT_MS / 1000} s`;
      break;
    }
    // Let the worker prewarm its idle processes again (about 1.5 CPU-s each, one at a time) before measuring.
    if (!(await log.waitIdleReady(60_000, IDLE_PROCESSES)))
      progress(`only ${log.idleCount()} of ${IDLE_PROCESSES} job processes warm after 60 s; measuring anyway`);
    await sleep(SETTLE_SECONDS * 1000);

    const from = cpuSnapshot(s, agentPid);
    await sleep(STEP_SECONDS * 1000);
    const to = cpuSnapshot(s, agentPid);
    const memory = treeMemory(sampleTree(agentPid).processes.map((p) => p.pid));
    const callPids = log.runningJobPids();
    const callMemory = treeMemory(callPids);
    const perCall = (mb: number) => mb / Math.max(1, callPids.length);
    const callProcessMemory = { rssMb: perCall(callMemory.rssMb), pssMb: perCall(callMemory.pssMb), ussMb: perCall(callMemory.ussMb) };
    const stalls = log.stallsBetween(from.at, to.at);
    // The calls go on, at the same load, until the echoes of the window's last utterances have ended.
    const tailEnd = performance.now() + ECHO_TAIL_MS;
    while (!echoesSettled(live, [from.at, to.at]) && performance.now() < tailEnd) await sleep(100);
    const step: StepResult = {
      n,
      cpu: rates(from, to),
      callsCpu: callsCpu(from, to, agentPid, callPids),
      agentProcesses: to.agentProcesses,
      memory,
      callProcesses: callPids.length,
      callProcessMemory,
      idleProcesses: log.idleCount(),
      newCallsDispatchMs: added.map((call) => call.dispatchMs),
      judged: 0,
      missing: 0,
      dropouts: [],
      short: 0,
      artifacts: 0,
      latencies: [],
      spans: [],
      dry: 0,
      stalls: {
        notScheduled: stalls.filter((x) => x.kind === 'not scheduled').length,
        loopBlocked: stalls.filter((x) => x.kind === 'loop blocked').length,
        vadSlow: stalls.filter((x) => x.kind === 'vad slow').length,
        prewarmTimeouts: log.stallsBetween(stepStart, to.at).filter((x) => x.kind === 'prewarm timeout').length,
      },
      window: [from.at, to.at],
    };
    steps.push(step);
    judgeStep(step, live, log);
    const saturated = step.cpu.machine >= SATURATED_SHARE * CORES;
    progress(
      `${n} call${n === 1 ? '' : 's'}: agent ${fixed(step.cpu.agent, 2)} CPU s/s (${fixed(step.cpu.agent / n, 3)} per call; the calls alone ${fixed(step.callsCpu, 3)}), ` +
        `this process ${fixed(step.cpu.self, 2)}, LiveKit ${fixed(step.cpu.livekit, 2)}, machine ${fixed(step.cpu.machine, 2)}/${CORES} cores; ` +
        `${step.judged} echoes judged: ${step.missing} missing, ${step.dropouts.length} dropouts, ${step.short} short`,
    );
    // Underruns or saturation end the run only where it would add calls next.
    if (KEEP_GOING || (STEPS[stepIndex + 1] ?? 0) < n) continue;
    if (underrunsIn(step) > 0) {
      stopReason = `underruns at ${n} calls`;
      break;
    }
    if (saturated) {
      stopReason = `machine CPU saturated at ${n} calls (${fixed(step.cpu.machine, 2)} of ${CORES} cores busy, ${fixed(step.cpu.other, 2)} of them by other work)`;
      break;
    }
  }
  speaking = false;
  await timed('the calls hung up', async () => {
    await Promise.all(live.splice(0).map(hangUp));
    await settledTree(agentPid, 20_000);
  });

  // ---- 4: the bare echo, the same steps ----
  // In increasing order: an rtc-node process that left rooms goes on spending CPU for a while (measured:
  // the bare echo's 1 call after 8 cost up to twice its 1 call before), which would skew the slope.
  const stepsRun = [...new Set(steps.map((step) => step.n))].sort((a, b) => a - b);
  let bare: BareStep[] = [];
  // The same bare echo with a process per call, as the agent runs its calls: how much of the agent's
  // CPU per call is that model (each process its own rtc-node runtime and Node), not the framework.
  let bareEach: BareStep[] = [];
  if (stepsRun.length > 0) {
    const bareOptions = {
      steps: stepsRun,
      stepSeconds: STEP_SECONDS,
      settleSeconds: SETTLE_SECONDS,
      speakPeriodMs: SPEAK_PERIOD_MS,
      listener: { loudRms: LOUD_RMS, dropoutMs: DROPOUT_MS, endQuietMs: END_QUIET_MS },
      progress,
    };
    bare = await timed(`bare echo participant, steps ${stepsRun.join('/')}`, () => runBareEcho(s, bareOptions));
    bareEach = await timed(`bare echo participant, a process per call, steps ${stepsRun.join('/')}`, () =>
      runBareEcho(s, { ...bareOptions, processPerCall: true }),
    );
  }

  // ---- report ----
  const pick = (key: keyof Sequential) => connected.map((r) => r[key] as number | undefined).filter((v): v is number => v !== undefined);
  const latencyRow = (name: string, values: number[]) => [name, ms(median(values)), ms(max(values)), String(values.length)];
  const warmCount = sequential.filter((r) => r.warm).length;
  const n1 = steps.find((step) => step.n === 1);
  // The steps without underruns (the steps need not increase: the default adds 8 at once, then hangs up 7).
  const clean = steps.filter((step) => underrunsIn(step) === 0);
  const largestClean = clean.length > 0 ? Math.max(...clean.map((step) => step.n)) : 0;
  const firstBad = steps.find((step) => underrunsIn(step) > 0);
  /** The step with the most calls and no underruns. */
  const top = clean.find((step) => step.n === largestClean);
  /** The step with the most calls, clean or not: the per-added-call figures span it and the 1-call step. */
  const most = steps.reduce<StepResult | undefined>((a, b) => (a && a.n >= b.n ? a : b), undefined);
  const baseline = idle.agent;
  const bare1 = bare.find((step) => step.n === 1);
  const bareMost = most ? bare.find((step) => step.n === most.n) : undefined;
  const span = n1 && most && most.n > 1 ? most.n - 1 : 0;
  const agentPerCall = span ? (most!.callsCpu - n1!.callsCpu) / span : Number.NaN;
  const barePerCall = span && bare1 && bareMost ? (bareMost.cpu - bare1.cpu) / span : Number.NaN;
  const bareEach1 = bareEach.find((step) => step.n === 1);
  const bareEachMost = most ? bareEach.find((step) => step.n === most.n) : undefined;
  const bareEachPerCall = span && bareEach1 && bareEachMost ? (bareEachMost.cpu - bareEach1.cpu) / span : Number.NaN;
  const treePerCall = (key: keyof Memory) => (span ? (most!.memory[key] - n1!.memory[key]) / span : Number.NaN);
  const burst = steps.find((step) => step.newCallsDispatchMs.length > 1);

  const stepRows = steps.map((step) => [
    String(step.n),
    fixed(step.cpu.agent, 2),
    fixed(step.cpu.agent / step.n, 3),
    fixed((step.cpu.agent - baseline) / step.n, 3),
    fixed(step.cpu.self, 2),
    fixed(step.cpu.livekit, 2),
    fixed(step.cpu.synapse, 2),
    fixed(step.cpu.machine, 2),
    fixed(step.cpu.other, 2),
    String(step.judged),
    `${step.missing}/${step.dropouts.length}/${step.short}`,
    ms(max(step.dropouts)),
    String(step.dry),
    ms(median(step.latencies)),
    ms(max(step.latencies)),
    `${step.stalls.notScheduled}/${step.stalls.loopBlocked}/${step.stalls.vadSlow}/${step.stalls.prewarmTimeouts}`,
    ms(max([...step.newCallsDispatchMs])),
  ]);

  const out = [
    '',
    `Agent benchmark: loopback, real LiveKit server, backend, Synapse and agent worker (echo brain, ${CALL_TYPE} calls, ` +
      `AGENT_IDLE_PROCESSES=${IDLE_PROCESSES}); ${CORES} cores; node ${process.version}`,
    '',
    `1-2. ${CALLS} calls one after another (${connected.length} connected); ${warmCount}/${CALLS} found a prewarmed idle job process ` +
      '(the warm case). Milliseconds:',
    '',
    table(
      ['measure', 'p50', 'max', 'n'],
      [
        latencyRow('sync answered -> person joined the room', pick('joinMs')),
        latencyRow('sync answered -> oracle in the room', pick('oracleSeenMs')),
        latencyRow('sync answered -> oracle voice track subscribed (1)', pick('dispatchMs')),
        latencyRow('utterance sent -> oracle heard it (VAD end of speech, agent log)', pick('heardMs')),
        latencyRow('utterance sent -> first loud echo frame at the person (2)', pick('firstLoudMs')),
        latencyRow('utterance sent -> the echoed utterance itself begins', pick('utteranceMs')),
      ],
    ),
    '',
    `  "utterance sent" is when its last sample left the person's audio source. speakUtterance's \`spoken\` comes when the last frame is`,
    `  handed to the source, which still held ${ms(median(pick('queuedMs')))} ms (p50) of queued audio then: measured from there, (2) would read that much longer.`,
    `  (2) includes by design Silero's end-of-speech wait (minSilenceDuration 550 ms of non-speech; the utterance's last ${fixed(UTTERANCE_MS / 1000 - voiceEndSeconds(), 2)} s are`,
    '  the marker tone without speech, so part of the wait falls before "sent"). The first loud frame is not the start of the utterance:',
    "  the echo replays Silero's END_OF_SPEECH frame, whose 0.5 s prefix padding the VAD has already overwritten with the buffer's last",
    "  0.5 s, so each echo opens with the utterance's own ending (marker tone), then a hole, then the utterance (last row; see the README).",
    `  A frame is loud at RMS >= ${LOUD_RMS} (16-bit scale); the marker tone alone is well above it.`,
    '',
    `3. Concurrent calls, ${STEP_SECONDS} s measured per step after the calls joined and ${SETTLE_SECONDS} s settling; each person speaks every ${SPEAK_PERIOD_MS / 1000} s.`,
    `   CPU columns are CPU seconds per second (1.00 = one core busy). Idle agent (the worker, its inference process if any, the warm job processes): ${fixed(baseline, 3)}.`,
    '',
    table(
      [
        'calls',
        'agent',
        'agent/call',
        '(agent-idle)/call',
        'this proc',
        'LiveKit',
        'Synapse',
        'machine',
        'other',
        'echoes',
        'miss/drop/short',
        'longest drop ms',
        'dry',
        'echo p50 ms',
        'echo max ms',
        'stalls',
        'join max ms',
      ],
      stepRows,
    ),
    '',
    '   agent: the worker process tree (worker, inference process, job processes; /proc utime+stime). this proc: this benchmark process,',
    '   i.e. the simulated people (rtc-node: Opus, E2EE, WebRTC) plus the backend. machine: all busy cores (/proc/stat); other: the',
    "   part of it none of the listed processes used (other people's work on this machine). echoes: utterances sent in the window",
    `   (the calls go on until their echoes ended, up to ${ECHO_TAIL_MS / 1000} s more). miss: no echo began within ${MISSING_AFTER_MS / 1000} s (lost, or late and`,
    `   run into the previous one); drop: quiet runs >= ${DROPOUT_MS} ms inside an echo after its first ${PREFIX_ARTIFACT_MS} ms; short: echo under ${SHORT_ECHO_MS / 1000} s.`,
    "   dry: of those utterances, how many had a gap in the person's own audio (its source queue ran empty: this process, the load",
    '   generator, was late), which the echo then carries. echo p50/max: utterance sent -> first loud echo frame, under load.',
    "   stalls: the agents framework's own warnings in the window: not scheduled (CPU contention) / event loop blocked / VAD slower",
    '   than real time / idle job processes killed for not finishing their prewarm in 10 s (the pool then starts another; counted',
    "   from the moment the step's calls were added). join max:",
    '   slowest sync -> oracle voice track of the calls added at that step (added at once).',
    '',
    `   echo length at 1 call: p50 ${ms(median(n1?.spans ?? []))} ms for a ${ms(UTTERANCE_MS)} ms utterance; holes in the first ${PREFIX_ARTIFACT_MS} ms of echoes ` +
      `(not counted above): ${steps.reduce((sum, step) => sum + step.artifacts, 0)} in ${steps.reduce((sum, step) => sum + step.judged, 0)} echoes.`,
    '',
    `largest number of concurrent calls without underruns: ${largestClean}${largestClean === 0 ? ' (none)' : ''}; stopped: ${stopReason}` +
      (firstBad ? ` (there, ${firstBad.dry} of ${firstBad.judged} utterances had a gap in the person's own audio already).` : '.'),
    ...(n1 && top && top !== n1
      ? [
          `marginal agent CPU per added call from 1 to ${top.n} calls: ${fixed((top.cpu.agent - n1.cpu.agent) / (top.n - 1), 3)} CPU s/s ` +
            `(independent of the idle figure); the people and LiveKit: ${fixed((top.cpu.self + top.cpu.livekit - n1.cpu.self - n1.cpu.livekit) / (top.n - 1), 3)}.`,
        ]
      : []),
    ...[n1, top !== n1 ? top : undefined]
      .filter((step): step is StepResult => step !== undefined)
      .map(
        (step) =>
          `at ${step.n} call${step.n === 1 ? '' : 's'}: ${fixed((step.cpu.agent - baseline) / step.n, 3)} CPU s/s of agent per call above idle; the simulated people ` +
          `(with the backend) ${fixed(step.cpu.self / step.n, 3)} and the LiveKit server ${fixed(step.cpu.livekit / step.n, 3)} per call more, on the same ${CORES} cores.`,
      ),
    '',
    `4. The bare echo participant (bare @livekit/rtc-node in a process of its own: E2EE, subscribe, republish what it hears; no`,
    `   framework, no VAD), the same steps and the same simulated people, after the agent's calls ended; first all calls in one`,
    `   process (the baseline), then each call in a process of its own (the agent's process model). CPU seconds per second:`,
    '',
    table(
      ['calls', 'processes', 'bare echo', 'per call', 'this proc', 'LiveKit', 'echoed', 'RSS MB', 'PSS MB', 'USS MB'],
      [...bare.map((step) => ({ step, processes: 'one' })), ...bareEach.map((step) => ({ step, processes: 'one per call' }))].map(({ step, processes }) => [
        String(step.n),
        processes,
        fixed(step.cpu, 3),
        fixed(step.cpu / step.n, 3),
        fixed(step.self, 2),
        fixed(step.livekit, 2),
        `${step.echoed}/${step.said}`,
        fixed(step.memory.rssMb, 0),
        fixed(step.memory.pssMb, 0),
        fixed(step.memory.ussMb, 0),
      ]),
    ),
    '',
    ...(burst
      ? [
          `${burst.newCallsDispatchMs.length} calls added at once (step ${burst.n}): sync answered -> oracle voice track ` +
            `${[...burst.newCallsDispatchMs]
              .sort((a, b) => a - b)
              .map((j) => fixed(j / 1000, 2))
              .join(', ')} s; ` +
            `${burst.newCallsDispatchMs.filter((j) => j <= BURST_JOIN_GOAL_MS).length}/${burst.newCallsDispatchMs.length} within ${BURST_JOIN_GOAL_MS / 1000} s (goal: all); ` +
            `underruns in that step: ${underrunsIn(burst)} (goal: 0).` +
            (burstLoad
              ? ` While they were added the machine had ${fixed(burstLoad.machine, 2)} of ${CORES} cores busy (agent ${fixed(burstLoad.agent, 2)}: the joining calls with the worker ` +
                `${fixed(burstCalls, 2)}, the pool's warm-ups ${fixed(burstLoad.agent - burstCalls, 2)}; ` +
                `the people and the backend ${fixed(burstLoad.self, 2)}, LiveKit ${fixed(burstLoad.livekit, 2)}, other work ${fixed(burstLoad.other, 2)}).`
              : ''),
        ]
      : []),
    ...(span
      ? [
          `agent memory per added call (goal: <= 120 MB): a job process holding a call, at ${most!.n} calls, RSS ${fixed(most!.callProcessMemory.rssMb, 0)} MB, ` +
            `PSS ${fixed(most!.callProcessMemory.pssMb, 0)} MB, USS ${fixed(most!.callProcessMemory.ussMb, 0)} MB (mean of ${most!.callProcesses}; at 1 call RSS ${fixed(n1!.callProcessMemory.rssMb, 0)}, ` +
            `PSS ${fixed(n1!.callProcessMemory.pssMb, 0)}, USS ${fixed(n1!.callProcessMemory.ussMb, 0)}): ` +
            `each added call is one more, the worker keeping its warm ones besides. The whole tree (worker, inference process, job processes): ` +
            `RSS ${fixed(n1!.memory.rssMb, 0)} -> ${fixed(most!.memory.rssMb, 0)} MB, PSS ${fixed(n1!.memory.pssMb, 0)} -> ${fixed(most!.memory.pssMb, 0)} MB, ` +
            `USS ${fixed(n1!.memory.ussMb, 0)} -> ${fixed(most!.memory.ussMb, 0)} MB ` +
            `(${fixed(treePerCall('rssMb'), 0)} / ${fixed(treePerCall('pssMb'), 0)} / ${fixed(treePerCall('ussMb'), 0)} MB per added call; warm idle processes ${n1!.idleProcesses} -> ${most!.idleProcesses}).`,
          `CPU per added call, 1 -> ${most!.n} calls: agent ${fixed(agentPerCall, 3)} CPU s/s (its calls: ${fixed(n1!.callsCpu, 3)} -> ${fixed(most!.callsCpu, 3)}; the ` +
            `whole tree with the pool's warm-ups: ${fixed(n1!.cpu.agent, 3)} -> ${fixed(most!.cpu.agent, 3)}), bare echo ${fixed(barePerCall, 3)} CPU s/s; ` +
            `ratio ${fixed(agentPerCall / barePerCall, 2)} (goal: <= 1.5). The bare echo with a process per call: ${fixed(bareEachPerCall, 3)} CPU s/s per added call, ` +
            `${fixed(bareEachPerCall / barePerCall, 2)} times the baseline's (the process model's share); the agent ${fixed(agentPerCall / bareEachPerCall, 2)} times that (the framework's and the VAD's).`,
        ]
      : []),
    `agent log: ${log.errors} error lines.`,
    '',
    `total run time: ${elapsed()}`,
    '',
  ];
  process.stdout.write(out.join('\n'));
  const failed = sequential.length - connected.length + connectFailuresAlone;
  if (failed > 0) process.stderr.write(`[bench] ${failed} call(s) failed to connect without load: the run failed\n`);
  if (connectFailures > connectFailuresAlone) {
    process.stderr.write(
      `[bench] ${connectFailures - connectFailuresAlone} call(s) added under load got no oracle within ${JOIN_TIMEOUT_MS / 1000} s (reported above, not a failed run)\n`,
    );
  }
  return failed === 0;
}

let ok = false;
try {
  ok = await main();
} catch (error) {
  process.stderr.write(`[bench] failed: ${(error as Error).stack ?? String(error)}\n`);
} finally {
  await timed('agent, calls and stack stopped', cleanUp).catch((error) => progress(`clean-up failed: ${(error as Error).message}`));
}
process.exit(ok ? 0 : 1);
