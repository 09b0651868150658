/**
 * The README's run command: brings up the real services on loopback with a demo Matrix setup (made on
 * first run, kept in the cache), the backend and the agent, prints what is running, and stops
 * everything on Ctrl-C.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generateOracleKeyPair } from '../protocol/index.ts';
import { startLiveKit } from './services/livekit.ts';
import { registerUser } from './services/matrix-admin.ts';
import type { MatrixAccount } from './services/matrix-admin.ts';
import { cacheDir, progress } from './services/paths.ts';
import { startSynapse } from './services/synapse.ts';
import { buildPages, startDemoServers } from './services/demo-server.ts';
import { MatrixRestClient } from './stack/matrix-client.ts';
import { startElementWeb } from './services/element-web.ts';
import type { ElementWebServer } from './services/element-web.ts';
import { WIDGET_NAME, addWidget } from './add-widget.ts';
import { loadConfig } from '../server/config.ts';
import { createLogger } from '../server/logger.ts';
import { startServer } from '../server/server.ts';
import { startLocalOpenAi } from './services/local-openai/server.ts';
import type { LocalOpenAiServer } from './services/local-openai/server.ts';
import { installEspeak } from './services/espeak.ts';

interface DemoState {
  readonly livekit: { apiKey: string; apiSecret: string };
  readonly agentApiKey: string;
  readonly sessionSecret: string;
  readonly oracleKeys: { privateKey: string; publicKey: string };
  readonly user: MatrixAccount;
  readonly oracle: MatrixAccount;
  readonly roomId: string;
}

function port(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > 65535) {
    throw new Error(`${name} must be a port number (1-65535), got "${value}"`);
  }
  return parsed;
}

/** The demo room is end-to-end encrypted (Megolm), as every room with the oracle should be. */
const ROOM_ENCRYPTION = { type: 'm.room.encryption', state_key: '', content: { algorithm: 'm.megolm.v1.aes-sha2' } };

/** Turns encryption on in a demo room made before the demo encrypted it (it cannot be turned off again). */
async function ensureEncrypted(baseUrl: string, accessToken: string, roomId: string): Promise<void> {
  const url = `${baseUrl}/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/state/m.room.encryption/`;
  const headers = { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' };
  const current = await fetch(url, { headers });
  if (current.ok) return;
  if (current.status !== 404) throw new Error(`could not read the demo room's encryption: HTTP ${current.status}`);
  progress('demo', 'turning on end-to-end encryption in the demo room…');
  const turnedOn = await fetch(url, { method: 'PUT', headers, body: JSON.stringify(ROOM_ENCRYPTION.content) });
  if (!turnedOn.ok) throw new Error(`could not turn on encryption in the demo room: HTTP ${turnedOn.status}`);
}

async function main(): Promise<void> {
  const ports = {
    livekit: {
      http: port('LIVEKIT_PORT', 7880),
      udp: port('LIVEKIT_UDP_PORT', 7882),
      ...(process.env.LIVEKIT_TCP_PORT ? { tcp: port('LIVEKIT_TCP_PORT', 7881) } : {}),
    },
    synapse: port('SYNAPSE_PORT', 8008),
    backend: port('BACKEND_PORT', 8787),
    site: port('DEMO_PORT', 5173),
    element: port('ELEMENT_PORT', 5175),
  };
  const demoOrigins = [`http://127.0.0.1:${ports.site}`];
  const demoDir = cacheDir('demo');
  const stateFile = path.join(demoDir, 'state.json');
  const saved = existsSync(stateFile) ? (JSON.parse(readFileSync(stateFile, 'utf8')) as DemoState) : undefined;

  progress('demo', 'starting Synapse…');
  const synapse = await startSynapse({ dataDir: path.join(demoDir, 'synapse'), port: ports.synapse });
  progress('demo', 'starting LiveKit server…');
  const livekit = await startLiveKit({
    ports: ports.livekit,
    webhookUrls: [`http://127.0.0.1:${ports.backend}/livekit/webhook`],
    credentials: saved?.livekit ?? { apiKey: `API${crypto.randomUUID().slice(0, 8)}`, apiSecret: crypto.randomUUID() + crypto.randomUUID() },
  });

  let state = saved;
  if (!state) {
    progress('demo', 'first run: creating the demo users and their room…');
    const user = await registerUser(synapse.baseUrl, synapse.registrationSharedSecret, 'demo', { displayName: 'Demo user' });
    const oracle = await registerUser(synapse.baseUrl, synapse.registrationSharedSecret, 'oracle', { displayName: 'Oracle' });
    const roomId = await new MatrixRestClient(synapse.baseUrl, user.userId, user.accessToken).createRoom({
      name: 'Demo user ↔ Oracle',
      invite: [oracle.userId],
      encrypted: true,
    });
    await new MatrixRestClient(synapse.baseUrl, oracle.userId, oracle.accessToken).joinRoom(roomId);
    state = {
      livekit: { apiKey: livekit.apiKey, apiSecret: livekit.apiSecret },
      agentApiKey: randomBytes(24).toString('hex'),
      sessionSecret: randomBytes(24).toString('hex'),
      oracleKeys: generateOracleKeyPair(),
      user,
      oracle,
      roomId,
    };
    writeFileSync(stateFile, JSON.stringify(state, null, 2), { mode: 0o600 });
  }

  await ensureEncrypted(synapse.baseUrl, state.user.accessToken, state.roomId);

  if (!state.agentApiKey || !state.sessionSecret) {
    state = {
      ...state,
      agentApiKey: state.agentApiKey ?? randomBytes(24).toString('hex'),
      sessionSecret: state.sessionSecret ?? randomBytes(24).toString('hex'),
    };
    writeFileSync(stateFile, JSON.stringify(state, null, 2), { mode: 0o600 });
  }

  progress('demo', 'starting the backend…');
  const backendConfig = loadConfig({
    PORT: String(ports.backend),
    DATA_DIR: path.join(demoDir, 'backend'),
    ORACLE_DID: 'did:ixo:demo-oracle',
    ORACLE_PUBLIC_KEY: state.oracleKeys.publicKey,
    AGENT_API_KEY: state.agentApiKey,
    SESSION_SECRET: state.sessionSecret,
    LIVEKIT_URL: livekit.url,
    LIVEKIT_API_KEY: livekit.apiKey,
    LIVEKIT_API_SECRET: livekit.apiSecret,
    MATRIX_BASE_URL: synapse.baseUrl,
    MATRIX_ACCESS_TOKEN: state.oracle.accessToken,
    CORS_ORIGINS: [...demoOrigins, ...(process.env.CORS_ORIGINS ?? '').split(',').filter(Boolean)].join(','),
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
    // The voices and languages a call may choose; espeak-ng's, for the local OpenAI-compatible server.
    ORACLE_VOICES: process.env.ORACLE_VOICES ?? (process.env.ORACLE_BRAIN === 'openai' && !process.env.OPENAI_BASE_URL ? 'en-us,en-gb' : ''),
    ORACLE_LANGUAGES: process.env.ORACLE_LANGUAGES ?? (process.env.ORACLE_BRAIN === 'openai' && !process.env.OPENAI_BASE_URL ? 'en' : ''),
  });
  const backend = await startServer(backendConfig, createLogger(backendConfig.logLevel));

  // The talking oracle without a server of one's own: the local one (espeak-ng's voice, a fixed answer).
  const brain = process.env.ORACLE_BRAIN === 'openai' ? 'openai' : 'echo';
  let localOpenAi: LocalOpenAiServer | undefined;
  if (brain === 'openai' && !process.env.OPENAI_BASE_URL) {
    progress('demo', 'ORACLE_BRAIN=openai without OPENAI_BASE_URL: starting the local OpenAI-compatible server…');
    localOpenAi = await startLocalOpenAi({ espeak: await installEspeak() });
  }
  const brainLine =
    brain === 'echo'
      ? 'echo brain (says your words back)'
      : localOpenAi
        ? `OpenAI-compatible brain, local server ${localOpenAi.baseUrl} (espeak-ng voice, fixed answers)`
        : `OpenAI-compatible brain, ${process.env.OPENAI_BASE_URL}`;

  progress('demo', 'starting the agent…');
  // Node's own type stripping, no loader: the job processes inherit the worker's flags (agent/tsconfig.json).
  const agent = spawn(process.execPath, [path.join(path.dirname(new URL(import.meta.url).pathname), '../agent/main.ts'), 'start'], {
    env: {
      ...process.env,
      LIVEKIT_URL: livekit.url,
      LIVEKIT_API_KEY: livekit.apiKey,
      LIVEKIT_API_SECRET: livekit.apiSecret,
      ORACLE_BACKEND_URL: backend.url,
      AGENT_API_KEY: state.agentApiKey,
      ORACLE_PRIVATE_KEY: state.oracleKeys.privateKey,
      ...(localOpenAi ? { OPENAI_BASE_URL: localOpenAi.baseUrl } : {}),
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });

  await buildPages();
  const pages = await startDemoServers(
    {
      backendUrl: backend.url,
      homeserverUrl: synapse.baseUrl,
      userId: state.user.userId,
      password: state.user.password,
      roomId: state.roomId,
    },
    { port: ports.site, livekitUrl: livekit.url },
  );

  // The demo room gets the widget as an integration manager would add it, so Element shows it there.
  progress('demo', `adding the "${WIDGET_NAME}" widget to the demo room…`);
  await addWidget({
    homeserverUrl: synapse.baseUrl,
    accessToken: state.user.accessToken,
    roomId: state.roomId,
    pageUrl: pages.widgetUrl,
    backendUrl: backend.url,
    callType: 'audio',
  });
  let element: ElementWebServer | undefined;
  let elementLines: string[];
  try {
    progress('demo', 'starting Element Web…');
    element = await startElementWeb({ baseUrl: synapse.baseUrl, serverName: synapse.serverName }, ports.element);
    const localpart = state.user.userId.slice(1, state.user.userId.indexOf(':'));
    elementLines = [
      `  Element Web                  ${element.url}   sign in as "${localpart}", password ${state.user.password}`,
      `                               then the room "Demo user ↔ Oracle" → Room info → Extensions → ${WIDGET_NAME}`,
    ];
  } catch (error) {
    elementLines = [`  Element Web                  not started: ${(error as Error).message}`];
  }

  process.stdout.write(
    [
      '',
      'oracle-call is running (Ctrl-C stops it):',
      ...elementLines,
      `  demo site (one script tag)   ${pages.pageUrl}`,
      `  demo widget host             ${pages.hostUrl}   (widget page ${pages.widgetUrl})`,
      `  backend                      ${backend.url}   (API description: ${backend.url}/openapi.json)`,
      `  agent                        pid ${agent.pid}, dispatched as "oracle", ${brainLine}`,
      `  Matrix homeserver (Synapse)  ${synapse.baseUrl}   server name ${synapse.serverName}`,
      `  LiveKit server               ${livekit.url}`,
      `  demo user                    ${state.user.userId}`,
      `  oracle account               ${state.oracle.userId}`,
      `  demo room                    ${state.roomId}`,
      `  oracle public key            ${state.oracleKeys.publicKey}`,
      `  demo secrets and state       ${stateFile}`,
      '',
    ].join('\n'),
  );

  const stop = async () => {
    progress('demo', 'stopping…');
    // The agent first, while the LiveKit server it is connected to still runs: it drains (ends its
    // calls) and leaves; after 10 s it is killed.
    const agentGone = new Promise<void>((resolve) => {
      if (agent.exitCode !== null || agent.signalCode !== null) resolve();
      else agent.once('exit', () => resolve());
    });
    agent.kill('SIGTERM');
    const deadline = setTimeout(() => agent.kill('SIGKILL'), 10_000);
    await agentGone;
    clearTimeout(deadline);
    await pages.close();
    await localOpenAi?.close();
    await element?.close();
    await backend.close();
    await Promise.all([livekit.stop(), synapse.stop()]);
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: Error) => {
  progress('demo', `could not start: ${error.message}`);
  process.exit(1);
});
