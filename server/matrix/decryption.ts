/**
 * Reading an event of an encrypted room: decrypt it, and when its Megolm room key has not arrived yet
 * (the sender shares it by to-device message just before sending, and the backend's /sync may not have
 * brought it), wait for the key within a bound. The Rust crypto retries an event's decryption by
 * itself when its key arrives.
 */
import { MatrixEventEvent } from 'matrix-js-sdk';
import { DecryptionFailureCode } from 'matrix-js-sdk/lib/crypto-api/index.js';
import type { MatrixClient, MatrixEvent } from 'matrix-js-sdk';

/** The room key did not arrive within the wait. */
export class RoomKeyUnavailable extends Error {
  override readonly name = 'RoomKeyUnavailable';

  constructor(
    readonly eventId: string,
    readonly waitedMs: number,
  ) {
    super(`the Matrix room key for event ${eventId} did not reach the oracle's device within ${Math.round(waitedMs / 1000)} s`);
  }
}

/** The event cannot be decrypted, whatever the wait (the sender withheld the key, or it is damaged). */
export class UndecryptableEvent extends Error {
  override readonly name = 'UndecryptableEvent';

  constructor(
    readonly eventId: string,
    readonly reason: string,
  ) {
    super(`the Matrix event ${eventId} cannot be decrypted by the oracle's device (${reason})`);
  }
}

const FINAL_FAILURES = new Set<string>([
  DecryptionFailureCode.MEGOLM_KEY_WITHHELD,
  DecryptionFailureCode.MEGOLM_KEY_WITHHELD_FOR_UNVERIFIED_DEVICE,
  DecryptionFailureCode.SENDER_IDENTITY_PREVIOUSLY_VERIFIED,
  DecryptionFailureCode.UNSIGNED_SENDER_DEVICE,
  DecryptionFailureCode.UNKNOWN_SENDER_DEVICE,
  DecryptionFailureCode.UNKNOWN_ERROR,
]);

/** Resolves once `event` is in clear (at once for an unencrypted one); see the errors above. */
export async function decrypted(client: MatrixClient, event: MatrixEvent, waitMs: number): Promise<void> {
  await client.decryptEventIfNeeded(event);
  if (!event.isDecryptionFailure()) return;
  const eventId = event.getId() ?? '(no ID)';
  const final = () => {
    const reason = event.decryptionFailureReason;
    return reason !== null && FINAL_FAILURES.has(reason) ? new UndecryptableEvent(eventId, reason) : undefined;
  };
  const refused = final();
  if (refused) throw refused;
  await new Promise<void>((resolve, reject) => {
    const settle = () => {
      if (!event.isDecryptionFailure()) {
        finish();
        resolve();
        return;
      }
      const error = final();
      if (error) {
        finish();
        reject(error);
      }
    };
    const timer = setTimeout(() => {
      finish();
      reject(new RoomKeyUnavailable(eventId, waitMs));
    }, waitMs);
    const finish = () => {
      clearTimeout(timer);
      event.off(MatrixEventEvent.Decrypted, settle);
    };
    event.on(MatrixEventEvent.Decrypted, settle);
    // The key may have come while the listener was not there yet.
    settle();
  });
}
