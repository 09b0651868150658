/**
 * The real Matrix homeserver: Synapse from PyPI in a virtualenv in the cache, started on loopback with
 * SQLite, one listener serving the client and federation APIs (the federation `openid/userinfo`
 * endpoint lives there), a registration shared secret, and rate limits lifted for tests.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { cacheDir, progress } from './paths.ts';
import { ServiceError, freeTcpPort, runCommand, startProcess, waitForHttp } from './process.ts';
import type { RunningProcess } from './process.ts';

export const SYNAPSE_VERSION = process.env.SYNAPSE_VERSION ?? '1.163.2';

function venvPython(): string {
  return path.join(cacheDir('synapse', `venv-${SYNAPSE_VERSION}`), 'bin', 'python');
}

async function installedVersion(python: string): Promise<string | undefined> {
  try {
    const { stdout } = await promisify(execFile)(python, ['-c', 'from importlib.metadata import version; import synapse; print(version("matrix-synapse"))']);
    return stdout.trim();
  } catch {
    return undefined;
  }
}

/** The virtualenv python that runs Synapse, installing it on first use. */
export async function installSynapse(): Promise<string> {
  const python = venvPython();
  if ((await installedVersion(python)) === SYNAPSE_VERSION) return python;
  const venv = path.dirname(path.dirname(python));
  const systemPython = process.env.PYTHON ?? 'python3';
  progress('synapse', `creating a virtualenv in ${venv} with ${systemPython}…`);
  await runCommand(systemPython, ['-m', 'venv', '--clear', venv], () => {}).catch((error: Error) => {
    throw new ServiceError(`Synapse: could not create a virtualenv with ${systemPython} (set PYTHON to a Python 3.10+): ${error.message}`);
  });
  progress('synapse', `pip install matrix-synapse==${SYNAPSE_VERSION} (first run only, a minute or two)…`);
  await runCommand(python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--progress-bar', 'off', `matrix-synapse==${SYNAPSE_VERSION}`], (line) => {
    if (/^(Collecting|Successfully|ERROR)/.test(line)) progress('synapse', line.trim());
  }).catch((error: Error) => {
    throw new ServiceError(`Synapse could not be installed with pip: ${error.message}`);
  });
  const version = await installedVersion(python);
  if (version !== SYNAPSE_VERSION) throw new ServiceError(`Synapse: installed, but the installed version is ${version ?? 'an error'}`);
  progress('synapse', `installed matrix-synapse ${version}`);
  return python;
}

export interface SynapseOptions {
  /** The homeserver's server name (user IDs end in it). Default `localhost`. */
  readonly serverName?: string;
  /** Keep data here instead of a new temporary folder (the demo keeps its users and rooms). */
  readonly dataDir?: string;
  readonly port?: number;
  /**
   * Synapse's limit on each account's sends (`rc_message`), as a production homeserver has one; by
   * default the tests lift it. Per second and burst.
   */
  readonly messageRateLimit?: { readonly perSecond: number; readonly burstCount: number };
}

export interface SynapseServer {
  readonly serverName: string;
  /** Base URL of the client and federation APIs, `http://127.0.0.1:PORT`. */
  readonly baseUrl: string;
  readonly registrationSharedSecret: string;
  readonly dataDir: string;
  readonly process: RunningProcess;
  stop(): Promise<void>;
}

function signingKey(): string {
  return `ed25519 a_${randomBytes(3).toString('base64url').slice(0, 4)} ${randomBytes(32).toString('base64').replace(/=+$/, '')}\n`;
}

const unlimited = { per_second: 1000, burst_count: 1000 };

function homeserverConfig(serverName: string, port: number, dir: string, secret: string, messages = unlimited): object {
  return {
    server_name: serverName,
    pid_file: path.join(dir, 'homeserver.pid'),
    public_baseurl: `http://127.0.0.1:${port}/`,
    listeners: [
      {
        port,
        bind_addresses: ['127.0.0.1'],
        type: 'http',
        tls: false,
        x_forwarded: false,
        resources: [{ names: ['client', 'federation'], compress: false }],
      },
    ],
    database: { name: 'sqlite3', args: { database: path.join(dir, 'homeserver.db') } },
    log_config: path.join(dir, 'log.yaml'),
    media_store_path: path.join(dir, 'media_store'),
    signing_key_path: path.join(dir, 'signing.key'),
    registration_shared_secret: secret,
    macaroon_secret_key: randomBytes(24).toString('hex'),
    form_secret: randomBytes(24).toString('hex'),
    report_stats: false,
    enable_registration: false,
    trusted_key_servers: [],
    suppress_key_server_warning: true,
    federation_domain_whitelist: [],
    url_preview_enabled: false,
    presence: { enabled: false },
    rc_message: messages,
    rc_registration: unlimited,
    rc_login: { address: unlimited, account: unlimited, failed_attempts: unlimited },
    rc_joins: { local: unlimited, remote: unlimited },
    rc_invites: { per_room: unlimited, per_user: unlimited, per_issuer: unlimited },
    rc_admin_redaction: unlimited,
    rc_3pid_validation: unlimited,
    rc_key_requests: unlimited,
  };
}

function logConfig(dir: string): object {
  return {
    version: 1,
    formatters: { precise: { format: '%(asctime)s %(levelname)s %(name)s %(message)s' } },
    handlers: {
      file: { class: 'logging.FileHandler', formatter: 'precise', filename: path.join(dir, 'homeserver.log') },
    },
    loggers: { 'synapse.storage.SQL': { level: 'WARNING' }, twisted: { level: 'WARNING' } },
    root: { level: 'INFO', handlers: ['file'] },
    disable_existing_loggers: false,
  };
}

/** Starts a Synapse; with a `dataDir` that already holds a config, reuses it (and its users and rooms). */
export async function startSynapse(options: SynapseOptions = {}): Promise<SynapseServer> {
  const python = await installSynapse();
  const serverName = options.serverName ?? 'localhost';
  const dir = options.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'oracle-call-synapse-'));
  mkdirSync(dir, { recursive: true });
  const configFile = path.join(dir, 'homeserver.yaml');
  const stateFile = path.join(dir, 'oracle-call.json');
  let port = options.port ?? (await freeTcpPort());
  let secret = randomBytes(24).toString('hex');
  if (existsSync(stateFile) && existsSync(configFile)) {
    const state = JSON.parse(await readFile(stateFile, 'utf8')) as { secret: string; port: number };
    secret = state.secret;
    port = options.port ?? state.port;
  } else {
    writeFileSync(path.join(dir, 'signing.key'), signingKey());
  }
  // JSON is YAML: no YAML library needed to write the config.
  writeFileSync(
    configFile,
    JSON.stringify(
      homeserverConfig(
        serverName,
        port,
        dir,
        secret,
        options.messageRateLimit ? { per_second: options.messageRateLimit.perSecond, burst_count: options.messageRateLimit.burstCount } : undefined,
      ),
      null,
      2,
    ),
  );
  writeFileSync(path.join(dir, 'log.yaml'), JSON.stringify(logConfig(dir), null, 2));
  writeFileSync(stateFile, JSON.stringify({ secret, port }));
  const proc = startProcess('Synapse', python, ['-m', 'synapse.app.homeserver', '--config-path', configFile], path.join(dir, 'stdout.log'), { cwd: dir });
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitForHttp('Synapse', `${baseUrl}/health`, proc, 90_000);
  return {
    serverName,
    baseUrl,
    registrationSharedSecret: secret,
    dataDir: dir,
    process: proc,
    async stop() {
      await proc.stop(10_000);
      // A temporary homeserver goes with its folder; a kept one (the demo's) stays.
      if (!options.dataDir) await rm(dir, { recursive: true, force: true });
    },
  };
}
