/**
 * The real nginx, as the reverse proxy in front of several backends: Debian's `nginx` (installed with
 * apt-get when missing), started on a free loopback port with a config made of the project's own
 * `deploy/nginx/oracle-call-locations.conf` (the part an operator includes as it is) and an upstream of
 * the given backends. Everything nginx writes (pid, logs, temp files) stays in a temp folder.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { installDebianPackage } from './debian-package.ts';
import { PROJECT_ROOT } from './paths.ts';
import { ServiceError, freeTcpPort, startProcess, waitForHttp } from './process.ts';
import type { RunningProcess } from './process.ts';

const DEBIAN_NGINX = '/usr/sbin/nginx';

/** The locations an operator includes in their own `server` block (see docs/deploy.md). */
export const NGINX_LOCATIONS = path.join(PROJECT_ROOT, 'deploy/nginx/oracle-call-locations.conf');

export function installNginx(): Promise<string> {
  return installDebianPackage({ service: 'nginx', pkg: 'nginx', find: () => (existsSync(DEBIAN_NGINX) ? DEBIAN_NGINX : undefined) });
}

export async function nginxVersion(binary: string): Promise<string> {
  // nginx prints its version on stderr.
  const { stderr } = await promisify(execFile)(binary, ['-v']);
  return stderr.trim();
}

export interface NginxOptions {
  /** The backends' `host:port`, balanced round-robin (the upstream's name is `oracle_call_backends`). */
  readonly backends: readonly string[];
  /** Adds `X-Upstream: <backend>` to every answer, so that a test can tell which backend answered. */
  readonly revealUpstream?: boolean;
}

export interface NginxServer {
  /** `http://127.0.0.1:PORT`: the backends as clients reach them. */
  readonly url: string;
  readonly process: RunningProcess;
  stop(): Promise<void>;
}

export async function startNginx(options: NginxOptions): Promise<NginxServer> {
  const binary = await installNginx();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'oracle-call-nginx-'));
  const port = await freeTcpPort();
  const upstream = options.backends.map((backend) => `    server ${backend} max_fails=1 fail_timeout=10s;`).join('\n');
  // The same upstream block and the same locations as deploy/nginx/oracle-call.conf; the listen line is
  // loopback on a free port, with no TLS (the tests speak plain HTTP on loopback).
  const config = `
pid ${dir}/nginx.pid;
error_log stderr warn;
worker_processes 1;
events { worker_connections 1024; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream oracle_call_backends {
${upstream}
    keepalive 16;
  }
  server {
    listen 127.0.0.1:${port};
    ${options.revealUpstream ? 'add_header X-Upstream $upstream_addr always;' : ''}
    include ${NGINX_LOCATIONS};
  }
}
`;
  const configFile = path.join(dir, 'nginx.conf');
  writeFileSync(configFile, config);
  const args = ['-p', dir, '-c', configFile, '-g', 'daemon off; master_process on;'];
  try {
    await promisify(execFile)(binary, ['-t', ...args]);
  } catch (error) {
    throw new ServiceError(`nginx refused its config: ${(error as { stderr?: string }).stderr ?? (error as Error).message}`);
  }
  const proc = startProcess('nginx', binary, args, path.join(dir, 'nginx.log'));
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp('nginx', `${url}/health`, proc, 30_000);
  return {
    url,
    process: proc,
    async stop() {
      await proc.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
