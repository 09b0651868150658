/** Runs autocannon in a child process (see `load-runner.ts`) and hands back its figures. */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface LoadJob {
  readonly name: string;
  readonly url: string;
  readonly method?: 'GET' | 'POST';
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly connections: number;
  readonly durationSeconds: number;
}

export interface LoadResult {
  readonly name: string;
  /** 2xx responses. */
  readonly ok: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  readonly statusCodes: Record<string, number>;
  readonly elapsedSeconds: number;
  /** 2xx responses per second of wall time. */
  readonly reqPerSec: number;
  /** Latencies of 2xx responses, in milliseconds. */
  readonly p50: number;
  readonly p99: number;
  readonly mean: number;
}

type Reply = { ready: true } | { id: number; result: LoadResult } | { id: number; error: string };

export class LoadGenerator {
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (r: LoadResult) => void; reject: (e: Error) => void }>();

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (reply: Reply) => {
      if ('ready' in reply) return;
      const waiter = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if ('error' in reply) waiter?.reject(new Error(`load generator: ${reply.error}`));
      else waiter?.resolve(reply.result);
    });
    child.once('exit', (code, signal) => {
      for (const waiter of this.waiting.values()) waiter.reject(new Error(`the load generator exited (${code ?? signal})`));
      this.waiting.clear();
    });
  }

  static async start(): Promise<LoadGenerator> {
    const script = fileURLToPath(new URL('./load-runner.ts', import.meta.url));
    // The child runs TypeScript the way this process does (tsx's loader), but without profiling flags.
    const execArgv = process.execArgv.filter((arg) => !arg.startsWith('--cpu-prof') && !arg.startsWith('--prof'));
    const child = fork(script, [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the load generator did not start within 20 s')), 20_000);
      child.once('message', () => {
        clearTimeout(timer);
        resolve();
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the load generator exited at start (${code})`));
      });
    });
    return new LoadGenerator(child);
  }

  run(job: LoadJob): Promise<LoadResult> {
    const id = (this.nextId += 1);
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.child.send({ id, job });
    });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.send({ stop: true });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }
}
