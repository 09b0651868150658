/**
 * `npm run test:node`: the Node tests in two runs of Node's test runner. Unit and integration files run
 * two at a time (each integration file starts its own services on free ports and mostly waits on them);
 * the end-to-end files, which time real audio in headless Chromium and build the pages into `dist/`, run
 * one at a time after them. Both runs always happen; the command fails when either does.
 */
import { spawnSync } from 'node:child_process';

const RUNS = [
  { name: 'unit and integration', concurrency: 2, files: ['test/unit/*.test.ts', 'test/integration/*.test.ts'] },
  { name: 'end to end', concurrency: 1, files: ['test/e2e/*.test.ts'] },
];

let failed = false;
for (const run of RUNS) {
  console.log(`[test:node] ${run.name} tests, ${run.concurrency} file(s) at a time`);
  const started = Date.now();
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--test', `--test-concurrency=${run.concurrency}`, '--test-timeout=300000', ...process.argv.slice(2), ...run.files],
    { stdio: 'inherit' },
  );
  const seconds = Math.round((Date.now() - started) / 1000);
  console.log(`[test:node] ${run.name} tests: ${result.status === 0 ? 'passed' : 'FAILED'} in ${seconds} s`);
  if (result.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
