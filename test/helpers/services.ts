/**
 * Real services for a test file: started before its tests on free ports, stopped after. A service that
 * cannot be installed or started fails the tests with the reason; it is never skipped.
 */
import { after, before } from 'node:test';
import { startLiveKit } from '../../scripts/services/livekit.ts';
import type { LiveKitOptions, LiveKitServer } from '../../scripts/services/livekit.ts';
import { startPostgres } from '../../scripts/services/postgres.ts';
import type { PostgresServer } from '../../scripts/services/postgres.ts';
import { startRedis } from '../../scripts/services/redis.ts';
import type { RedisServer } from '../../scripts/services/redis.ts';
import { startSynapse } from '../../scripts/services/synapse.ts';
import type { SynapseOptions, SynapseServer } from '../../scripts/services/synapse.ts';

function useService<T extends { stop(): Promise<void> }>(start: () => Promise<T>): () => T {
  let service: T | undefined;
  before(async () => {
    service = await start();
  });
  after(async () => {
    await service?.stop();
  });
  return () => {
    if (!service) throw new Error('the service is not running: its start failed (see the error above)');
    return service;
  };
}

export function useLiveKit(options?: LiveKitOptions): () => LiveKitServer {
  return useService(() => startLiveKit(options));
}

export function useSynapse(options?: SynapseOptions): () => SynapseServer {
  return useService(() => startSynapse(options));
}

export function usePostgres(): () => PostgresServer {
  return useService(() => startPostgres());
}

export function useRedis(): () => RedisServer {
  return useService(() => startRedis());
}
