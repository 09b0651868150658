/**
 * Joining the room while the call key is still on its way. The room connection (signalling, the join,
 * the transports) is the agent's longest set-up step, and rtc-node wants the E2EE key at connect. So the
 * agent connects under a random key that nobody has, and puts the call key in its place as soon as
 * both are there, before it publishes anything: until then it can neither send nor read a frame of the
 * call (frames it cannot decrypt are dropped before the decoder).
 */
import { randomBytes } from 'node:crypto';
import { EncryptionType, KeyProvider } from '@livekit/rtc-node';
import type { Room } from '@livekit/rtc-node';

/** The key index the browser's `ExternalE2EEKeyProvider` uses for its one shared key. */
const SHARED_KEY_INDEX = 0;

/** Connects with E2EE on under a placeholder key, the same room options as the browser otherwise. */
export function connectBeforeKey(room: Room, url: string, token: string): Promise<void> {
  return room.connect(url, token, {
    autoSubscribe: true,
    dynacast: false,
    encryption: {
      keyProviderOptions: { sharedKey: randomBytes(32) },
      encryptionType: EncryptionType.GCM,
    },
  });
}

/**
 * Replaces the placeholder with the call key (its UTF-8 bytes, as the browser's key provider takes the
 * hex string). rtc-node makes the room's key provider at connect and keeps it on its E2EE manager
 * without a public accessor; this reaches it there and fails loudly (the agent then leaves the call)
 * if a new rtc-node keeps it elsewhere.
 */
export function setCallKey(room: Room, callKey: string): void {
  const provider = (room.e2eeManager as unknown as { keyProvider?: unknown } | undefined)?.keyProvider;
  if (!(provider instanceof KeyProvider)) throw new Error("the room has no E2EE key provider (rtc-node's E2EE manager changed?)");
  provider.setSharedKey(new TextEncoder().encode(callKey), SHARED_KEY_INDEX);
}
