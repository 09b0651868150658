/**
 * Matrix through a matrix-js-sdk client that the page already has (and is signed in with). Only the
 * client's shape is needed here, so the element does not depend on matrix-js-sdk (nor its crypto).
 *
 * In an encrypted room the client encrypts the call event and its edits itself (Megolm, with the room
 * key shared to the members' devices inside `sendEvent`), once the page has called `initRustCrypto()`
 * and the client has synced the room. matrix-js-sdk sends in clear into a room it has not synced, since
 * it cannot know that the room is encrypted: the call event is only sent into a room the client knows.
 */
import { CALL_EVENT_TYPE } from '../../protocol/index.ts';
import { MatrixTransportError, checkOpenIdToken } from './matrix-transport.ts';
import type { CallEventPayload, MatrixTransport, OpenIdToken, SendOptions } from './matrix-transport.ts';

/** The part of matrix-js-sdk's `MatrixClient` the element uses. */
export interface MatrixClientLike {
  getUserId(): string | null;
  getOpenIdToken(): Promise<{ access_token: string; matrix_server_name: string; token_type?: string; expires_in?: number }>;
  /** matrix-js-sdk takes an optional transaction ID as the fourth argument. */
  sendEvent(roomId: string, eventType: string, content: Record<string, unknown>, txnId?: string): Promise<{ event_id: string }>;
  /** The room as the client has synced it, or null when it does not know it (yet). */
  getRoom(roomId: string): { hasEncryptionStateEvent(): boolean } | null;
  /** The client's end-to-end encryption; undefined until the page has called `initRustCrypto()`. */
  getCrypto(): unknown;
}

/** matrix-js-sdk's `MatrixError` carries `httpStatus`, `errcode` and, for 429, `data.retry_after_ms`. */
function classify(error: unknown, what: string): MatrixTransportError {
  const e = (typeof error === 'object' && error !== null ? error : {}) as {
    httpStatus?: unknown;
    errcode?: unknown;
    data?: { retry_after_ms?: unknown };
    message?: unknown;
  };
  const status = typeof e.httpStatus === 'number' ? e.httpStatus : undefined;
  const retryAfter = typeof e.data?.retry_after_ms === 'number' ? e.data.retry_after_ms : undefined;
  // No status means the request never got an answer (network): worth another try, as are 429 and 5xx.
  const retryable = status === undefined || status === 429 || status >= 500;
  const code = typeof e.errcode === 'string' ? ` (${e.errcode})` : '';
  const detail = typeof e.message === 'string' ? `: ${e.message}` : '';
  return new MatrixTransportError(`${what} failed${code}${detail}`, {
    retryable,
    ...(retryAfter === undefined ? {} : { retryAfterMs: retryAfter }),
    cause: error,
  });
}

export class MatrixClientTransport implements MatrixTransport {
  readonly kind = 'matrix-client';

  constructor(private readonly client: MatrixClientLike) {}

  get userId(): string | null {
    return this.client.getUserId();
  }

  async getOpenIdToken(): Promise<OpenIdToken> {
    let token: unknown;
    try {
      token = await this.client.getOpenIdToken();
    } catch (error) {
      throw classify(error, 'Getting a Matrix OpenID token');
    }
    return checkOpenIdToken(token);
  }

  prepareToSend(roomId: string): void {
    try {
      const room = this.client.getRoom(roomId);
      const crypto = this.client.getCrypto() as { prepareToEncrypt?: (room: unknown) => void } | undefined;
      if (room?.hasEncryptionStateEvent()) crypto?.prepareToEncrypt?.(room);
    } catch {
      // Only a head start: the send does the same work itself.
    }
  }

  async sendCallEvent(roomId: string, content: CallEventPayload, options: SendOptions = {}): Promise<string> {
    const room = this.client.getRoom(roomId);
    if (!room) {
      // Worth another try: the client may still be syncing the room.
      throw new MatrixTransportError(`The page's Matrix client does not know the room ${roomId} (not joined, or not synced yet)`, { retryable: true });
    }
    if (room.hasEncryptionStateEvent() && !this.client.getCrypto()) {
      throw new MatrixTransportError("The room is end-to-end encrypted, and the page's Matrix client has no encryption (initRustCrypto)", { retryable: false });
    }
    let response: { event_id?: unknown };
    try {
      response = await this.client.sendEvent(roomId, CALL_EVENT_TYPE, { ...content }, options.txnId);
    } catch (error) {
      throw classify(error, 'Sending the call event');
    }
    if (typeof response?.event_id !== 'string') {
      throw new MatrixTransportError('The homeserver answered without an event ID', { retryable: false });
    }
    return response.event_id;
  }
}
