/**
 * The README's run command: brings up the real services on loopback with a demo Matrix setup (made on
 * first run, kept in the cache), prints what is running, and stops everything on Ctrl-C.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generateOracleKeyPair } from '../protocol/index.ts';
import { startLiveKit } from './services/livekit.ts';
import { registerUser } from './services/matrix-admin.ts';
import type { MatrixAccount } from './services/matrix-admin.ts';
import { cacheDir, progress } from './services/paths.ts';
import { startSynapse } from './services/synapse.ts';

interface DemoState {
  readonly livekit: { apiKey: string; apiSecret: string };
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

async function main(): Promise<void> {
  const ports = {
    livekit: { http: port('LIVEKIT_PORT', 7880), tcp: port('LIVEKIT_TCP_PORT', 7881), udp: port('LIVEKIT_UDP_PORT', 7882) },
    synapse: port('SYNAPSE_PORT', 8008),
  };
  const demoDir = cacheDir('demo');
  const stateFile = path.join(demoDir, 'state.json');
  const saved = existsSync(stateFile) ? (JSON.parse(readFileSync(stateFile, 'utf8')) as DemoState) : undefined;

  progress('demo', 'starting Synapse…');
  const synapse = await startSynapse({ dataDir: path.join(demoDir, 'synapse'), port: ports.synapse });
  progress('demo', 'starting LiveKit server…');
  const livekit = await startLiveKit({
    ports: ports.livekit,
    credentials: saved?.livekit ?? { apiKey: `API${crypto.randomUUID().slice(0, 8)}`, apiSecret: crypto.randomUUID() + crypto.randomUUID() },
  });

  let state = saved;
  if (!state) {
    progress('demo', 'first run: creating the demo users and their room…');
    const user = await registerUser(synapse.baseUrl, synapse.registrationSharedSecret, 'demo', { displayName: 'Demo user' });
    const oracle = await registerUser(synapse.baseUrl, synapse.registrationSharedSecret, 'oracle', { displayName: 'Oracle' });
    const headers = (token: string) => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });
    const created = await fetch(`${synapse.baseUrl}/_matrix/client/v3/createRoom`, {
      method: 'POST',
      headers: headers(user.accessToken),
      body: JSON.stringify({ preset: 'private_chat', name: 'Demo user ↔ Oracle', invite: [oracle.userId] }),
    });
    const { room_id: roomId } = (await created.json()) as { room_id: string };
    await fetch(`${synapse.baseUrl}/_matrix/client/v3/join/${encodeURIComponent(roomId)}`, {
      method: 'POST',
      headers: headers(oracle.accessToken),
      body: '{}',
    });
    state = { livekit: { apiKey: livekit.apiKey, apiSecret: livekit.apiSecret }, oracleKeys: generateOracleKeyPair(), user, oracle, roomId };
    writeFileSync(stateFile, JSON.stringify(state, null, 2), { mode: 0o600 });
  }

  process.stdout.write(
    [
      '',
      'oracle-call is running (Ctrl-C stops it):',
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
