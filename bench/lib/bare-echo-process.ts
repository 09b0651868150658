/** The bare echo participant (bare-echo.ts) as a child process of the benchmark, told which rooms to join. */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export class BareEcho {
  private readonly waiters = new Map<string, { resolve: () => void; reject: (error: Error) => void }>();
  private readonly leaving = new Map<string, () => void>();
  private readonly exited: Promise<void>;

  private constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const [word, ...rest] = line.split(' ');
      const name = rest.join(' ');
      if (word === 'left') {
        this.leaving.get(name)?.();
        this.leaving.delete(name);
      } else if (word === 'joined') {
        this.waiters.get(name)?.resolve();
        this.waiters.delete(name);
      } else if (word === 'failed') {
        for (const waiter of this.waiters.values()) waiter.reject(new Error(`bare echo: ${name}`));
        this.waiters.clear();
      }
    });
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  /** Starts it on the project's Node with its own type stripping, as the agent worker runs. */
  static start(): BareEcho {
    const script = fileURLToPath(new URL('./bare-echo.ts', import.meta.url));
    const child = spawn(process.execPath, [script], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'production' },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    return new BareEcho(child);
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Joins the room (E2EE with `key`) and resolves once its echo track is published. */
  join(url: string, token: string, roomName: string, key: string): Promise<void> {
    const joined = new Promise<void>((resolve, reject) => this.waiters.set(roomName, { resolve, reject }));
    this.child.stdin!.write(`${JSON.stringify({ join: { url, token, key } })}\n`);
    return joined;
  }

  /** Resolves once it has left the room (after its person did), or after `timeoutMs`. */
  left(roomName: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.leaving.set(roomName, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Leaves every room and exits (killed if it has not after 5 s). */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.stdin!.write(`${JSON.stringify({ leave: true })}\n`);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}
