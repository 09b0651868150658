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

const steps: [string, () => Promise<string>][] = [
  [
    'LiveKit server',
    async () => {
      const binary = await installLiveKit();
      const { stdout } = await promisify(execFile)(binary, ['--version']);
      return `${stdout.trim()} (${binary})`;
    },
  ],
  ['Synapse', async () => `matrix-synapse ${SYNAPSE_VERSION} (${await installSynapse()})`],
  [
    'Chromium',
    async () => {
      const binary = await installChromium();
      return `${await chromiumVersion(binary)} (${binary})`;
    },
  ],
  [
    'espeak-ng',
    async () => {
      const binary = await installEspeak();
      return `${await espeakVersion(binary)} (${binary})`;
    },
  ],
  [
    'PostgreSQL',
    async () => {
      const bin = await installPostgres();
      return `${await postgresVersion(bin)} (${bin})`;
    },
  ],
  [
    'nginx',
    async () => {
      const binary = await installNginx();
      return `${await nginxVersion(binary)} (${binary})`;
    },
  ],
  [
    'Redis',
    async () => {
      const binary = await installRedis();
      return `${await redisVersion(binary)} (${binary})`;
    },
  ],
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
