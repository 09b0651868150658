/**
 * The backend as a child process (`node --import tsx server/main.ts`), for tests that need to kill it,
 * run two of them, or watch it refuse to start. Its stdout (pino JSON lines) and stderr are captured.
 * Every child started here is remembered; `stopAllBackends()` (in `after`) kills what is still running,
 * and a last-chance `exit` handler SIGKILLs anything left.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freeTcpPort } from '../services/process.ts';
import { callApi } from './stack.ts';
import type { ApiOptions, ApiResponse } from './stack.ts';
import { tempDir } from './temp-dir.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface BackendProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly url: string;
  readonly dataDir: string;
  /** Settles when the process has exited (never rejects). */
  readonly exited: Promise<Exit>;
  /** Everything written so far. */
  stdout(): string;
  stderr(): string;
  running(): boolean;
  /** Resolves once `GET /health` answers 200; rejects (with stderr) if the process exits first. */
  ready(timeoutMs?: number): Promise<void>;
  /** Sends a signal at once (synchronously) and returns the exit. */
  kill(signal?: NodeJS.Signals): Promise<Exit>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<Exit>;
  api(method: string, pathname: string, options?: ApiOptions): Promise<ApiResponse>;
}

const children = new Set<BackendProcess>();
process.once('exit', () => {
  for (const backend of children) if (backend.running()) backend.child.kill('SIGKILL');
});

/** A new empty data folder. */
export function tempDataDir(prefix = 'oracle-call-child-'): string {
  return tempDir(prefix);
}

/** Only what node needs from the parent, then `env`; keys whose value is undefined are left out. */
function childEnv(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'SYSTEMROOT']) {
    const value = process.env[key];
    if (value !== undefined) out[key] = value;
  }
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete out[key];
    else out[key] = value;
  }
  return out;
}

export interface SpawnOptions {
  /** Default: a free port (never the PORT in `env`, which is usually the in-process stack's). */
  readonly port?: number;
  /** Default: a new temporary folder (never the DATA_DIR in `env`). */
  readonly dataDir?: string;
}

/** Starts `server/main.ts` with exactly `env` (plus PATH/HOME), on its own port and data folder. */
export async function spawnBackend(env: Record<string, string | undefined>, options: SpawnOptions = {}): Promise<BackendProcess> {
  const port = options.port ?? (await freeTcpPort());
  const dataDir = options.dataDir ?? tempDataDir();
  const fullEnv = childEnv({ ...env, PORT: String(port), DATA_DIR: dataDir });
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: ROOT,
    env: fullEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  const exited = new Promise<Exit>((resolve) => {
    // 'close' (not 'exit') so that all of stdout and stderr has been read.
    child.once('close', (code, signal) => resolve({ code, signal }));
    child.once('error', (error) => {
      err += `\n(spawn failed: ${error.message})\n`;
      resolve({ code: null, signal: null });
    });
  });
  const host = env.HOST ?? '127.0.0.1';
  const url = `http://${host}:${port}`;
  const running = () => child.exitCode === null && child.signalCode === null;
  const backend: BackendProcess = {
    child,
    port,
    url,
    dataDir,
    exited,
    stdout: () => out,
    stderr: () => err,
    running,
    async ready(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      let exit: Exit | undefined;
      void exited.then((value) => {
        exit = value;
      });
      while (Date.now() < deadline) {
        if (exit) throw new Error(`the backend exited (${exit.code ?? exit.signal}) before it was ready; stderr:\n${err}\nstdout tail:\n${out.slice(-2000)}`);
        try {
          const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
          if (response.status === 200) return;
        } catch {
          // not listening yet
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`the backend did not answer at ${url}/health within ${timeoutMs} ms; stderr:\n${err}\nstdout tail:\n${out.slice(-2000)}`);
    },
    kill(signal = 'SIGKILL') {
      if (running()) child.kill(signal);
      return exited;
    },
    async stop(graceMs = 5000) {
      if (!running()) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const exit = await exited;
      clearTimeout(timer);
      return exit;
    },
    api: (method, pathname, options) => callApi(url, method, pathname, options),
  };
  children.add(backend);
  void exited.then(() => children.delete(backend));
  return backend;
}

/** Runs a backend that is expected to stop by itself; SIGKILLs it (and rejects) after `timeoutMs`. */
export async function runBackendToExit(
  env: Record<string, string | undefined>,
  options: SpawnOptions & { timeoutMs?: number } = {},
): Promise<Exit & { stdout: string; stderr: string; port: number; dataDir: string }> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const backend = await spawnBackend(env, options);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const result = await Promise.race([backend.exited, timedOut]);
  clearTimeout(timer);
  if (result === 'timeout') {
    await backend.kill('SIGKILL');
    throw new Error(`the backend was still running after ${timeoutMs} ms; stderr:\n${backend.stderr()}\nstdout tail:\n${backend.stdout().slice(-2000)}`);
  }
  return { ...result, stdout: backend.stdout(), stderr: backend.stderr(), port: backend.port, dataDir: backend.dataDir };
}

/** Stops every child backend still running (for `after`). */
export async function stopAllBackends(): Promise<void> {
  await Promise.all([...children].map((backend) => backend.stop(2000)));
}
