/**
 * `npm run test:node`: the Node tests in two runs of Node's test runner. The unit files and the
 * integration files that only talk HTTP and Matrix run two at a time (each starts its own services on
 * free ports and mostly waits on them). The files that judge real audio (a tone's purity, an echo heard
 * back, an agent's timing) and the end-to-end files (real audio in headless Chromium, one build of the
 * pages) run one at a time after them, so that no other test takes the CPU their audio needs. Both runs
 * always happen; the command fails when either does.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

/** Integration files that measure audio or run the real agent. */
const ALONE = new Set(['agent.test.ts', 'agent-capacity.test.ts', 'livekit-e2ee.test.ts', 'cluster.test.ts']);

const files = (dir: string, keep: (name: string) => boolean = () => true) =>
  readdirSync(dir)
    .filter((name) => name.endsWith('.test.ts') && keep(name))
    .sort()
    .map((name) => `${dir}/${name}`);

const RUNS = [
  {
    name: 'unit and integration',
    concurrency: 2,
    files: [...files('test/unit'), ...files('test/integration', (name) => !ALONE.has(name))],
  },
  {
    name: 'audio and end-to-end',
    concurrency: 1,
    files: [...files('test/integration', (name) => ALONE.has(name)), ...files('test/e2e')],
  },
];

let failed = false;
for (const run of RUNS) {
  console.log(`[test:node] ${run.name} tests (${run.files.length} files), ${run.concurrency} at a time`);
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
