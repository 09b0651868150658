/**
 * `npm run bench:call`: how long a person waits, in the page, from the click that starts the call
 * ("Join call" in the lobby, the element's default; "Start audio call" without it) to the oracle's
 * first decrypted audio; against LiveKit's own agent path (a token that dispatches a minimal agent)
 * and a bare LiveKit E2EE join, all in the same run and the same Chromium.
 *
 * Everything real and on loopback (the start-up of test/helpers/e2e.ts, in bench/lib/call-setup.ts):
 * Synapse, the LiveKit server, the backend, the agent worker (echo brain), the built demo page in
 * headless Chromium with the fake microphone; plus the baseline agent worker (bench/lib/dispatch-baseline-agent.ts).
 *
 * BENCH_CALLS (10) rounds after BENCH_WARMUP (1) uncounted ones; each round, one after another:
 * 1. Calls from the script-tag page, first without the lobby (click "Start audio call"), then from the
 *    lobby (click "Start audio call", wait until the lobby is ready: its microphone open, the person
 *    signed in; then time from the click on "Join call"). Each: wait for phase 'in-call' and the first
 *    decoded oracle audio, hang up, wait for 'ended', close. Their phases (bench/lib/call-phases.ts)
 *    from the element's marks and the backend's and the agent's log lines, and the sign-ins the
 *    backend logged. The call from the lobby is the one in the last line.
 * 2. The agent-dispatch baseline (bench/lib/dispatch-baseline.ts): a blank page joins a fresh room with
 *    a token that dispatches the baseline agent with the E2EE key in its metadata; the agent joins with
 *    our agent's room options and publishes a tone at once.
 *    The same again with the page's microphone published once it is connected, as the element does
 *    (a row of its own and a second ratio; the last line keeps the baseline above).
 * 3. The bare join: the blank page joins a room where an rtc-node participant already publishes a tone.
 * Before 1 and 2 the run waits until that agent worker has a prewarmed idle job process (the warm case),
 * and before every round until every job process of both workers has started and the machine is quiet
 * (bench/lib/quiet-machine.ts: what the previous round left running, such as the framework warming the
 * job process that replaces the one a call took, would otherwise be timed in the next round, ours or
 * the baseline's; a start that waits for its turn, agent/warm-up-turn.ts, leaves the machine quiet).
 * The blank page uses livekit-client's UMD build with the element's E2EE and Room options.
 *
 * Timed in the page (bench/lib/call-page.ts) from the click (or the join's start) to the first decoded
 * audio: the first inbound-rtp audio stats report with decoded, not concealed, samples (frames that
 * passed E2EE decryption and the Opus decoder). The last line of the output is exactly
 * `call p50 <n> ms; agent-dispatch baseline p50 <n> ms; ratio <r>`.
 *
 * Bounded: a watchdog stops the run after 420 s. Exits 0 when the run completed (every call and join
 * got decoded audio), 1 when one did not, 2 when stopped by the watchdog or a signal.
 */
import './lib/call-quiet.ts';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { waitForPhase } from '../scripts/stack/page-probes.ts';
import { closeRtc, joinEncrypted, participantToken, publishTone } from '../scripts/stack/participants.ts';
import { jobProcessesStarted } from '../scripts/stack/agent-process.ts';
import type { AgentProcess } from '../scripts/stack/agent-process.ts';
import { bareJoin, bareLeave, prepareMicrophone, readTimes, startMonitor, stopMonitor } from './lib/call-page.ts';
import type { PageTimes } from './lib/call-page.ts';
import { BASELINE_PHASE_ROWS, PHASE_ROWS, baselinePhases, callPhases, readMarks, wallClock } from './lib/call-phases.ts';
import type { BaselinePhases, CallPhases } from './lib/call-phases.ts';
import { startCallSetup } from './lib/call-setup.ts';
import type { CallSetup } from './lib/call-setup.ts';
import { dispatchingToken, startBaselineWorker } from './lib/dispatch-baseline.ts';
import { waitForQuietMachine } from './lib/quiet-machine.ts';
import type { QuietResult } from './lib/quiet-machine.ts';
import { fixed, table } from './lib/table.ts';
import { setting } from './lib/settings.ts';
import { guardRun, progress } from './lib/run.ts';
import { median as p50, percentile } from './lib/stats.ts';

const CALLS = setting('BENCH_CALLS', 10, 1, 50);
const WARMUP = setting('BENCH_WARMUP', 1, 0, 5);
const GOAL_RATIO = 1.15;
const WATCHDOG_MS = 420_000;
const WAIT_MS = 20_000;

const closing: { close?: () => Promise<void> } = {};
const baselineWorker: { agent?: AgentProcess } = {};
let cleaning: Promise<void> | undefined;
const cleanUp = (): Promise<void> =>
  (cleaning ??= (async () => {
    await closeRtc([]).catch(() => {});
    await baselineWorker.agent?.stop().catch(() => {});
    await closing.close?.();
  })());

guardRun({ stopping: 'everything', watchdogMs: WATCHDOG_MS, graceMs: 20_000, cleanUp });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether the worker has a job process that finished its prewarm and has taken no job (its JSON log). */
function idleReady(agent: AgentProcess): boolean {
  const initialized = new Set<number>();
  const started = new Set<number>();
  for (const text of agent.output) {
    if (!text.startsWith('{')) continue;
    try {
      const line = JSON.parse(text) as { msg?: string; pid?: number };
      if (line.msg === 'job runner initialized' && line.pid) initialized.add(line.pid);
      else if (line.msg === 'job started' && line.pid) started.add(line.pid);
    } catch {
      // not JSON
    }
  }
  for (const pid of initialized) {
    if (started.has(pid)) continue;
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      // gone
    }
  }
  return false;
}

async function waitUntil(probe: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (probe()) return true;
    await sleep(100);
  }
  return probe();
}

/** Every timed round's wait for a quiet machine (bench/lib/quiet-machine.ts), in the order they ran. */
const settled: { label: string; result: QuietResult }[] = [];

/** The workers whose job processes must all have started before a round (ours and the baseline's). */
const workers: AgentProcess[] = [];

async function settle(label: string): Promise<void> {
  if (!(await waitUntil(() => workers.every(jobProcessesStarted), 20_000))) progress(`${label}: a job process was still starting after 20 s; timed anyway`);
  const result = await waitForQuietMachine();
  settled.push({ label, result });
  if (!result.quiet)
    progress(`${label}: the machine stayed busy (${fixed(result.busy * 100, 0)}% of its cores) for ${fixed(result.waitedMs / 1000, 1)} s; timed anyway`);
}

async function waitWarm(agent: AgentProcess, label: string): Promise<void> {
  if (!(await waitUntil(() => idleReady(agent), 15_000))) progress(`${label}: no prewarmed idle job process within 15 s; going on anyway`);
}

async function waitFor(page: Page, done: (times: PageTimes) => boolean, timeoutMs: number): Promise<PageTimes> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const times = await readTimes(page);
    if (done(times) || performance.now() > deadline) return times;
    await sleep(50);
  }
}

interface Sample {
  readonly decoded?: number;
  readonly inCall?: number;
  readonly subscribed?: number;
  readonly loud?: number;
  readonly connected?: number;
  readonly phases?: CallPhases;
  /** POST /session sign-ins the backend logged in the round (the lobby's included). */
  readonly signIns?: number;
  readonly baselinePhases?: BaselinePhases;
}

const since = (from: number | undefined, at: number | undefined) => (from !== undefined && at !== undefined ? at - from : undefined);
const ms = (value: number | undefined) => fixed(value ?? Number.NaN, 0);

/**
 * `lobby`: the element's default, the person in the lobby first (its microphone open, signed in), the
 * call timed from the click on "Join call"; otherwise `no-lobby`, one click on "Start audio call" to
 * the call, which then opens the microphone and signs in (unless a session is kept from a call before).
 */
async function oneCall(setup: CallSetup, page: Page, label: string, lobby: boolean): Promise<Sample> {
  await waitWarm(setup.agent, label);
  const roundFrom = setup.stack.logs.length;
  const element = page.locator('oracle-call');
  await element.evaluate((el, noLobby) => el.toggleAttribute('no-lobby', noLobby), !lobby);
  if (lobby) {
    await element.getByRole('button', { name: 'Start audio call' }).click();
    await waitForPhase(page, 'lobby', 10_000);
    await element.locator('[part~="join-button"]:enabled').waitFor({ timeout: 15_000 });
  }
  await settle(label);
  await startMonitor(page);
  const backendFrom = setup.stack.logs.length;
  const agentFrom = setup.agent.output.length;
  await element.getByRole('button', { name: lobby ? 'Join call' : 'Start audio call' }).click();
  const times = await waitFor(page, (t) => t.inCall !== undefined && t.decoded !== undefined, WAIT_MS);
  await stopMonitor(page);
  const clickAt = times.clickAt === undefined ? undefined : await wallClock(page, times.clickAt);
  const phases = clickAt === undefined ? undefined : callPhases(clickAt, await readMarks(page), setup.stack.logs, backendFrom, setup.agent.output, agentFrom);
  const sample: Sample = {
    decoded: since(times.clickAt, times.decoded),
    inCall: since(times.clickAt, times.inCall),
    subscribed: since(times.clickAt, times.played),
    loud: since(times.clickAt, times.loud),
    ...(phases ? { phases } : {}),
  };
  progress(
    `${label}: first decoded oracle audio ${ms(sample.decoded)} ms (signed in ${ms(phases?.signedIn)}, event sent ${ms(phases?.eventSent)}, ` +
      `synced ${ms(phases?.synced)}, connected ${ms(phases?.connected)}; agent started ${ms(phases?.jobStarted)}, key ${ms(phases?.keyObtained)}, joined ${ms(phases?.agentConnected)}, ` +
      `voice ${ms(phases?.voicePublished)}; in-call ${ms(sample.inCall)})`,
  );
  const phase = await waitForPhase(page, ['in-call', 'error'], 1000).catch(() => undefined);
  if (phase === 'in-call') await page.locator('oracle-call').getByRole('button', { name: 'Hang up' }).click();
  else
    await page
      .locator('oracle-call')
      .getByRole('button', { name: /Hang up|Cancel call/ })
      .click()
      .catch(() => {});
  await waitForPhase(page, ['ended', 'error'], 15_000);
  await page.locator('oracle-call').getByRole('button', { name: 'Close' }).click();
  await waitForPhase(page, 'idle', 10_000);
  return { ...sample, signIns: setup.stack.logs.slice(roundFrom).filter((line) => line.includes('"session issued"')).length };
}

/**
 * LiveKit's own agent path: a token that dispatches the baseline agent into a fresh room. With
 * `microphone`, the page also publishes its microphone once connected, as the element does (and the
 * agent then subscribes to it, as ours does).
 */
async function oneDispatchJoin(setup: CallSetup, baseline: AgentProcess, page: Page, label: string, index: number, microphone = false): Promise<Sample> {
  await waitWarm(baseline, label);
  const { key, token } = await dispatchingToken(setup.stack.livekit, `page-dispatch-${microphone ? 'mic-' : ''}${index}`);
  try {
    if (microphone) await prepareMicrophone(page);
    await settle(label);
    const agentFrom = baseline.output.length;
    await startMonitor(page);
    await bareJoin(page, setup.stack.livekit.url, token, key);
    const times = await waitFor(page, (t) => t.decoded !== undefined, WAIT_MS);
    await stopMonitor(page);
    const sample: Sample = {
      decoded: since(times.start, times.decoded),
      connected: since(times.start, times.connected),
      subscribed: since(times.start, times.subscribed),
      loud: since(times.start, times.loud),
      baselinePhases: baselinePhases(await wallClock(page, times.start), baseline.output, agentFrom),
    };
    progress(
      `${label}: connected ${ms(sample.connected)} ms, agent track subscribed ${ms(sample.subscribed)} ms, first decoded agent audio ${ms(sample.decoded)} ms`,
    );
    if (sample.decoded === undefined) progress(`the baseline agent's output ends with:\n${baseline.output.slice(-15).join('\n')}`);
    return sample;
  } finally {
    await bareLeave(page).catch(() => {});
  }
}

async function oneBareJoin(setup: CallSetup, page: Page, label: string, index: number): Promise<Sample> {
  const { livekit } = setup.stack;
  const roomName = `bench-bare-${index}-${randomBytes(4).toString('hex')}`;
  const key = randomBytes(32).toString('hex');
  const tone = await joinEncrypted(livekit, roomName, `tone-${index}`, key);
  const publisher = await publishTone(tone, 440);
  try {
    await sleep(300); // the tone is flowing before the page joins
    await settle(label);
    const token = await participantToken(livekit, roomName, `page-${index}`);
    await startMonitor(page);
    await bareJoin(page, livekit.url, token, key);
    const times = await waitFor(page, (t) => t.decoded !== undefined && t.loud !== undefined, WAIT_MS);
    await stopMonitor(page);
    const sample: Sample = {
      decoded: since(times.start, times.decoded),
      connected: since(times.start, times.connected),
      subscribed: since(times.start, times.subscribed),
      loud: since(times.start, times.loud),
    };
    progress(`${label}: connected ${ms(sample.connected)} ms, subscribed ${ms(sample.subscribed)} ms, first decoded audio ${ms(sample.decoded)} ms`);
    return sample;
  } finally {
    await bareLeave(page).catch(() => {});
    await publisher.stop().catch(() => {});
    await tone.disconnect().catch(() => {});
  }
}

const defined = (values: readonly (number | undefined)[]) => values.filter((v): v is number => v !== undefined);

async function main(): Promise<{ complete: boolean; callP50: number; baselineP50: number }> {
  const setup = await startCallSetup(progress, closing);
  const page = await setup.newPage();
  const [baseline] = await Promise.all([
    startBaselineWorker(setup.stack).then((agent) => (baselineWorker.agent = agent)),
    (async () => {
      await page.goto(setup.pages.pageUrl);
      await page.getByText('Signed in as').waitFor({ timeout: 30_000 });
      await waitForPhase(page, 'idle');
    })(),
  ]);
  progress('the demo page is signed in and idle; the baseline agent worker is registered');
  workers.push(setup.agent, baseline);
  const blank = await setup.newPage();
  await blank.goto(setup.bareUrl);
  await blank.waitForFunction('typeof window.LivekitClient !== "undefined"', undefined, { timeout: 10_000 });

  const calls: Sample[] = [];
  const oneClickCalls: Sample[] = [];
  const dispatch: Sample[] = [];
  const withMicrophone: Sample[] = [];
  const bare: Sample[] = [];
  for (let i = -WARMUP; i < CALLS; i += 1) {
    const name = (what: string) => (i < 0 ? `${what} warm-up ${i + WARMUP + 1}/${WARMUP}` : `${what} ${i + 1}/${CALLS}`);
    // Without the lobby first: right after the lobby's round, the fake microphone opens faster.
    const oneClickCall = await oneCall(setup, page, name('call, no lobby'), false);
    const call = await oneCall(setup, page, name('call from the lobby'), true);
    const viaDispatch = await oneDispatchJoin(setup, baseline, blank, name('dispatch baseline'), i + WARMUP);
    const viaDispatchWithMic = await oneDispatchJoin(setup, baseline, blank, name('dispatch baseline, microphone published'), i + WARMUP, true);
    const bareJoinSample = await oneBareJoin(setup, blank, name('bare join'), i + WARMUP);
    if (i < 0) continue;
    calls.push(call);
    oneClickCalls.push(oneClickCall);
    dispatch.push(viaDispatch);
    withMicrophone.push(viaDispatchWithMic);
    bare.push(bareJoinSample);
  }

  const row = (name: string, values: readonly (number | undefined)[]) => {
    const got = defined(values);
    return [name, `${got.length}/${values.length}`, fixed(p50(got), 0), fixed(percentile(got, 90), 0), fixed(got.length ? Math.max(...got) : NaN, 0)];
  };
  const header = ['measure', 'got', 'p50', 'p90', 'max'];
  process.stdout.write(`\nCall set-up, loopback, ${CALLS} rounds after ${WARMUP} warm-up (ms)\n\n`);
  process.stdout.write(
    `${table(header, [
      row(
        'call: click → first decoded oracle audio',
        calls.map((s) => s.decoded),
      ),
      row(
        'call: click → phase in-call',
        calls.map((s) => s.inCall),
      ),
      row(
        'call: click → oracle track attached',
        calls.map((s) => s.subscribed),
      ),
      row(
        'call, no lobby: click → first decoded oracle audio',
        oneClickCalls.map((s) => s.decoded),
      ),
      row(
        'dispatch baseline: join → first decoded agent audio',
        dispatch.map((s) => s.decoded),
      ),
      row(
        'dispatch baseline: join → connected',
        dispatch.map((s) => s.connected),
      ),
      row(
        'dispatch baseline: join → agent track subscribed',
        dispatch.map((s) => s.subscribed),
      ),
      row(
        "dispatch baseline, the page's microphone published: decoded",
        withMicrophone.map((s) => s.decoded),
      ),
      row(
        'bare: join → first decoded audio',
        bare.map((s) => s.decoded),
      ),
      row(
        'bare: join → connected',
        bare.map((s) => s.connected),
      ),
    ])}\n`,
  );
  /** One row per step of `rows`, read from each sample by `phases`. */
  const phaseRows = <F extends string>(
    rows: readonly (readonly [string, F])[],
    samples: readonly Sample[],
    phases: (sample: Sample) => Partial<Record<F, number>> | undefined,
    suffix = '',
  ) =>
    rows.map(([label, field]) =>
      row(
        `${label}${suffix}`,
        samples.map((s) => phases(s)?.[field]),
      ),
    );
  const phaseTable = (title: string, rows: string[][]) => process.stdout.write(`\n${title}\n\n${table(header, rows)}\n`);
  phaseTable(
    "The call from the lobby, phase by phase: ms since the click on 'Join call' (medians), and durations inside the sync",
    phaseRows(PHASE_ROWS, calls, (s) => s.phases),
  );
  phaseTable(
    "The call without the lobby, phase by phase: ms since the click on 'Start audio call' (medians)",
    phaseRows(PHASE_ROWS, oneClickCalls, (s) => s.phases),
  );
  const signIns = (samples: readonly Sample[]) => samples.reduce((sum, s) => sum + (s.signIns ?? 0), 0);
  process.stdout.write(
    `\nsign-ins (POST /session) in the ${CALLS} rounds: from the lobby ${signIns(calls)}, without it ${signIns(oneClickCalls)} ` +
      '(the session signed in during the warm-up is kept while fresh)\n',
  );
  phaseTable(
    "The agent-dispatch baseline's agent, step by step: ms since the page's join started (medians); then the same with the page's microphone published",
    [
      ...phaseRows(BASELINE_PHASE_ROWS, dispatch, (s) => s.baselinePhases),
      ...phaseRows(BASELINE_PHASE_ROWS, withMicrophone, (s) => s.baselinePhases, ' (microphone)'),
    ],
  );
  const counted = settled.filter(({ label }) => !label.includes('warm-up'));
  const waits = counted.map(({ result }) => result.waitedMs);
  process.stdout.write(
    `\nrounds started on a quiet machine (under 25% of its cores busy for 250 ms): ${counted.filter(({ result }) => result.quiet).length}/${counted.length}; ` +
      `waited for it p50 ${fixed(p50(waits), 0)} ms, at most ${fixed(Math.max(...waits), 0)} ms\n`,
  );
  const callP50 = p50(defined(calls.map((s) => s.decoded)));
  const oneClickP50 = p50(defined(oneClickCalls.map((s) => s.decoded)));
  const baselineP50 = p50(defined(dispatch.map((s) => s.decoded)));
  const bareP50 = p50(defined(bare.map((s) => s.decoded)));
  const withMicrophoneP50 = p50(defined(withMicrophone.map((s) => s.decoded)));
  process.stdout.write(
    `\nratio to the agent-dispatch baseline ${fixed(callP50 / baselineP50, 2)} (goal ≤ ${GOAL_RATIO}: ${callP50 / baselineP50 <= GOAL_RATIO ? 'met' : 'NOT met'}); ` +
      `to the same baseline with the page's microphone published, as our call does ${fixed(callP50 / withMicrophoneP50, 2)}; ` +
      `to the bare join ${fixed(callP50 / bareP50, 2)}\n` +
      `without the lobby: call p50 ${fixed(oneClickP50, 0)} ms, ratio to the baseline ${fixed(oneClickP50 / baselineP50, 2)}, ` +
      `to the baseline with the microphone ${fixed(oneClickP50 / withMicrophoneP50, 2)}\n`,
  );
  // The backend's and the agents' whole logs (ours, then the baseline's), for a closer look at a phase above.
  const logFile = path.join(os.tmpdir(), `oracle-call-bench-call-${Date.now()}.log`);
  await writeFile(logFile, `${[...setup.stack.logs, ...setup.agent.output, ...(baselineWorker.agent?.output ?? [])].join('\n')}\n`).then(
    () => progress(`backend and agent logs: ${logFile}`),
    () => {},
  );
  const complete =
    [...calls, ...oneClickCalls, ...dispatch, ...withMicrophone, ...bare].every((s) => s.decoded !== undefined) &&
    [...calls, ...oneClickCalls].every((s) => s.inCall !== undefined);
  if (!complete) process.stderr.write('[bench] some calls or joins got no decoded audio within 20 s\n');
  return { complete, callP50, baselineP50 };
}

let ok = false;
try {
  const { complete, callP50, baselineP50 } = await main();
  ok = complete;
  process.stdout.write(`call p50 ${fixed(callP50, 0)} ms; agent-dispatch baseline p50 ${fixed(baselineP50, 0)} ms; ratio ${fixed(callP50 / baselineP50, 2)}\n`);
} catch (error) {
  process.stderr.write(`[bench] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
}
const stopTimer = setTimeout(() => process.exit(2), 30_000);
stopTimer.unref();
await cleanUp().catch(() => {});
process.exit(ok ? 0 : 1);
