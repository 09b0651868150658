/** `npm run server`: the backend from environment variables. Bad configuration stops it with what to set. */
import { ConfigError, loadConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { startServer } from './server.ts';
import { StoreLockedError } from './store/call-store.ts';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  const server = await startServer(config, log);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    await server.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof StoreLockedError) {
    process.stderr.write(`oracle-call backend cannot start: ${error.message}\n`);
  } else {
    process.stderr.write(`oracle-call backend failed to start: ${(error as Error).stack ?? String(error)}\n`);
  }
  process.exit(1);
});
