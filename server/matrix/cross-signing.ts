/**
 * The oracle's device, cross-signed by the oracle's account, so people's clients (Element) show its
 * call edits as sent by a device its owner verified instead of with a red shield.
 *
 * At first start the backend makes the account's cross-signing keys and signs its own device with
 * them. The private keys stay in the device's crypto state (the Rust crypto store, kept in
 * `DATA_DIR/matrix-crypto-<device>.v8`), so later starts find everything in place and do nothing.
 * Synapse lets an account upload its *first* cross-signing keys without interactive authentication
 * (MSC3967), which is all the backend can do: it has an access token, no password. An account that
 * already has cross-signing keys (set up in Element, say) would need its password to replace them
 * (Synapse without MAS asks for interactive auth): the backend then logs a warning and runs on, its
 * device unverified.
 */
import { Method } from 'matrix-js-sdk';
import type { MatrixClient } from 'matrix-js-sdk';
import type { Logger } from 'pino';

export type CrossSigningOutcome = 'kept' | 'created' | 'not-allowed';

interface KeysQuery {
  readonly self_signing_keys?: Record<string, { keys?: Record<string, string> }>;
  readonly device_keys?: Record<string, Record<string, { signatures?: Record<string, Record<string, string>> }>>;
}

/** Whether the homeserver holds the device's signature by the account's self-signing key. */
async function signedOnServer(client: MatrixClient, userId: string, deviceId: string): Promise<boolean> {
  const keys = await client.http.authedRequest<KeysQuery>(Method.Post, '/keys/query', undefined, { device_keys: { [userId]: [deviceId] } });
  const selfSigning = Object.keys(keys.self_signing_keys?.[userId]?.keys ?? {});
  const signatures = keys.device_keys?.[userId]?.[deviceId]?.signatures?.[userId] ?? {};
  return selfSigning.some((keyId) => keyId in signatures);
}

export async function crossSignOwnDevice(client: MatrixClient, log: Logger): Promise<CrossSigningOutcome> {
  const crypto = client.getCrypto();
  if (!crypto) throw new Error('the Matrix client has no crypto');
  const userId = client.getSafeUserId();
  const deviceId = client.getDeviceId() ?? '';
  // Ready: the account's identity is the one whose private keys this device holds (kept in its state).
  if (await crypto.isCrossSigningReady()) return 'kept';
  const hadKeys = await crypto.userHasCrossSigningKeys(userId, true);
  try {
    await crypto.bootstrapCrossSigning({
      setupNewCrossSigning: true,
      // No interactive auth: the homeserver accepts a first upload without it (and, with MAS, a replacement an admin allowed).
      authUploadDeviceSigningKeys: async (makeRequest) => {
        await makeRequest(null);
      },
    });
  } catch (error) {
    const status = (error as { httpStatus?: number }).httpStatus;
    if (status !== 401 && status !== 403) throw error;
    log.warn(
      { userId, deviceId },
      "the oracle's Matrix account already has cross-signing keys that this device does not hold, so the device stays " +
        "unverified (people's clients show its edits with a warning); the homeserver wants the account's password to " +
        'replace them. See the README (the oracle\'s Matrix device, "Cross-signed at first start") for what an operator can do',
    );
    return 'not-allowed';
  }
  if (!(await signedOnServer(client, userId, deviceId))) throw new Error("cross-signing was set up but the homeserver does not hold the device's signature");
  log.info({ userId, deviceId, replaced: hadKeys }, "the oracle's Matrix device is cross-signed by its account");
  return 'created';
}
