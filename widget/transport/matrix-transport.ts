/**
 * The element's one way to Matrix: an OpenID token (to sign in to the backend) and sending the call
 * event and its edits. Implementations: the widget API (inside Element or any ClientWidgetApi host) and
 * a matrix-js-sdk client that the page supplies.
 */
import type { CallContent, CallEditContent, CallEventContent } from '../../protocol/index.ts';

/** A Matrix OpenID token, as `POST /auth/matrix-openid` takes it. */
export interface OpenIdToken {
  readonly access_token: string;
  readonly matrix_server_name: string;
  readonly token_type?: 'Bearer';
  readonly expires_in?: number;
}

/** The content of the call's first event, or of an edit of it. */
export type CallEventPayload = CallEventContent | (CallEditContent & CallContent);

export interface SendOptions {
  /** A transaction ID, so a retried send is not posted twice (where the transport supports it). */
  readonly txnId?: string;
}

export interface MatrixTransport {
  /** Which implementation this is (for logs). */
  readonly kind: string;
  /** The Matrix user ID, when the transport knows it. */
  readonly userId: string | null;
  /** The room the transport is bound to, when it is (a widget's room, from its URL). */
  readonly roomId?: string;
  getOpenIdToken(): Promise<OpenIdToken>;
  /** Sends an `m.ixo.oracles_call` event to the room; answers its event ID. */
  sendCallEvent(roomId: string, content: CallEventPayload, options?: SendOptions): Promise<string>;
  /**
   * Readies, in the background, what sending into the room needs (a page's matrix-js-sdk client: the
   * room's encryption session, shared with the members' devices), so that the send itself is quick.
   * Best effort: never throws. Optional.
   */
  prepareToSend?(roomId: string): void;
  /** Releases what the transport holds (listeners, the widget API connection). */
  dispose?(): void;
}

/** A failed Matrix request; `retryable` tells the sender's backoff whether another try may help. */
export class MatrixTransportError extends Error {
  override readonly name = 'MatrixTransportError';
  readonly retryable: boolean;
  readonly retryAfterMs?: number;

  constructor(message: string, options: { retryable: boolean; retryAfterMs?: number; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.retryable = options.retryable;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }
}

/** Checks an OpenID token's shape (both transports get it from code they do not control). */
export function checkOpenIdToken(value: unknown): OpenIdToken {
  const token = (value ?? {}) as Partial<Record<keyof OpenIdToken, unknown>>;
  if (typeof token.access_token !== 'string' || token.access_token === '' || typeof token.matrix_server_name !== 'string' || token.matrix_server_name === '') {
    throw new MatrixTransportError('The Matrix OpenID token is incomplete', { retryable: false });
  }
  return {
    access_token: token.access_token,
    matrix_server_name: token.matrix_server_name,
    ...(token.token_type === 'Bearer' ? { token_type: 'Bearer' as const } : {}),
    ...(typeof token.expires_in === 'number' && Number.isInteger(token.expires_in) && token.expires_in >= 0 ? { expires_in: token.expires_in } : {}),
  };
}

/** The user's DID when the page gives none; the backend takes this form as proven for the signed-in user. */
export { matrixUserDid } from '../../protocol/index.ts';
