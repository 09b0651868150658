/**
 * A second backend beside the stack's, on PostgreSQL (`databaseUrl`) or on lowdb (`lowdb`): the stack's
 * settings with that store, a port and data folder of its own and its own Matrix device (as a second
 * backend in a deployment has), in this process, logging at the configured level to stderr as
 * `server/main.ts` does. Benchmarks compare the same route on both stores with it.
 */
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../server/config.ts';
import { createLogger } from '../../server/logger.ts';
import { startServer } from '../../server/server.ts';
import type { RunningServer } from '../../server/server.ts';
import { freeTcpPort } from '../../scripts/services/process.ts';
import type { Stack } from '../../scripts/stack/stack.ts';

export interface SecondBackend {
  readonly backend: RunningServer;
  close(): Promise<void>;
}

export async function startSecondBackend(stack: Stack, store: { readonly databaseUrl: string } | 'lowdb'): Promise<SecondBackend> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'oracle-call-bench-backend-'));
  const config = loadConfig({
    ...stack.env,
    DATABASE_URL: store === 'lowdb' ? undefined : store.databaseUrl,
    PORT: String(await freeTcpPort()),
    DATA_DIR: dataDir,
    MATRIX_ACCESS_TOKEN: await stack.newOracleDevice(),
  });
  const backend = await startServer(config, createLogger(config.logLevel, pino.destination(2)));
  return {
    backend,
    async close() {
      await backend.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
