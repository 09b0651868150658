/**
 * Why a protocol rule refused an input. Servers map reasons to HTTP status and `code`;
 * the element maps them to messages a person understands.
 */
export const PROTOCOL_ERROR_REASONS = [
  'invalid_call_id',
  'invalid_room_name',
  'invalid_event_id',
  'invalid_call_content',
  'invalid_call_key',
  'invalid_public_key',
  'invalid_private_key',
  'invalid_ciphertext',
  'decryption_failed',
  'invalid_transition',
] as const;
export type ProtocolErrorReason = (typeof PROTOCOL_ERROR_REASONS)[number];

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';

  readonly reason: ProtocolErrorReason;

  constructor(reason: ProtocolErrorReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.reason = reason;
  }

  static invalidCallId(detail: string): ProtocolError {
    return new ProtocolError('invalid_call_id', `Invalid callId: ${detail}`);
  }

  static invalidRoomName(detail: string): ProtocolError {
    return new ProtocolError('invalid_room_name', `Invalid LiveKit room name: ${detail}`);
  }

  static invalidEventId(detail: string): ProtocolError {
    return new ProtocolError('invalid_event_id', `Invalid Matrix event ID: ${detail}`);
  }

  static invalidCallContent(detail: string): ProtocolError {
    return new ProtocolError('invalid_call_content', `Invalid call event content: ${detail}`);
  }

  static invalidCallKey(): ProtocolError {
    return new ProtocolError('invalid_call_key', 'A call key is 64 lowercase hex characters');
  }

  static invalidPublicKey(detail: string): ProtocolError {
    return new ProtocolError('invalid_public_key', `Invalid oracle public key: ${detail}`);
  }

  static invalidPrivateKey(detail: string): ProtocolError {
    return new ProtocolError('invalid_private_key', `Invalid oracle private key: ${detail}`);
  }

  static invalidCiphertext(detail: string): ProtocolError {
    return new ProtocolError('invalid_ciphertext', `Invalid encrypted call key: ${detail}`);
  }

  static decryptionFailed(cause?: unknown): ProtocolError {
    return new ProtocolError('decryption_failed', 'The call key could not be decrypted (wrong oracle key or tampered ciphertext)', { cause });
  }

  static invalidTransition(from: string, to: string): ProtocolError {
    return new ProtocolError('invalid_transition', `A call cannot go from ${from} to ${to}`);
  }
}
