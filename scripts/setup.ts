/**
 * Installs (first run) or finds the real services the tests and the demo use, and says which versions.
 * Idempotent: a second run only checks. Exits non-zero naming the service that could not be installed.
 */
import { chromiumVersion, installChromium } from './services/chromium.ts';
import { espeakVersion, installEspeak } from './services/espeak.ts';
import { installLiveKit } from './services/livekit.ts';
import { progress } from './services/paths.ts';
import { installNginx, nginxVersion } from './services/nginx.ts';
import { installPostgres, postgresVersion } from './services/postgres.ts';
import { installRedis, redisVersion } from './services/redis.ts';
import { SYNAPSE_VERSION, installSynapse } from './services/synapse.ts';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/** A step that installs (or finds) a service, then says its version and where it is. */
const installed = (install: () => Promise<string>, version: (found: string) => Promise<string>) => async (): Promise<string> => {
  const found = await install();
  return `${await version(found)} (${found})`;
};

const steps: [string, () => Promise<string>][] = [
  ['LiveKit server', installed(installLiveKit, async (binary) => (await promisify(execFile)(binary, ['--version'])).stdout.trim())],
  ['Synapse', async () => `matrix-synapse ${SYNAPSE_VERSION} (${await installSynapse()})`],
  ['Chromium', installed(installChromium, chromiumVersion)],
  ['espeak-ng', installed(installEspeak, espeakVersion)],
  ['PostgreSQL', installed(installPostgres, postgresVersion)],
  ['nginx', installed(installNginx, nginxVersion)],
  ['Redis', installed(installRedis, redisVersion)],
];

let failed = false;
for (const [name, step] of steps) {
  try {
    progress('setup', `${name}: ${await step()}`);
  } catch (error) {
    failed = true;
    progress('setup', `${name} is not available: ${(error as Error).message}`);
  }
}
if (failed) {
  progress('setup', 'a service the tests need is missing (see above); nothing was tested');
  process.exit(1);
}
