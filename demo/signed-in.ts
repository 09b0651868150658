/** The demo pages' sign-in line: who, on which device, and whether the room is encrypted. */
import type { MatrixClient } from 'matrix-js-sdk';

export function signedInAs(client: MatrixClient, roomId: string): string {
  const encrypted = client.getRoom(roomId)?.hasEncryptionStateEvent() ?? false;
  return `Signed in as ${client.getUserId()} (device ${client.getDeviceId()}); the room with the oracle is ${encrypted ? 'end-to-end encrypted' : 'not encrypted'}`;
}
