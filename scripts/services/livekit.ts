/**
 * The real LiveKit server: installed with `go install` into the cache, started on loopback with its own
 * key pair, one TCP and one UDP port, `node_ip: 127.0.0.1` and a local STUN address (so clients are
 * never sent public STUN servers).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { PROJECT_ROOT, cacheDir, progress } from './paths.ts';
import { ServiceError, freeTcpPort, freeUdpPort, runCommand, startProcess, waitForHttp } from './process.ts';
import type { RunningProcess } from './process.ts';

/** Tried in order: later tags may carry `replace` directives that break `go install`. */
export const LIVEKIT_TAGS = ['v1.13.5', 'v1.13.4', 'v1.13.2', 'v1.12.0'] as const;
const MODULE = 'github.com/livekit/livekit-server/cmd/server';

async function binaryVersion(binary: string): Promise<string | undefined> {
  try {
    const { stdout } = await promisify(execFile)(binary, ['--version']);
    return stdout.trim();
  } catch {
    return undefined;
  }
}

/** The path of a working livekit-server binary, installing it on first use. `LIVEKIT_SERVER_BIN` overrides. */
export async function installLiveKit(): Promise<string> {
  const override = process.env.LIVEKIT_SERVER_BIN;
  if (override) {
    if (!(await binaryVersion(override))) {
      throw new ServiceError(`LiveKit server: LIVEKIT_SERVER_BIN=${override} does not run (--version failed)`);
    }
    return override;
  }
  for (const tag of LIVEKIT_TAGS) {
    const binary = path.join(cacheDir('livekit', tag), 'server');
    if (existsSync(binary) && (await binaryVersion(binary))) return binary;
  }
  const failures: string[] = [];
  for (const tag of LIVEKIT_TAGS) {
    const bin = cacheDir('livekit', tag);
    progress('livekit', `installing livekit-server ${tag} with go install (first run only, a few minutes)…`);
    try {
      let lines = 0;
      await runCommand(
        'go',
        ['install', '-v', `${MODULE}@${tag}`],
        (line) => {
          lines += 1;
          if (lines % 25 === 1) progress('livekit', line.trim());
        },
        { env: { ...process.env, GOBIN: bin, GOFLAGS: '-mod=mod' } },
      );
      const binary = path.join(bin, 'server');
      const version = await binaryVersion(binary);
      if (version) {
        progress('livekit', `installed ${version}`);
        return binary;
      }
      failures.push(`${tag}: installed but does not run`);
    } catch (error) {
      failures.push(`${tag}: ${(error as Error).message.split('\n').slice(-3).join(' ')}`);
      progress('livekit', `${tag} failed, trying the next tag`);
    }
  }
  throw new ServiceError(`LiveKit server could not be installed with go install (is Go on PATH and the module proxy reachable?):\n${failures.join('\n')}`);
}

export interface LiveKitOptions {
  /** URLs that receive LiveKit webhooks, signed with the server's key pair. */
  readonly webhookUrls?: readonly string[];
  /** Fixed ports (the demo); free ones are picked otherwise. */
  readonly ports?: { readonly http: number; readonly tcp?: number; readonly udp: number };
  /**
   * ICE over TCP on a free port (with `ports`, when `ports.tcp` is set). Off otherwise: LiveKit listens
   * on its TCP port on every interface (it has no setting to bind it), and on loopback UDP always works.
   */
  readonly iceTcp?: boolean;
  /**
   * Media over TCP only (LiveKit's `rtc.force_tcp`, with ICE over TCP on): no UDP candidates, so a
   * client's media can be sent through a TCP proxy (the reconnection test cuts the network there).
   */
  readonly tcpOnly?: boolean;
  /** A fixed key pair (the demo, or every node of a cluster); a new random one otherwise. */
  readonly credentials?: { readonly apiKey: string; readonly apiSecret: string };
  /** The Redis (`host:port`) that the nodes of one cluster share: a room lives on one node, reachable through any. */
  readonly redis?: string;
  /**
   * A LiveKit config file to start from (the cluster uses `deploy/livekit/livekit.yaml`, so the example
   * is known to work): its settings are kept, except what belongs to this machine, which is replaced:
   * ports, addresses and STUN, keys, Redis and the webhook.
   */
  readonly baseConfig?: string;
}

/** The LiveKit node config of the example deployment, which the cluster test starts its nodes from. */
export const DEPLOY_LIVEKIT_CONFIG = path.join(PROJECT_ROOT, 'deploy/livekit/livekit.yaml');

export interface LiveKitServer {
  /** WebSocket URL for clients, `ws://127.0.0.1:PORT`. */
  readonly url: string;
  /** HTTP URL for the server API. */
  readonly httpUrl: string;
  /** The ports it listens on: signalling and API (`http`), ICE over TCP and over UDP (media). */
  readonly ports: { readonly http: number; readonly tcp: number; readonly udp: number };
  readonly apiKey: string;
  readonly apiSecret: string;
  readonly process: RunningProcess;
  stop(): Promise<void>;
}

/** `base` (YAML) with the machine's own settings replaced by `own`'s; its other settings (rooms, media options) kept. */
function onBase(base: string, own: Record<string, unknown> & { rtc: Record<string, unknown> }): Record<string, unknown> {
  const parsed = parse(base) as Record<string, unknown> & { rtc?: Record<string, unknown> };
  const { room: _ownRoom, ...machine } = own;
  const merged: Record<string, unknown> = { ...parsed, ...machine, rtc: { ...parsed.rtc, ...own.rtc } };
  // Keys, Redis and the webhook are the example's placeholders: never kept.
  if (!own.redis) delete merged.redis;
  if (!own.webhook) delete merged.webhook;
  return merged;
}

export async function startLiveKit(options: LiveKitOptions = {}): Promise<LiveKitServer> {
  const binary = await installLiveKit();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'oracle-call-livekit-'));
  const [port, tcpPort, udpPort] = options.ports
    ? [options.ports.http, options.ports.tcp ?? 0, options.ports.udp]
    : [await freeTcpPort(), options.iceTcp || options.tcpOnly ? await freeTcpPort() : 0, await freeUdpPort()];
  const apiKey = options.credentials?.apiKey ?? `API${randomBytes(6).toString('hex')}`;
  const apiSecret = options.credentials?.apiSecret ?? randomBytes(24).toString('base64url');
  const config = {
    port,
    bind_addresses: ['127.0.0.1'],
    rtc: {
      // 0 turns ICE over TCP off (left out, LiveKit would take 7881).
      tcp_port: tcpPort,
      udp_port: udpPort,
      use_external_ip: false,
      node_ip: '127.0.0.1',
      enable_loopback_candidate: true,
      stun_servers: [`127.0.0.1:${udpPort}`],
      ...(options.tcpOnly ? { force_tcp: true } : {}),
    },
    keys: { [apiKey]: apiSecret },
    logging: { level: 'info', json: false },
    room: { auto_create: true, empty_timeout: 30, departure_timeout: 5 },
    ...(options.redis ? { redis: { address: options.redis } } : {}),
    ...(options.webhookUrls?.length ? { webhook: { api_key: apiKey, urls: options.webhookUrls } } : {}),
  };
  const configFile = path.join(dir, 'livekit.yaml');
  writeFileSync(configFile, stringify(options.baseConfig ? onBase(readFileSync(options.baseConfig, 'utf8'), config) : config));
  const proc = startProcess('LiveKit server', binary, ['--config', configFile], path.join(dir, 'livekit.log'));
  await waitForHttp('LiveKit server', `http://127.0.0.1:${port}/`, proc, 30_000);
  return {
    url: `ws://127.0.0.1:${port}`,
    httpUrl: `http://127.0.0.1:${port}`,
    ports: { http: port, tcp: tcpPort, udp: udpPort },
    apiKey,
    apiSecret,
    process: proc,
    async stop() {
      await proc.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
