/**
 * Running a service as a child process: free ports, waiting until it answers, stopping it, and a clear
 * error (with the tail of its log) when it cannot start.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import dgram from 'node:dgram';
import { createWriteStream, readFileSync } from 'node:fs';
import net from 'node:net';

export class ServiceError extends Error {
  override readonly name = 'ServiceError';
}

export async function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface RunningProcess {
  readonly child: ChildProcess;
  readonly logFile: string;
  /** The last lines of the service's log, for error messages. */
  logTail(lines?: number): string;
  /** SIGTERM, then SIGKILL if it has not exited within the grace period. */
  stop(graceMs?: number): Promise<void>;
}

export function startProcess(name: string, command: string, args: readonly string[], logFile: string, options: SpawnOptions = {}): RunningProcess {
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  running.add(child);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      running.delete(child);
      resolve();
    });
    child.once('error', (error) => {
      log.write(`\n${name} could not be started: ${error.message}\n`);
      running.delete(child);
      resolve();
    });
  });
  const logTail = (lines = 30): string => {
    try {
      return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  };
  return {
    child,
    logFile,
    logTail,
    async stop(graceMs = 5000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      log.end();
    },
  };
}

/** Polls `url` until it answers 2xx; fails early, with the log's tail, if the process exits. */
export async function waitForHttp(name: string, url: string, proc: RunningProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastProblem = 'no answer yet';
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
      throw new ServiceError(
        `${name} exited (${proc.child.exitCode ?? proc.child.signalCode}) before it was ready. ` + `Its log (${proc.logFile}) ends with:\n${proc.logTail()}`,
      );
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
      lastProblem = `HTTP ${response.status}`;
    } catch (error) {
      lastProblem = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await proc.stop();
  throw new ServiceError(
    `${name} did not answer at ${url} within ${timeoutMs / 1000} s (${lastProblem}). ` + `Its log (${proc.logFile}) ends with:\n${proc.logTail()}`,
  );
}

/** Runs a command to completion, passing each output line to `onLine`; rejects with the output's tail. */
export async function runCommand(command: string, args: readonly string[], onLine: (line: string) => void, options: SpawnOptions = {}): Promise<void> {
  const tail: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let pending = '';
    const onData = (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        tail.push(line);
        if (tail.length > 40) tail.shift();
        onLine(line);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('error', (error) => reject(new ServiceError(`${command} could not be run: ${error.message}`)));
    child.once('close', (code) => {
      if (pending) tail.push(pending);
      if (code === 0) resolve();
      else reject(new ServiceError(`${command} ${args.join(' ')} failed (exit ${code}):\n${tail.join('\n')}`));
    });
  });
}
