/** The plain demo site: signs the demo user in to Matrix (with encryption) and hands the client to `<oracle-call>`. */
import type { MatrixClientLike } from '../widget/index.ts';
import { loadDemoConfig } from './config.ts';
import { signedInAs } from './signed-in.ts';
import { startMatrixClient } from './matrix-client.ts';

const who = document.getElementById('who')!;
try {
  const config = await loadDemoConfig();
  const call = document.getElementById('call')!;
  call.setAttribute('backend-url', config.backendUrl);
  call.setAttribute('matrix-room-id', config.roomId);
  const client = await startMatrixClient(config);
  (call as HTMLElement & { matrixClient: MatrixClientLike }).matrixClient = client;
  who.textContent = `${signedInAs(client, config.roomId)}.`;
} catch (error) {
  who.textContent = `The demo could not sign in: ${(error as Error).message}`;
  who.setAttribute('role', 'alert');
}
