/**
 * `npm run bench:call`: how long a person waits, in the page, from the click on "Start audio call" to
 * the oracle's first decrypted audio; against a bare LiveKit E2EE join measured in the same run.
 *
 * Everything real and on loopback (the start-up of test/helpers/e2e.ts, in bench/lib/call-setup.ts):
 * Synapse, the LiveKit server, the backend, the agent worker (echo brain), the built demo page in
 * headless Chromium with the fake microphone.
 *
 * 1. Calls: BENCH_CALLS (10) audio calls from the script-tag page, one after another, after one warm-up
 *    call (BENCH_WARMUP, 1) that is not counted. Each: click "Start audio call", wait for phase
 *    'in-call' and the first decoded oracle audio, hang up, wait for 'ended', close, and wait until the
 *    agent worker has a prewarmed idle job process again (the warm case).
 * 2. Bare joins: as many joins of a blank page in the same Chromium (livekit-client's UMD build, E2EE
 *    with a shared string key, the element's Room options) into a room where an rtc-node participant
 *    (scripts/stack/participants.ts) already publishes a tone, also after one warm-up.
 *
 * Timed in the page (bench/lib/call-page.ts): from the click (or the bare page's connect start) to
 * - "first decoded audio": the first inbound-rtp audio stats report with decoded, not concealed,
 *   samples (frames that passed E2EE decryption and the Opus decoder) — the headline figure;
 * - "in-call": the element's phase 'in-call' (oracle audio track subscribed, reported encrypted);
 * - "subscribed": the remote audio track was attached to a media element;
 * - "loud": a WebAudio analyser first saw signal above -50 dBFS (the bare tone only: the echo oracle
 *   sends silence until it echoes the person, which takes seconds of speech by design).
 *
 * Bounded: a watchdog stops the run after 240 s. Exits 0 when the run completed (every call and join
 * got decoded audio), 1 when one did not, 2 when stopped by the watchdog or a signal.
 */
import './lib/call-quiet.ts';
import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { waitForPhase } from '../scripts/stack/page-probes.ts';
import { closeRtc, joinEncrypted, participantToken, publishTone } from '../scripts/stack/participants.ts';
import type { AgentProcess } from '../scripts/stack/agent-process.ts';
import { bareJoin, bareLeave, readTimes, startMonitor, stopMonitor } from './lib/call-page.ts';
import type { PageTimes } from './lib/call-page.ts';
import { startCallSetup } from './lib/call-setup.ts';
import type { CallSetup } from './lib/call-setup.ts';
import { fixed, table } from './lib/table.ts';
import { setting } from './lib/settings.ts';
import { guardRun, progress } from './lib/run.ts';

const CALLS = setting('BENCH_CALLS', 10, 1, 50);
const WARMUP = setting('BENCH_WARMUP', 1, 0, 5);
const GOAL_MS = 1500;
const WATCHDOG_MS = 240_000;
const WAIT_MS = 20_000;

const closing: { close?: () => Promise<void> } = {};
let cleaning: Promise<void> | undefined;
const cleanUp = (): Promise<void> =>
  (cleaning ??= (async () => {
    await closeRtc([]).catch(() => {});
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
}

const since = (from: number | undefined, at: number | undefined) => (from !== undefined && at !== undefined ? at - from : undefined);

async function oneCall(setup: CallSetup, page: Page, label: string): Promise<Sample> {
  if (!(await waitUntil(() => idleReady(setup.agent), 15_000))) progress(`${label}: no prewarmed idle job process within 15 s; calling anyway`);
  await startMonitor(page);
  // One click to the call, as measured: no lobby.
  await page.locator('oracle-call').evaluate((element) => element.setAttribute('no-lobby', ''));
  await page.locator('oracle-call').getByRole('button', { name: 'Start audio call' }).click();
  const times = await waitFor(page, (t) => t.inCall !== undefined && t.decoded !== undefined, WAIT_MS);
  await stopMonitor(page);
  const sample: Sample = {
    decoded: since(times.clickAt, times.decoded),
    inCall: since(times.clickAt, times.inCall),
    subscribed: since(times.clickAt, times.played),
    loud: since(times.clickAt, times.loud),
  };
  progress(
    `${label}: in-call ${fixed(sample.inCall ?? NaN, 0)} ms, first decoded oracle audio ${fixed(sample.decoded ?? NaN, 0)} ms, subscribed ${fixed(sample.subscribed ?? NaN, 0)} ms`,
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
  return sample;
}

async function waitUntil(probe: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (probe()) return true;
    await sleep(100);
  }
  return probe();
}

async function oneBareJoin(setup: CallSetup, page: Page, label: string, index: number): Promise<Sample> {
  const { livekit } = setup.stack;
  const roomName = `bench-bare-${index}-${randomBytes(4).toString('hex')}`;
  const key = randomBytes(32).toString('hex');
  const tone = await joinEncrypted(livekit, roomName, `tone-${index}`, key);
  const publisher = await publishTone(tone, 440);
  try {
    await sleep(300); // the tone is flowing before the page joins
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
    progress(
      `${label}: connected ${fixed(sample.connected ?? NaN, 0)} ms, subscribed ${fixed(sample.subscribed ?? NaN, 0)} ms, first decoded audio ${fixed(sample.decoded ?? NaN, 0)} ms, loud ${fixed(sample.loud ?? NaN, 0)} ms`,
    );
    return sample;
  } finally {
    await bareLeave(page).catch(() => {});
    await publisher.stop().catch(() => {});
    await tone.disconnect().catch(() => {});
  }
}

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
const p50 = (values: readonly number[]) => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const defined = (values: readonly (number | undefined)[]) => values.filter((v): v is number => v !== undefined);

async function main(): Promise<boolean> {
  const setup = await startCallSetup(progress, closing);
  const page = await setup.newPage();
  await page.goto(setup.pages.pageUrl);
  await page.getByText('Signed in as').waitFor({ timeout: 30_000 });
  await waitForPhase(page, 'idle');
  progress('the demo page is signed in and idle');

  const calls: Sample[] = [];
  for (let i = -WARMUP; i < CALLS; i += 1) {
    const sample = await oneCall(setup, page, i < 0 ? `call warm-up ${i + WARMUP + 1}/${WARMUP}` : `call ${i + 1}/${CALLS}`);
    if (i >= 0) calls.push(sample);
  }

  const barePage = await setup.newPage();
  await barePage.goto(setup.bareUrl);
  await barePage.waitForFunction('typeof window.LivekitClient !== "undefined"', undefined, { timeout: 10_000 });
  const bare: Sample[] = [];
  for (let i = -WARMUP; i < CALLS; i += 1) {
    const sample = await oneBareJoin(setup, barePage, i < 0 ? `bare warm-up ${i + WARMUP + 1}/${WARMUP}` : `bare join ${i + 1}/${CALLS}`, i + WARMUP);
    if (i >= 0) bare.push(sample);
  }

  const row = (name: string, values: readonly (number | undefined)[]) => {
    const got = defined(values);
    return [name, `${got.length}/${values.length}`, fixed(p50(got), 0), fixed(percentile(got, 90), 0), fixed(got.length ? Math.max(...got) : NaN, 0)];
  };
  process.stdout.write(`\nCall set-up, loopback, ${CALLS} each after ${WARMUP} warm-up (ms)\n\n`);
  process.stdout.write(
    table(
      ['measure', 'got', 'p50', 'p90', 'max'],
      [
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
          'bare: connect → first decoded audio',
          bare.map((s) => s.decoded),
        ),
        row(
          'bare: connect → connected',
          bare.map((s) => s.connected),
        ),
        row(
          'bare: connect → track subscribed',
          bare.map((s) => s.subscribed),
        ),
        row(
          'bare: connect → loud audio (analyser)',
          bare.map((s) => s.loud),
        ),
      ],
    ) + '\n',
  );
  const callP50 = p50(defined(calls.map((s) => s.decoded)));
  const inCallP50 = p50(defined(calls.map((s) => s.inCall)));
  const bareP50 = p50(defined(bare.map((s) => s.decoded)));
  process.stdout.write(
    `\nclick → first decoded oracle audio p50 ${fixed(callP50, 0)} ms (goal ≤ ${GOAL_MS} ms: ${callP50 <= GOAL_MS ? 'met' : 'NOT met'}); ` +
      `ratio to the bare join's first decoded audio ${fixed(callP50 / bareP50, 2)} (in-call p50 / bare ${fixed(inCallP50 / bareP50, 2)})\n`,
  );
  const complete = calls.every((s) => s.decoded !== undefined && s.inCall !== undefined) && bare.every((s) => s.decoded !== undefined);
  if (!complete) process.stderr.write('[bench] some calls or joins got no decoded audio within 20 s\n');
  return complete;
}

let ok = false;
try {
  ok = await main();
} catch (error) {
  process.stderr.write(`[bench] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
}
const stopTimer = setTimeout(() => process.exit(2), 30_000);
stopTimer.unref();
await cleanUp().catch(() => {});
process.exit(ok ? 0 : 1);
