/**
 * The several-machine topology of docs/deploy.md on one machine, every part real: PostgreSQL, Redis,
 * two LiveKit nodes sharing it, two backends on the database behind nginx (the project's own
 * `deploy/nginx/oracle-call-locations.conf`, TRUST_PROXY_HOPS=1), two agent workers under one agent
 * name (one per node, fetching keys through nginx), and Synapse. Backend A runs in this process (the
 * stack's), backend B as a child process (so that it can be killed); each talks to its own node, and
 * each node sends its webhooks to its backend.
 */
import { DEPLOY_LIVEKIT_CONFIG, startLiveKit } from '../services/livekit.ts';
import type { LiveKitServer } from '../services/livekit.ts';
import { startNginx } from '../services/nginx.ts';
import type { NginxServer } from '../services/nginx.ts';
import { startPostgres } from '../services/postgres.ts';
import type { PostgresServer } from '../services/postgres.ts';
import { freeTcpPort } from '../services/process.ts';
import { startRedis } from '../services/redis.ts';
import type { RedisServer } from '../services/redis.ts';
import { startAgent } from './agent-process.ts';
import type { AgentProcess } from './agent-process.ts';
import { spawnBackend, stopAllBackends } from './backend-process.ts';
import type { BackendProcess } from './backend-process.ts';
import { callApi, startStack, stopStack } from './stack.ts';
import type { Stack } from './stack.ts';

export interface Cluster {
  /** Synapse, LiveKit node 1 and backend A (in process). */
  readonly stack: Stack;
  /** The same stack with every API request sent through nginx. */
  readonly viaProxy: Stack;
  readonly node2: LiveKitServer;
  readonly backendB: BackendProcess;
  readonly proxy: NginxServer;
  /** Worker 0 on node 1, worker 1 on node 2. */
  readonly workers: readonly AgentProcess[];
  readonly databaseUrl: string;
  readonly postgres: PostgresServer;
  readonly redis: RedisServer;
  /** `host:port` of backend A and B, as nginx's X-Upstream names them. */
  readonly backends: readonly [string, string];
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /** Added to both backends' environment. */
  readonly env?: Record<string, string>;
  /** Adds `X-Upstream` to nginx's answers (which backend answered). */
  readonly revealUpstream?: boolean;
}

export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const started: { stop(): Promise<void> }[] = [];
  const stopAll = async () => {
    for (const part of started.reverse()) await part.stop().catch(() => {});
  };
  try {
    const [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
    started.push(postgres, redis);
    const databaseUrl = await postgres.createDatabase();
    const stack = await startStack(
      { DATABASE_URL: databaseUrl, TRUST_PROXY_HOPS: '1', ...options.env },
      { livekitRedis: redis.address, livekitBaseConfig: DEPLOY_LIVEKIT_CONFIG },
    );
    started.push({ stop: () => stopStack(stack) });
    const portB = await freeTcpPort();
    // Node 2: the same Redis and key pair; its webhooks go to backend B.
    const node2 = await startLiveKit({
      baseConfig: DEPLOY_LIVEKIT_CONFIG,
      redis: redis.address,
      credentials: { apiKey: stack.livekit.apiKey, apiSecret: stack.livekit.apiSecret },
      webhookUrls: [`http://127.0.0.1:${portB}/livekit/webhook`],
    });
    started.push(node2);
    // Backend B: the same database and session secret, its own data folder, Matrix device and node.
    const backendB = await spawnBackend(
      { ...stack.env, LOG_LEVEL: 'warn', LIVEKIT_URL: node2.url, MATRIX_ACCESS_TOKEN: await stack.newOracleDevice() },
      { port: portB },
    );
    started.push({ stop: stopAllBackends });
    await backendB.ready(60_000);
    const backends: [string, string] = [new URL(stack.backend.url).host, `127.0.0.1:${backendB.port}`];
    const proxy = await startNginx({ backends, ...(options.revealUpstream ? { revealUpstream: true } : {}) });
    started.push(proxy);
    const workers = await Promise.all([
      startAgent(stack, { ORACLE_BACKEND_URL: proxy.url }),
      startAgent({ ...stack, livekit: node2 }, { ORACLE_BACKEND_URL: proxy.url }),
    ]);
    started.push({ stop: async () => void (await Promise.all(workers.map((worker) => worker.stop()))) });
    const viaProxy: Stack = { ...stack, api: (method, pathname, apiOptions) => callApi(proxy.url, method, pathname, apiOptions) };
    return { stack, viaProxy, node2, backendB, proxy, workers, databaseUrl, postgres, redis, backends, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
