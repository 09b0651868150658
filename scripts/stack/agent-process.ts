/** The real agent worker as a child process (`node agent/main.ts start`), with its output captured. */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../services/paths.ts';
import { freeTcpPort } from '../services/process.ts';
import type { Stack } from './stack.ts';
import { AGENT_API_KEY } from './stack.ts';

export interface AgentProcess {
  readonly name: string;
  readonly output: string[];
  readonly child: ChildProcess;
  /** Resolves once a line matching `pattern` has been printed. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
  /** SIGKILL of the worker and its job processes at once, as when its machine dies. */
  killAll(): Promise<void>;
}

/** The process IDs under `pid` (children first-level and below), read from `ps`. */
export function descendants(pid: number): number[] {
  // ps exits with 1 when there is none.
  const children = tryExec(() => execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }))
    .split('\n')
    .map((line) => Number(line.trim()))
    .filter((child) => child > 0);
  return children.flatMap((child) => [child, ...descendants(child)]);
}

/**
 * Whether every job process of `agent` has started (finished its prewarm, read from the worker's log):
 * none is being forked, waiting for its turn (agent/warm-up-turn.ts) or loading.
 */
export function jobProcessesStarted(agent: AgentProcess): boolean {
  const initialized = new Set<number>();
  for (const text of agent.output) {
    if (!text.startsWith('{') || !text.includes('"job runner initialized"')) continue;
    try {
      const line = JSON.parse(text) as { pid?: number };
      if (line.pid) initialized.add(line.pid);
    } catch {
      // not JSON
    }
  }
  return descendants(agent.child.pid!).every((pid) => {
    try {
      return !readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('job_proc_lazy_main') || initialized.has(pid);
    } catch {
      return true; // gone
    }
  });
}

function tryExec(run: () => string): string {
  try {
    return run();
  } catch {
    return '';
  }
}

/** `script`: another worker to run the same way (a benchmark's baseline agent), relative to the project. */
export async function startAgent(stack: Stack, env: Record<string, string> = {}, script = 'agent/main.ts'): Promise<AgentProcess> {
  const name = env.LIVEKIT_AGENT_NAME ?? 'oracle';
  // On Node's own type stripping, as `npm run agent`: the job processes inherit the worker's flags, and
  // a loader would cost each of them start-up time and memory (agent/tsconfig.json).
  const child = spawn(process.execPath, [path.join(PROJECT_ROOT, script), 'start', '--log-level', 'debug'], {
    cwd: PROJECT_ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LIVEKIT_URL: stack.livekit.url,
      LIVEKIT_API_KEY: stack.livekit.apiKey,
      LIVEKIT_API_SECRET: stack.livekit.apiSecret,
      ORACLE_BACKEND_URL: stack.backend.url,
      AGENT_API_KEY,
      ORACLE_PRIVATE_KEY: stack.oracleKeys.privateKey,
      AGENT_HTTP_PORT: String(await freeTcpPort()),
      AGENT_IDLE_PROCESSES: '1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line) continue;
      output.push(line);
      for (const waiter of [...waiters]) {
        if (waiter.pattern.test(line)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const agent: AgentProcess = {
    name,
    output,
    child,
    waitForLine(pattern, timeoutMs = 30_000) {
      const seen = output.find((line) => pattern.test(line));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(`agent ${name} printed no line matching ${pattern} within ${timeoutMs} ms; its output ends with:\n${output.slice(-20).join('\n')}`),
            ),
          timeoutMs,
        );
        waiters.push({ pattern, resolve: (line) => (clearTimeout(timer), resolve(line)) });
      });
    },
    async killAll() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      const all = [child.pid!, ...descendants(child.pid!)];
      for (const pid of all) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }
      await exited;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
  await agent.waitForLine(/registered worker/i, 60_000);
  return agent;
}
