/**
 * The real Redis that LiveKit nodes share to form one cluster: Debian's `redis-server` (installed with
 * apt-get when missing), started on a free loopback port with nothing written to disk.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { installDebianPackage } from './debian-package.ts';
import { ServiceError, freeTcpPort, startProcess } from './process.ts';
import type { RunningProcess } from './process.ts';

const DEBIAN_REDIS = '/usr/bin/redis-server';

export function installRedis(): Promise<string> {
  return installDebianPackage({ service: 'Redis', pkg: 'redis-server', find: () => (existsSync(DEBIAN_REDIS) ? DEBIAN_REDIS : undefined) });
}

export async function redisVersion(binary: string): Promise<string> {
  const { stdout } = await promisify(execFile)(binary, ['--version']);
  return stdout.trim();
}

export interface RedisServer {
  /** `127.0.0.1:PORT`, as LiveKit's `redis.address` takes it. */
  readonly address: string;
  readonly process: RunningProcess;
  stop(): Promise<void>;
}

/** Resolves once the server answers PING with PONG (RESP inline command). */
async function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setTimeout(1000);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

export async function startRedis(): Promise<RedisServer> {
  const binary = await installRedis();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'oracle-call-redis-'));
  const port = await freeTcpPort();
  const proc = startProcess(
    'Redis',
    binary,
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
    path.join(dir, 'redis.log'),
  );
  const deadline = Date.now() + 20_000;
  while (!(await ping(port))) {
    if (proc.child.exitCode !== null || Date.now() > deadline) {
      await proc.stop();
      throw new ServiceError(`Redis did not answer on 127.0.0.1:${port}. Its log (${proc.logFile}) ends with:\n${proc.logTail()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    address: `127.0.0.1:${port}`,
    process: proc,
    async stop() {
      await proc.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
