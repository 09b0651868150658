/** Starting and stopping the whole backend: store, Matrix, LiveKit, HTTP listener and the Matrix sync loop. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { createApp } from './app.ts';
import type { ServerConfig } from './config.ts';
import { ConfigError } from './config.ts';
import { LiveKitGateway } from './livekit.ts';
import { HttpOracleMatrix } from './matrix/client.ts';
import type { OracleMatrix } from './matrix/client.ts';
import { MatrixSyncLoop } from './matrix/sync-loop.ts';
import { LowdbCallStore } from './store/lowdb-store.ts';

export interface RunningServer {
  readonly url: string;
  readonly matrix: OracleMatrix;
  readonly store: LowdbCallStore;
  readonly routes: readonly { method: string; path: string }[];
  close(): Promise<void>;
}

export async function startServer(config: ServerConfig, log: Logger): Promise<RunningServer> {
  const store = await LowdbCallStore.open(config.dataDir);
  try {
    let matrix: HttpOracleMatrix;
    try {
      matrix = await HttpOracleMatrix.connect(config.matrix.baseUrl, config.matrix.accessToken, {
        attempts: 5,
        baseDelayMs: 200,
        maxDelayMs: 4000,
        onRetry: (attempt, error, delayMs) => log.warn({ attempt, delayMs, err: error.message }, 'Matrix request failed, retrying'),
      });
    } catch (error) {
      throw new ConfigError(`MATRIX_ACCESS_TOKEN / MATRIX_BASE_URL: the homeserver did not accept the oracle's token (${(error as Error).message})`);
    }
    const openIdServers =
      config.matrix.openIdServers.size > 0
        ? config.matrix.openIdServers
        : new Map([[matrix.userId.slice(matrix.userId.indexOf(':') + 1), config.matrix.baseUrl]]);
    const effective: ServerConfig = { ...config, matrix: { ...config.matrix, openIdServers } };
    const livekit = new LiveKitGateway(config.livekit);
    const app = createApp(effective, { store, matrix, livekit, log });
    const syncLoop = new MatrixSyncLoop(matrix, store, (event) => app.calls.applyMatrixEdit(event), log);
    const http: Server = await new Promise((resolve, reject) => {
      const server = app.koa.listen(config.port, config.host, () => resolve(server));
      server.once('error', reject);
    });
    http.keepAliveTimeout = 5000;
    syncLoop.start();
    void app.calls.reconcileMatrix().then(
      (fixed) => fixed > 0 && log.info({ fixed }, 'calls whose Matrix event missed a status edit were mirrored again'),
      (error: Error) => log.error({ err: error.message }, 'mirroring missed status edits failed'),
    );
    const { port } = http.address() as AddressInfo;
    const url = `http://${config.host}:${port}`;
    log.info({ url, oracleDid: config.oracleDid, matrixUserId: matrix.userId, openIdServers: [...openIdServers.keys()] }, 'backend listening');
    return {
      url,
      matrix,
      store,
      routes: app.routes,
      async close() {
        await new Promise<void>((resolve) => {
          http.close(() => resolve());
          http.closeAllConnections();
        });
        await syncLoop.stop();
        await store.close();
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}
