/**
 * The project runs on the Node it pins (the `node` dev dependency), not on the machine's: the test
 * process, npm scripts started from a shell whose `node` is another, and every command the scripts
 * run (`tsx`, `wtr`, `vite`, the `oracle-call` CLI). The backend, the agent worker and their job
 * processes are started with `process.execPath` (test/helpers, scripts/dev.ts, @livekit/agents' `fork`),
 * so they run on the Node of the process that starts them.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../scripts/services/paths.ts';

const run = promisify(execFile);
const pinned = `v${(JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies.node}`;
const BIN = path.join(PROJECT_ROOT, 'node_modules', '.bin');
/** The PATH of a shell outside the project: without any node_modules/.bin (npm adds those to scripts). */
const SHELL_PATH = (process.env.PATH ?? '')
  .split(path.delimiter)
  .filter((entry) => !entry.endsWith(`${path.sep}node_modules${path.sep}.bin`) && !entry.includes(`${path.sep}node-gyp-bin`))
  .join(path.delimiter);
const PRELOAD = path.join(PROJECT_ROOT, 'test/fixtures/runtime/print-version.cjs');

describe('the runtime', () => {
  it(`the tests run on the pinned Node (${pinned})`, () => {
    assert.equal(process.version, pinned);
    assert.equal(Number(process.versions.node.split('.')[0]), 24);
  });

  it("npm scripts run on it when the shell's own node is another", async () => {
    const { stdout } = await run('npm', ['run', '--silent', 'runtime'], { cwd: PROJECT_ROOT, env: { ...process.env, PATH: SHELL_PATH } });
    const [, version, execPath] = /\[runtime\] Node (\S+) \((.+)\)/.exec(stdout) ?? [];
    assert.equal(version, pinned, stdout);
    assert.ok(execPath?.startsWith(path.join(PROJECT_ROOT, 'node_modules', 'node')), `not the project's Node: ${execPath}`);
  });

  for (const command of ['tsx', 'wtr', 'vite', 'bin/oracle-call.js']) {
    it(`${command} starts on it (as npm scripts and npx run it)`, async () => {
      const file = command.startsWith('bin/') ? path.join(PROJECT_ROOT, command) : path.join(BIN, command);
      const { stdout } = await run(file, ['--version'], {
        cwd: PROJECT_ROOT,
        env: { ...process.env, PATH: `${BIN}${path.delimiter}${SHELL_PATH}`, NODE_OPTIONS: `--require "${PRELOAD}"` },
      });
      assert.equal(stdout.trim(), `node ${pinned}`);
    });
  }
});
