/** Starting and stopping the whole backend: store, Matrix, LiveKit, HTTP listener and the Matrix sync loop. */
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';
import { createApp } from './app.ts';
import { CallUpkeep } from './call-upkeep.ts';
import type { ServerConfig } from './config.ts';
import { ConfigError } from './config.ts';
import { drainOnClose } from './http-drain.ts';
import { LiveKitGateway } from './livekit.ts';
import { SdkOracleMatrix } from './matrix/client.ts';
import type { OracleMatrix } from './matrix/client.ts';
import { DEFAULT_RETRY } from './matrix/retry.ts';
import { postgresCounters } from './middleware/rate-limit.ts';
import type { CallStore } from './store/call-store.ts';
import { LowdbCallStore } from './store/lowdb-store.ts';
import { PostgresCallStore } from './store/postgres-store.ts';
import { UserDidPolicy } from './user-did.ts';

/** How long a stopping backend waits for the requests it is answering (then it drops them). */
const CLOSE_GRACE_MS = 5000;

export interface RunningServer {
  readonly url: string;
  readonly matrix: OracleMatrix;
  readonly store: CallStore;
  readonly routes: readonly { method: string; path: string }[];
  readonly upkeep: CallUpkeep;
  close(): Promise<void>;
}

export async function startServer(config: ServerConfig, log: Logger): Promise<RunningServer> {
  const userDids = await UserDidPolicy.load(config);
  const store = await openCallStore(config, log);
  try {
    let matrix: SdkOracleMatrix;
    try {
      matrix = await SdkOracleMatrix.connect({
        baseUrl: config.matrix.baseUrl,
        accessToken: config.matrix.accessToken,
        dataDir: config.dataDir,
        roomKeyWaitMs: config.matrix.roomKeyWaitSeconds * 1000,
        requestTimeoutMs: config.matrix.requestTimeoutSeconds * 1000,
        ...(config.matrix.cryptoPassphrase ? { cryptoPassphrase: config.matrix.cryptoPassphrase } : {}),
        log,
        retry: {
          ...DEFAULT_RETRY,
          onRetry: (attempt, error, delayMs) => log.warn({ attempt, delayMs, err: error.message }, 'Matrix request failed, retrying'),
        },
      });
    } catch (error) {
      throw new ConfigError(`MATRIX_ACCESS_TOKEN / MATRIX_BASE_URL / DATA_DIR: the oracle's Matrix device could not start (${(error as Error).message})`);
    }
    try {
      return await listen(config, log, store, matrix, userDids);
    } catch (error) {
      await matrix.stop().catch(() => {});
      throw error;
    }
  } catch (error) {
    await store.close();
    throw error;
  }
}

/** PostgreSQL when `DATABASE_URL` is set (several backends may share it), else the lowdb file in the data folder. */
async function openCallStore(config: ServerConfig, log: Logger): Promise<CallStore> {
  const { database } = config;
  if (!database) return LowdbCallStore.open(config.dataDir);
  try {
    return await PostgresCallStore.open({
      ...database,
      onMigration: (migration) => log.info({ version: migration.version, name: migration.name }, 'database migrated'),
      onIdleError: (error) => log.warn({ err: error.message }, 'an idle database connection failed; the pool replaces it'),
    });
  } catch (error) {
    // The message names the variable, never its value: the URL may hold a password.
    throw new ConfigError(`DATABASE_URL: the PostgreSQL call store could not be opened (${(error as Error).message})`);
  }
}

async function listen(config: ServerConfig, log: Logger, store: CallStore, matrix: SdkOracleMatrix, userDids: UserDidPolicy): Promise<RunningServer> {
  const openIdServers =
    config.matrix.openIdServers.size > 0
      ? config.matrix.openIdServers
      : new Map([[matrix.userId.slice(matrix.userId.indexOf(':') + 1), config.matrix.baseUrl]]);
  const effective: ServerConfig = { ...config, matrix: { ...config.matrix, openIdServers } };
  const livekit = new LiveKitGateway(config.livekit);
  // Backends sharing a database share their rate-limit counters too: together they enforce one limit.
  const limitCounters = store instanceof PostgresCallStore ? postgresCounters(store.sharedPool) : undefined;
  const app = createApp(effective, { store, matrix, livekit, log, userDids, ...(limitCounters ? { limitCounters } : {}) });
  await matrix.start((event) => app.calls.applyMatrixEvent(event));
  const http: Server = await new Promise((resolve, reject) => {
    const server = app.koa.listen(config.port, config.host, () => resolve(server));
    server.once('error', reject);
  });
  http.keepAliveTimeout = 5000;
  const drain = drainOnClose(http);
  const upkeep = new CallUpkeep(effective, store, app.calls, matrix, log);
  // In the background, in this order: Matrix learns the ends it missed, the store learns the ends
  // Matrix saw while the backend was down, then the periodic sweep starts.
  const catchingUp = app.calls
    .reconcileMatrix()
    .then(
      (fixed) => fixed > 0 && log.info({ fixed }, 'calls whose Matrix event missed a status edit were mirrored again'),
      (error: Error) => log.error({ err: error.message }, 'mirroring missed status edits failed'),
    )
    .then(() => upkeep.catchUpWithMatrix())
    .then(
      (ended) => ended > 0 && log.info({ ended }, 'calls ended in Matrix while the backend was down were ended'),
      (error: Error) => log.error({ err: error.message }, 'reading the open calls from Matrix failed'),
    )
    .then(() => upkeep.start());
  const { port } = http.address() as AddressInfo;
  const url = `http://${config.host}:${port}`;
  log.info({ url, oracleDid: config.oracleDid, matrixUserId: matrix.userId, openIdServers: [...openIdServers.keys()] }, 'backend listening');
  if (config.elementDir && !existsSync(path.join(config.elementDir, 'oracle-call.js'))) {
    log.warn({ elementDir: config.elementDir }, 'the element is not built (npm run build): only the API is served until it is');
  } else if (config.elementDir) {
    log.info({ elementDir: config.elementDir, script: `${url}/oracle-call.js`, widget: `${url}/widget/page/index.html` }, 'serving the built element');
  }
  return {
    url,
    matrix,
    store,
    routes: app.routes,
    upkeep,
    async close() {
      await catchingUp;
      await upkeep.stop();
      await drain.close(CLOSE_GRACE_MS);
      await app.calls.stop();
      await matrix.stop();
      await store.close();
    },
  };
}
