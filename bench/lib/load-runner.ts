/**
 * The load generator's own process (forked by `load.ts`), so that firing requests does not compete
 * with the server for the same event loop. Runs autocannon jobs sent over IPC and answers each with
 * its figures; latencies are kept as floats (autocannon's own histogram rounds to whole milliseconds).
 */
import autocannon from 'autocannon';
import type { LoadJob, LoadResult } from './load.ts';

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

async function run(job: LoadJob): Promise<LoadResult> {
  let latencies = new Float64Array(1 << 16);
  let ok = 0;
  let non2xx = 0;
  const statusCodes: Record<string, number> = {};
  const started = performance.now();
  let finished!: (result: autocannon.Result) => void;
  let failed!: (error: Error) => void;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    finished = resolve;
    failed = reject;
  });
  const instance = autocannon(
    {
      url: job.url,
      method: job.method ?? 'GET',
      headers: job.headers ?? {},
      ...(job.body !== undefined ? { body: job.body } : {}),
      connections: job.connections,
      duration: job.durationSeconds,
      pipelining: 1,
      timeout: 10,
    },
    (error: Error | null, result: autocannon.Result) => (error ? failed(error) : finished(result)),
  );
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    statusCodes[statusCode] = (statusCodes[statusCode] ?? 0) + 1;
    if (statusCode < 200 || statusCode >= 300) {
      non2xx += 1;
      return;
    }
    if (ok === latencies.length) {
      const bigger = new Float64Array(latencies.length * 2);
      bigger.set(latencies);
      latencies = bigger;
    }
    latencies[ok] = responseTime;
    ok += 1;
  });
  const result = await done;
  const elapsedSeconds = (performance.now() - started) / 1000;
  const sorted = latencies.subarray(0, ok).sort();
  let sum = 0;
  for (const value of sorted) sum += value;
  return {
    name: job.name,
    ok,
    non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    elapsedSeconds,
    reqPerSec: ok / elapsedSeconds,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    mean: ok > 0 ? sum / ok : Number.NaN,
  };
}

process.on('message', (message: { id: number; job: LoadJob } | { stop: true }) => {
  if ('stop' in message) {
    process.disconnect();
    return;
  }
  run(message.job).then(
    (result) => process.send!({ id: message.id, result }),
    (error: Error) => process.send!({ id: message.id, error: error.stack ?? error.message }),
  );
});
process.send!({ ready: true });
