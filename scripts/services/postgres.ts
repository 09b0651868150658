/**
 * The real PostgreSQL server: Debian's `postgresql` package (installed with apt-get when missing), a new
 * cluster made by `initdb` in a temp folder and started on a free loopback port. The server refuses to
 * run as root, so as root it runs as the `postgres` user the Debian package creates.
 */
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { installDebianPackage } from './debian-package.ts';
import { ServiceError, freeTcpPort, runCommand, startProcess } from './process.ts';
import type { RunningProcess } from './process.ts';

const DEBIAN_ROOT = '/usr/lib/postgresql';

/** The newest `/usr/lib/postgresql/<version>/bin` that holds both `initdb` and `postgres`. */
function debianBinDir(): string | undefined {
  if (!existsSync(DEBIAN_ROOT)) return undefined;
  const versions = readdirSync(DEBIAN_ROOT)
    .filter((name) => /^\d+$/.test(name))
    .sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const bin = path.join(DEBIAN_ROOT, version, 'bin');
    if (existsSync(path.join(bin, 'initdb')) && existsSync(path.join(bin, 'postgres'))) return bin;
  }
  return undefined;
}

export async function postgresVersion(binDir: string): Promise<string> {
  const { stdout } = await promisify(execFile)(path.join(binDir, 'postgres'), ['--version']);
  return stdout.trim();
}

/** The folder of the PostgreSQL server binaries, installing Debian's `postgresql` on first use. */
export function installPostgres(): Promise<string> {
  return installDebianPackage({ service: 'PostgreSQL', pkg: 'postgresql', find: debianBinDir });
}

/** Who runs the server: the current user, or the `postgres` user when that is root. */
async function serverUser(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const run = promisify(execFile);
    const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  } catch {
    throw new ServiceError('PostgreSQL refuses to run as root, and there is no "postgres" user to run it as (Debian\'s postgresql package makes one)');
  }
}

export interface PostgresServer {
  /** `postgres://postgres@127.0.0.1:PORT/postgres`: the superuser, no password (trust on loopback). */
  readonly url: string;
  readonly port: number;
  readonly process: RunningProcess;
  /** A new empty database on this server; its URL. */
  createDatabase(name?: string): Promise<string>;
  stop(): Promise<void>;
}

let databaseCounter = 0;

export async function startPostgres(): Promise<PostgresServer> {
  const bin = await installPostgres();
  const user = await serverUser();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'oracle-call-postgres-'));
  const dataDir = path.join(dir, 'data');
  if (user) chownSync(dir, user.uid, user.gid);
  const asUser = user ? { uid: user.uid, gid: user.gid } : {};
  try {
    await runCommand(
      path.join(bin, 'initdb'),
      ['--pgdata', dataDir, '--username', 'postgres', '--auth', 'trust', '--encoding', 'UTF8', '--locale', 'C', '--no-sync'],
      () => {},
      { ...asUser, cwd: dir },
    );
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw new ServiceError(`PostgreSQL: initdb failed: ${(error as Error).message}`);
  }
  const port = await freeTcpPort();
  const proc = startProcess(
    'PostgreSQL',
    path.join(bin, 'postgres'),
    ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dir}`, '-c', 'max_connections=200'],
    path.join(dir, 'postgres.log'),
    { ...asUser, cwd: dir },
  );
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const stop = async () => {
    // SIGQUIT is the immediate shutdown: no checkpoint, which a cluster about to be deleted does not need
    // (SIGTERM would wait for every pooled client to disconnect).
    if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGQUIT');
    await proc.stop(15_000);
    // A server process that outlived a SIGKILLed postmaster may still be writing for a moment.
    await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
  };
  try {
    await waitForPostgres(url, proc);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url,
    port,
    process: proc,
    async createDatabase(name = `test_${process.pid}_${++databaseCounter}`) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
      } finally {
        await client.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${encodeURIComponent(name)}`;
    },
    stop,
  };
}

/** Connects until the server answers; fails early, with the log's tail, if it exits. */
async function waitForPostgres(url: string, proc: RunningProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastProblem = 'no answer yet';
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
      throw new ServiceError(
        `PostgreSQL exited (${proc.child.exitCode ?? proc.child.signalCode}) before it was ready. Its log (${proc.logFile}) ends with:\n${proc.logTail()}`,
      );
    }
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch (error) {
      lastProblem = (error as Error).message;
    } finally {
      await client.end().catch(() => {});
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new ServiceError(
    `PostgreSQL did not accept connections at ${url} within ${timeoutMs / 1000} s (${lastProblem}). Its log (${proc.logFile}) ends with:\n${proc.logTail()}`,
  );
}
