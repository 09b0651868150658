/**
 * `npm run bench:server`: the backend under load, on loopback, against the real stack (Synapse, the
 * LiveKit server and the backend over real HTTP, from scripts/stack/stack.ts).
 *
 * 1. Seeds 1,000 active calls for one user (direct store inserts) plus a few calls synced through the API.
 * 2. Measures req/s and p50/p99 latency with autocannon (in its own process) for `GET /calls/:callId/key`
 *    (agent), `GET /calls` (user session) and a bare Koa app answering "hello" (the baseline), in many
 *    short interleaved rounds (every target once per round, the order reversed every other round);
 *    reports medians, the ratio being the median of the rounds' ratios. On lowdb (the default) it also
 *    measures the key route of a second backend on PostgreSQL, with the same calls, in the same rounds,
 *    and reports its ratio to the key route on lowdb.
 * 3. Ends 200 active calls at once (`POST /calls/:callId/update` by the agent, mirrored to Matrix) and
 *    checks every one answered 200 and is ended in memory and in the data file on disk.
 *
 * Bounded: a little over a minute in all; a watchdog stops the run after 240 s. Settings (environment):
 * BENCH_CONNECTIONS (10), BENCH_WARMUP_SECONDS (2), BENCH_SECONDS (1), BENCH_ROUNDS (16), BENCH_UPDATES (200),
 * BENCH_CALLS (1000), BENCH_STORE (`lowdb`, or `postgres`: a PostgreSQL server of its own and DATABASE_URL).
 * Exits 0 when the run completed and every check passed, 1 otherwise.
 */
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { createLogger } from '../server/logger.ts';
import { startServer } from '../server/server.ts';
import type { CallRecord } from '../server/store/call-store.ts';
import { AGENT_API_KEY, announceCall, startStack, stopStack, syncCall } from '../scripts/stack/stack.ts';
import type { Stack } from '../scripts/stack/stack.ts';
import { startPostgres } from '../scripts/services/postgres.ts';
import type { PostgresServer } from '../scripts/services/postgres.ts';
import { startBareApp } from './lib/bare-app.ts';
import { startSecondBackend } from './lib/second-backend.ts';
import type { SecondBackend } from './lib/second-backend.ts';
import type { BareApp } from './lib/bare-app.ts';
import { LoadGenerator } from './lib/load.ts';
import type { LoadJob, LoadResult } from './lib/load.ts';
import { pool, recordForEvent, syntheticCall } from './lib/seed.ts';
import type { Owner } from './lib/seed.ts';
import { fixed, table } from './lib/table.ts';
import { setting } from './lib/settings.ts';
import { elapsed, guardRun, progress, timed } from './lib/run.ts';
import { median } from './lib/stats.ts';

const CONNECTIONS = setting('BENCH_CONNECTIONS', 10, 1, 200);
const WARMUP_SECONDS = setting('BENCH_WARMUP_SECONDS', 2, 0, 10);
const MEASURED_SECONDS = setting('BENCH_SECONDS', 1, 1, 20);
const ROUNDS = setting('BENCH_ROUNDS', 16, 1, 30);
const UPDATES = setting('BENCH_UPDATES', 200, 1, 500);
const SEEDED_CALLS = setting('BENCH_CALLS', 1000, 1, 10_000);
const REAL_SYNCS = 3;
const GOAL_RATIO = 0.6;
/** The key route on PostgreSQL against the same route on lowdb. */
const POSTGRES_KEY_GOAL = 0.5;
const WATCHDOG_MS = 240_000;
const STORE = process.env.BENCH_STORE || 'lowdb';
if (STORE !== 'lowdb' && STORE !== 'postgres') throw new Error(`BENCH_STORE must be "lowdb" or "postgres" (got "${STORE}")`);

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`check failed: ${message}`);
}

let stack: Stack | undefined;
let postgres: PostgresServer | undefined;
let onPostgres: SecondBackend | undefined;
let bare: BareApp | undefined;
let load: LoadGenerator | undefined;
let cleaning: Promise<void> | undefined;

function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    await load?.close().catch(() => {});
    await bare?.close().catch(() => {});
    await onPostgres?.close().catch(() => {});
    const dataDir = stack?.env.DATA_DIR;
    await stopStack(stack);
    await postgres?.stop().catch(() => {});
    if (dataDir) await rm(dataDir, { recursive: true, force: true }).catch(() => {});
  })();
  return cleaning;
}

guardRun({ stopping: 'the stack', watchdogMs: WATCHDOG_MS, graceMs: 15_000, cleanUp });

interface Round extends LoadResult {
  /**
   * CPU time of this process (the backend and the bare app both run here) per 2xx answer, in µs: a
   * steadier view of the cost than req/s, which also moves with the load generator's share of the cores.
   */
  readonly serverCpuUs: number;
}

interface Target {
  readonly job: Omit<LoadJob, 'connections' | 'durationSeconds'>;
  readonly rounds: Round[];
}

/**
 * A warm-up run per target (discarded), then ROUNDS rounds that each measure every target once. This
 * machine's speed drifts by tens of percent within seconds (other tenants, where the scheduler puts the
 * load generator): short rounds make each round's ratio compare figures taken moments apart, and the
 * order is reversed every other round so that a drift within a round favours no target.
 */
async function measureAll(load: LoadGenerator, targets: readonly Target[]): Promise<void> {
  if (WARMUP_SECONDS > 0) {
    for (const { job } of targets) await load.run({ ...job, name: `${job.name} (warm-up)`, connections: CONNECTIONS, durationSeconds: WARMUP_SECONDS });
  }
  for (let round = 1; round <= ROUNDS; round += 1) {
    const order = round % 2 === 1 ? targets : [...targets].reverse();
    for (const target of order) {
      const before = process.cpuUsage();
      const result = await load.run({ ...target.job, connections: CONNECTIONS, durationSeconds: MEASURED_SECONDS });
      const cpu = process.cpuUsage(before);
      target.rounds.push({ ...result, serverCpuUs: (cpu.user + cpu.system) / result.ok });
    }
    progress(`round ${round}/${ROUNDS}: ${targets.map((t) => `${t.job.name} ${fixed(t.rounds.at(-1)!.reqPerSec, 0)}/s`).join(', ')}`);
  }
}

/** The status of each call as the store has it durably: in calls.json, or in the database. */
async function durableStatuses(s: Stack): Promise<Map<string, string>> {
  if (s.env.DATABASE_URL) {
    const client = new pg.Client({ connectionString: s.env.DATABASE_URL });
    await client.connect();
    try {
      const { rows } = await client.query<{ call_id: string; status: string }>('SELECT call_id, status FROM calls');
      return new Map(rows.map((row) => [row.call_id, row.status]));
    } finally {
      await client.end();
    }
  }
  const onDisk = JSON.parse(await readFile(path.join(s.env.DATA_DIR!, 'calls.json'), 'utf8')) as { calls: CallRecord[] };
  return new Map(onDisk.calls.map((record) => [record.callId, record.status]));
}

async function main(): Promise<boolean> {
  const database: Record<string, string> = {};
  if (STORE === 'postgres') {
    postgres = await timed('PostgreSQL up', () => startPostgres());
    database.DATABASE_URL = await postgres.createDatabase('bench');
  }
  stack = await timed(`stack up (Synapse, LiveKit server, backend on ${STORE})`, () =>
    // The backend's default log level (info). The list's per-user limit stays on, raised so the load is not
    // refused; the key route counts only failed API keys, so the agent's load never meets its limit.
    startStack({ LOG_LEVEL: 'info', RATE_LIMIT_LIST_PER_MINUTE: '100000000', ...database }),
  );
  const s = stack;
  // startStack's backend logs at debug level into an in-memory array whatever LOG_LEVEL says; run the
  // backend as server/main.ts does instead: a pino logger at the configured level (info), to stderr.
  await timed(`backend restarted with the production logger (LOG_LEVEL=${s.config.logLevel})`, async () => {
    await s.backend.close();
    s.backend = await startServer(s.config, createLogger(s.config.logLevel, pino.destination(2)));
  });
  const user = await timed('user signed in (real OpenID exchange)', () => s.newUser());
  const owner: Owner = { userId: user.matrix.userId, matrixRoomId: user.roomId };

  await timed(`${REAL_SYNCS} calls announced in Matrix and synced through the API`, async () => {
    for (let i = 0; i < REAL_SYNCS; i += 1) {
      const call = await announceCall(s, user);
      const response = await syncCall(s, user, call);
      check(response.status === 200 && response.body.call.status === 'active', `sync answered ${response.status} ${JSON.stringify(response.body)}`);
    }
  });

  const seeded = await timed(`${SEEDED_CALLS} calls inserted into the store`, async () => {
    const records = Array.from({ length: SEEDED_CALLS }, () => syntheticCall(owner, s.config.oracleDid, s.oracleKeys.publicKey));
    await Promise.all(records.map((record) => s.backend.store.insert(record)));
    return records;
  });

  if (STORE === 'lowdb') {
    postgres = await timed('PostgreSQL up', () => startPostgres());
    const url = await postgres.createDatabase('bench');
    onPostgres = await timed('a second backend up on PostgreSQL', () => startSecondBackend(s, { databaseUrl: url }));
    const store = onPostgres.backend.store;
    await timed(`the same ${SEEDED_CALLS} calls inserted into PostgreSQL`, () => Promise.all(seeded.map((record) => store.insert(record))));
  }

  // The figures are only worth something if the requests do what they should: check one of each first.
  const keyCall = seeded[Math.floor(seeded.length / 2)]!;
  const keyUrl = `${s.backend.url}/calls/${encodeURIComponent(keyCall.callId)}/key`;
  const listUrl = `${s.backend.url}/calls`;
  bare = await startBareApp();
  {
    const key = await s.api('GET', `/calls/${encodeURIComponent(keyCall.callId)}/key`, { apiKey: AGENT_API_KEY });
    check(key.status === 200 && key.body.encryptionKey === keyCall.encryptionKey, `GET key answered ${key.status} ${JSON.stringify(key.body)}`);
    const list = await s.api('GET', '/calls', { session: user.session });
    check(list.status === 200 && list.body.calls.length === 20 && typeof list.body.nextCursor === 'string', `GET /calls answered ${list.status}`);
    if (onPostgres) {
      const onDb = await fetch(`${onPostgres.backend.url}/calls/${encodeURIComponent(keyCall.callId)}/key`, { headers: { 'x-api-key': AGENT_API_KEY } });
      const body = (await onDb.json()) as { encryptionKey?: string };
      check(onDb.status === 200 && body.encryptionKey === keyCall.encryptionKey, `GET key on PostgreSQL answered ${onDb.status} ${JSON.stringify(body)}`);
    }
    const hello = await fetch(bare.url).then((r) => r.text());
    check(hello === 'hello', `the bare app answered ${hello}`);
  }

  load = await LoadGenerator.start();
  progress(
    `load: ${CONNECTIONS} connections; ${WARMUP_SECONDS} s warm-up per target (discarded), then ${ROUNDS} rounds of ${MEASURED_SECONDS} s per target, interleaved`,
  );
  const targets: Target[] = [
    { job: { name: 'bare Koa (hello)', url: bare.url }, rounds: [] },
    { job: { name: 'GET /calls/:callId/key', url: keyUrl, headers: { 'x-api-key': AGENT_API_KEY } }, rounds: [] },
    { job: { name: 'GET /calls (limit 20)', url: listUrl, headers: { authorization: `Bearer ${user.session}` } }, rounds: [] },
  ];
  if (onPostgres) {
    const url = `${onPostgres.backend.url}/calls/${encodeURIComponent(keyCall.callId)}/key`;
    targets.push({ job: { name: 'GET /calls/:callId/key (PostgreSQL)', url, headers: { 'x-api-key': AGENT_API_KEY } }, rounds: [] });
  }
  await measureAll(load, targets);
  await load.close();
  load = undefined;
  await bare.close();
  bare = undefined;

  const baseline = targets[0]!;
  const summaries = targets.map((target) => ({
    name: target.job.name,
    reqPerSec: median(target.rounds.map((r) => r.reqPerSec)),
    p50: median(target.rounds.map((r) => r.p50)),
    p99: median(target.rounds.map((r) => r.p99)),
    ratio: median(target.rounds.map((r, i) => r.reqPerSec / baseline.rounds[i]!.reqPerSec)),
    serverCpuUs: median(target.rounds.map((r) => r.serverCpuUs)),
    perRound: target.rounds.map((r) => fixed(r.reqPerSec, 0)).join(' / '),
    failures: target.rounds.reduce((sum, r) => sum + r.non2xx + r.errors, 0),
  }));
  const rows = summaries.map((r) => [
    r.name,
    fixed(r.reqPerSec, 0),
    fixed(r.p50, 2),
    fixed(r.p99, 2),
    fixed(r.ratio, 2),
    fixed(r.serverCpuUs, 1),
    r.perRound,
    String(r.failures),
  ]);
  // The key route on PostgreSQL over the same route on lowdb, round by round (median of the rounds' ratios).
  const keyOnLowdb = targets[1]!;
  const keyOnPostgres = targets[3];
  const postgresKeyRatio = keyOnPostgres && median(keyOnPostgres.rounds.map((r, i) => r.reqPerSec / keyOnLowdb.rounds[i]!.reqPerSec));
  const loadClean = targets.every((target) => target.rounds.every((r) => r.non2xx === 0 && r.errors === 0 && r.ok > 0));

  // 200 concurrent status updates by the agent, each mirrored to Matrix as an edit of a real event.
  const updateTargets = await timed(`${UPDATES} call events announced in Matrix and their calls stored as active`, async () => {
    const calls = await pool(UPDATES, 8, () => announceCall(s, user));
    const records = calls.map((call) => recordForEvent(owner, call));
    await Promise.all(records.map((record) => s.backend.store.insert(record)));
    return records;
  });
  const fire = performance.now();
  const responses = await Promise.all(
    updateTargets.map(async (record: CallRecord) => {
      try {
        const response = await fetch(`${s.backend.url}/calls/${encodeURIComponent(record.callId)}/update`, {
          method: 'POST',
          headers: { 'x-api-key': AGENT_API_KEY, 'content-type': 'application/json' },
          body: JSON.stringify({ status: 'ended' }),
        });
        const body = (await response.json().catch(() => undefined)) as { call?: { status?: string }; mirrored?: boolean } | undefined;
        return { status: response.status, ended: body?.call?.status === 'ended', mirrored: body?.mirrored === true };
      } catch (error) {
        return { status: 0, ended: false, mirrored: false, error: (error as Error).message };
      }
    }),
  );
  const updateMs = performance.now() - fire;
  const answered200 = responses.filter((r) => r.status === 200).length;
  const answeredEnded = responses.filter((r) => r.status === 200 && r.ended).length;
  const mirrored = responses.filter((r) => r.mirrored).length;
  const otherStatuses = [...new Set(responses.filter((r) => r.status !== 200).map((r) => r.status))];
  let endedInMemory = 0;
  for (const record of updateTargets) if ((await s.backend.store.get(record.callId))?.status === 'ended') endedInMemory += 1;
  const diskStatus = await durableStatuses(s);
  const endedOnDisk = updateTargets.filter((record) => diskStatus.get(record.callId) === 'ended').length;
  const lost = updateTargets.filter((record, i) => responses[i]!.status === 200 && diskStatus.get(record.callId) !== 'ended').length;
  const updatesClean = answered200 === UPDATES && answeredEnded === UPDATES && endedInMemory === UPDATES && endedOnDisk === UPDATES && lost === 0;

  const out = [
    '',
    `Backend benchmark: loopback, ${CONNECTIONS} connections, ${ROUNDS} interleaved rounds of ${MEASURED_SECONDS} s per target ` +
      `after ${WARMUP_SECONDS} s warm-up; ${SEEDED_CALLS + REAL_SYNCS} stored calls for the user in ${STORE === 'postgres' ? 'PostgreSQL' : 'calls.json'}; node ${process.version}`,
    'req/s, p50, p99, "vs bare" (req/s over the bare app\'s in the same round) and "server µs/req" (CPU time of the',
    'process serving them per answer) are medians over the rounds.',
    '',
    table(['name', 'req/s', 'p50 ms', 'p99 ms', 'vs bare', 'server µs/req', 'req/s per round', 'failures'], rows),
    '',
    `goal: both API routes at >= ${GOAL_RATIO} of the bare app's req/s -> ` +
      summaries
        .slice(1, 3)
        .map((r) => `${r.name} ${fixed(r.ratio, 2)} ${r.ratio >= GOAL_RATIO ? 'meets it' : 'BELOW'}`)
        .join('; '),
    ...(postgresKeyRatio === undefined
      ? []
      : [
          `key route on PostgreSQL: ${fixed(summaries[3]!.reqPerSec, 0)} req/s against ${fixed(summaries[1]!.reqPerSec, 0)} on lowdb: ` +
            `${fixed(postgresKeyRatio, 2)} of it (goal >= ${POSTGRES_KEY_GOAL}: ${postgresKeyRatio >= POSTGRES_KEY_GOAL ? 'meets it' : 'BELOW'})`,
        ]),
    '',
    `${UPDATES} concurrent POST /calls/:callId/update {"status":"ended"} (agent, each mirrored to Matrix):`,
    `  wall time:        ${fixed(updateMs, 0)} ms`,
    `  answered 200:     ${answered200}/${UPDATES}${otherStatuses.length > 0 ? ` (others: ${otherStatuses.join(', ')})` : ''}`,
    `  mirrored:         ${mirrored}/${UPDATES}`,
    `  ended in memory:  ${endedInMemory}/${UPDATES}`,
    `  ended on disk:    ${endedOnDisk}/${UPDATES} (${STORE === 'postgres' ? 'the database' : 'calls.json'}, read back after the updates)`,
    `  lost writes:      ${lost}`,
    '',
    `total run time: ${elapsed()}`,
    '',
  ];
  process.stdout.write(out.join('\n'));
  if (!loadClean) process.stderr.write('[bench] some load requests failed: the throughput figures are not valid\n');
  if (!updatesClean) process.stderr.write('[bench] the concurrent update check failed\n');
  return loadClean && updatesClean;
}

let ok = false;
try {
  ok = await main();
} catch (error) {
  process.stderr.write(`[bench] failed: ${(error as Error).stack ?? String(error)}\n`);
} finally {
  await timed('stack stopped', cleanUp);
}
process.exit(ok ? 0 : 1);
