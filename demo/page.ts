/** The plain demo site: signs the demo user in to Matrix and hands the client to `<oracle-call>`. */
import { loadDemoConfig } from './config.ts';
import { startMatrixClient } from './matrix-client.ts';

const who = document.getElementById('who')!;
try {
  const config = await loadDemoConfig();
  const call = document.getElementById('call')!;
  call.setAttribute('backend-url', config.backendUrl);
  call.setAttribute('matrix-room-id', config.roomId);
  (call as HTMLElement & { matrixClient: unknown }).matrixClient = await startMatrixClient(config);
  who.textContent = `Signed in as ${config.userId}.`;
} catch (error) {
  who.textContent = `The demo could not sign in: ${(error as Error).message}`;
  who.setAttribute('role', 'alert');
}
