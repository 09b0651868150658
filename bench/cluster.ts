/**
 * `npm run bench:cluster`: the cluster of docs/deploy.md on one machine (scripts/stack/cluster.ts:
 * nginx, two backends on PostgreSQL, two LiveKit nodes on Redis, two agent workers, Synapse) under a
 * bounded load through nginx: BENCH_USERS simulated users (6) each set up BENCH_CALLS_PER_USER calls (4)
 * one after another: the call event in Matrix, the sync (the set-up: the backend reads the event,
 * dispatches the agent and answers a room token), BENCH_KEY_FETCHES key fetches as the agent makes
 * them (5), and the end. The agent workers take every dispatch (the key they fetch is real); nobody
 * joins the rooms.
 *
 * Prints per-backend and total throughput (answers per second of the load), p50/p99 set-up and key
 * latency, and, as its last line:
 * `cluster: <calls> calls over <backends> backends, <workers> agent workers, <nodes> LiveKit nodes; lost <n>; failed <n>`
 * (lost: a sync or an end answered 2xx that the database does not show; failed: an answer that is not
 * 2xx). Before that line it measures the agent's key route on PostgreSQL (backend A) against the same
 * route on lowdb (a backend started beside the cluster for this), the same call in both stores,
 * requested directly with autocannon in a child process: BENCH_KEY_ROUNDS interleaved rounds (8) of
 * 1 s each after a 1 s warm-up, the ratio being the median of the rounds' ratios (goal: at least 0.5).
 * Exits 1 when anything was lost or failed, or the ratio is under 0.5. A watchdog stops the run after
 * 300 s.
 */
import pg from 'pg';
import { AGENT_API_KEY, announceCall, syncCall } from '../scripts/stack/stack.ts';
import type { ApiResponse, StartedCall, TestUser } from '../scripts/stack/stack.ts';
import { startCluster } from '../scripts/stack/cluster.ts';
import type { Cluster } from '../scripts/stack/cluster.ts';
import { LoadGenerator } from './lib/load.ts';
import { guardRun, progress, timed } from './lib/run.ts';
import { startSecondBackend } from './lib/second-backend.ts';
import { syntheticCall } from './lib/seed.ts';
import { setting } from './lib/settings.ts';
import { median, percentile } from './lib/stats.ts';

const USERS = setting('BENCH_USERS', 6, 1, 20);
const CALLS_PER_USER = setting('BENCH_CALLS_PER_USER', 4, 1, 20);
const KEY_FETCHES = setting('BENCH_KEY_FETCHES', 5, 1, 50);
const KEY_ROUNDS = setting('BENCH_KEY_ROUNDS', 8, 1, 40);
const KEY_RATIO_GOAL = 0.5;
const WATCHDOG_MS = 300_000;

let cluster: Cluster | undefined;
guardRun({ stopping: 'the cluster', watchdogMs: WATCHDOG_MS, graceMs: 20_000, cleanUp: async () => void (await cluster?.stop()) });

type User = TestUser & { roomId: string };

interface Answer {
  readonly kind: 'sync' | 'key' | 'end';
  readonly callId: string;
  readonly status: number;
  readonly ms: number;
  /** The backend that answered (the last one nginx tried). */
  readonly backend: string;
}

async function timedRequest(kind: Answer['kind'], callId: string, request: () => Promise<ApiResponse>): Promise<Answer> {
  const started = performance.now();
  const response = await request().catch(() => ({ status: 0, headers: new Headers(), body: undefined }) as ApiResponse);
  const backend = response.headers.get('x-upstream')?.split(', ').at(-1) ?? 'none';
  return { kind, callId, status: response.status, ms: performance.now() - started, backend };
}

/** One simulated user: calls one after another, each set up, keyed by the agent's fetches, and ended. */
async function userLoad(c: Cluster, user: User, answers: Answer[]): Promise<void> {
  for (let i = 0; i < CALLS_PER_USER; i += 1) {
    const call: StartedCall = await announceCall(c.stack, user, { callType: 'audio' });
    const path = (tail: string) => `/calls/${encodeURIComponent(call.callId)}/${tail}`;
    const sync = await timedRequest('sync', call.callId, () => syncCall(c.viaProxy, user, call));
    answers.push(sync);
    if (sync.status !== 200) continue;
    for (let k = 0; k < KEY_FETCHES; k += 1) {
      answers.push(await timedRequest('key', call.callId, () => c.viaProxy.api('GET', path('key'), { apiKey: AGENT_API_KEY })));
    }
    answers.push(await timedRequest('end', call.callId, () => c.viaProxy.api('POST', path('update'), { session: user.session, body: { status: 'ended' } })));
  }
}

/** The key route on PostgreSQL (backend A) and on lowdb (a backend beside it): req/s medians and the median of the rounds' ratios. */
async function keyRouteOnStores(c: Cluster): Promise<{ postgres: number; lowdb: number; ratio: number }> {
  const lowdb = await timed('a backend on lowdb beside the cluster', () => startSecondBackend(c.stack, 'lowdb'));
  const load = await LoadGenerator.start();
  try {
    const record = syntheticCall(
      { userId: '@keybench:localhost', matrixRoomId: '!keybench:localhost' },
      c.stack.config.oracleDid,
      c.stack.oracleKeys.publicKey,
    );
    await Promise.all([c.stack.backend.store.insert(record), lowdb.backend.store.insert(record)]);
    const targets = [c.stack.backend.url, lowdb.backend.url].map((base) => ({
      name: base === lowdb.backend.url ? 'key (lowdb)' : 'key (PostgreSQL)',
      url: `${base}/calls/${encodeURIComponent(record.callId)}/key`,
      headers: { 'x-api-key': AGENT_API_KEY },
      rounds: [] as number[],
    }));
    // The figures count only if both answer the key.
    for (const target of targets) {
      const body = (await (await fetch(target.url, { headers: target.headers })).json()) as { encryptionKey?: string };
      if (body.encryptionKey !== record.encryptionKey) throw new Error(`${target.name} did not answer the key: ${JSON.stringify(body)}`);
    }
    for (const target of targets) await load.run({ ...target, connections: 10, durationSeconds: 1 });
    for (let round = 0; round < KEY_ROUNDS; round += 1) {
      for (const target of round % 2 === 0 ? targets : [...targets].reverse()) {
        const result = await load.run({ ...target, connections: 10, durationSeconds: 1 });
        if (result.non2xx + result.errors > 0) throw new Error(`${target.name}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
        target.rounds.push(result.reqPerSec);
      }
    }
    const [onPostgres, onLowdb] = targets as [(typeof targets)[0], (typeof targets)[0]];
    return {
      postgres: median(onPostgres.rounds),
      lowdb: median(onLowdb.rounds),
      ratio: median(onPostgres.rounds.map((reqPerSec, i) => reqPerSec / onLowdb.rounds[i]!)),
    };
  } finally {
    await load.close();
    await lowdb.close();
  }
}

async function main(): Promise<void> {
  cluster = await timed('cluster up (PostgreSQL, Redis, 2 LiveKit nodes, Synapse, 2 backends, nginx, 2 agent workers)', () =>
    startCluster({
      // The load is one sign-in per simulated user from loopback, and many syncs per user.
      // Every backend (and the lowdb one beside them) logs warnings only: the same cost on each.
      env: { LOG_LEVEL: 'warn', RATE_LIMIT_AUTH_PER_MINUTE: '1000', USER_SYNCS_PER_MINUTE: '10000', USER_MAX_OPEN_CALLS: '100' },
      revealUpstream: true,
    }),
  );
  const c = cluster;
  const users = await timed(`${USERS} users with their rooms`, () => Promise.all(Array.from({ length: USERS }, (_, i) => c.stack.newUser(`load${i}`))));

  const answers: Answer[] = [];
  const started = performance.now();
  await timed(`${USERS * CALLS_PER_USER} calls set up, keyed ${KEY_FETCHES}× and ended through nginx`, () =>
    Promise.all(users.map((user) => userLoad(c, user, answers))),
  );
  const seconds = (performance.now() - started) / 1000;

  // Lost: a sync or an end answered 2xx that the database does not show.
  const client = new pg.Client({ connectionString: c.databaseUrl });
  await client.connect();
  const rows = new Map(
    (await client.query<{ call_id: string; status: string }>('SELECT call_id, status FROM calls')).rows.map((row) => [row.call_id, row.status]),
  );
  await client.end();
  const ok = answers.filter((answer) => answer.status >= 200 && answer.status < 300);
  const lost = ok.filter((answer) => (answer.kind === 'sync' && !rows.has(answer.callId)) || (answer.kind === 'end' && rows.get(answer.callId) !== 'ended'));
  const failed = answers.filter((answer) => answer.status < 200 || answer.status >= 300);

  const names = new Map([
    [c.backends[0], 'backend A'],
    [c.backends[1], 'backend B'],
  ]);
  console.log(`\nload: ${answers.length} answers in ${seconds.toFixed(1)} s through nginx`);
  for (const [address, name] of names) {
    const mine = answers.filter((answer) => answer.backend === address);
    console.log(`  ${name} (${address}): ${mine.length} answers, ${(mine.length / seconds).toFixed(1)}/s`);
  }
  console.log(`  total: ${(answers.length / seconds).toFixed(1)}/s`);
  const ms = (kind: Answer['kind']) => ok.filter((answer) => answer.kind === kind).map((answer) => answer.ms);
  for (const kind of ['sync', 'key', 'end'] as const) {
    console.log(
      `  ${kind === 'sync' ? 'set-up (sync)' : kind}: p50 ${percentile(ms(kind), 50).toFixed(1)} ms, p99 ${percentile(ms(kind), 99).toFixed(1)} ms (${ms(kind).length})`,
    );
  }
  if (failed.length > 0) console.log(`  failed: ${failed.map((answer) => `${answer.kind} ${answer.status}`).join(', ')}`);

  const keys = await timed(`the key route on PostgreSQL and on lowdb, ${KEY_ROUNDS} interleaved rounds`, () => keyRouteOnStores(c));
  const keyMet = keys.ratio >= KEY_RATIO_GOAL;
  console.log(
    `  key route: PostgreSQL ${keys.postgres.toFixed(0)} req/s, lowdb ${keys.lowdb.toFixed(0)} req/s; ratio ${keys.ratio.toFixed(2)} (goal >= ${KEY_RATIO_GOAL}: ${keyMet ? 'met' : 'MISSED'})`,
  );

  await c.stop();
  cluster = undefined;
  const calls = answers.filter((answer) => answer.kind === 'sync').length;
  console.log(`cluster: ${calls} calls over 2 backends, ${c.workers.length} agent workers, 2 LiveKit nodes; lost ${lost.length}; failed ${failed.length}`);
  process.exit(lost.length === 0 && failed.length === 0 && keyMet ? 0 : 1);
}

main().catch(async (error: Error) => {
  progress(`failed: ${error.stack ?? error.message}`);
  await cluster?.stop().catch(() => {});
  process.exit(1);
});
