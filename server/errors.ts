/** Errors the API answers with: an HTTP status, a snake_case `code`, and a message a developer can act on. */
import { ProtocolError } from '../protocol/index.ts';
import type { ProtocolErrorReason } from '../protocol/index.ts';
import type { ApiErrorCode } from '../protocol/api/index.ts';
import { MatrixRequestError } from './matrix/client.ts';
import { MatrixTimeoutError } from './matrix/request-timeouts.ts';
import { RetryableError } from './matrix/retry.ts';

export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  static badRequest(code: ApiErrorCode, message: string): ApiError {
    return new ApiError(400, code, message);
  }

  static unauthorized(code: ApiErrorCode, message: string): ApiError {
    return new ApiError(401, code, message, { 'www-authenticate': 'Bearer' });
  }

  static forbidden(code: ApiErrorCode, message: string): ApiError {
    return new ApiError(403, code, message);
  }

  static notFound(code: ApiErrorCode, message: string): ApiError {
    return new ApiError(404, code, message);
  }

  static conflict(code: ApiErrorCode, message: string): ApiError {
    return new ApiError(409, code, message);
  }

  static gone(code: ApiErrorCode, message: string): ApiError {
    return new ApiError(410, code, message);
  }

  /** The Matrix event exists but fails one of the checks at sync. */
  static invalidEvent(code: ApiErrorCode, message: string): ApiError {
    return new ApiError(422, code, message);
  }

  static tooManyRequests(code: ApiErrorCode, message: string, retryAfterSeconds: number): ApiError {
    return new ApiError(429, code, message, { 'retry-after': String(retryAfterSeconds) });
  }

  static upstream(code: ApiErrorCode, message: string): ApiError {
    return new ApiError(502, code, message);
  }

  /** An upstream service (the homeserver) did not answer in time. */
  static upstreamTimeout(code: ApiErrorCode, message: string): ApiError {
    return new ApiError(504, code, message);
  }

  /** Something the request needs has not happened yet; the same request may succeed a moment later. */
  static unavailable(code: ApiErrorCode, message: string, retryAfterSeconds: number): ApiError {
    return new ApiError(503, code, message, { 'retry-after': String(retryAfterSeconds) });
  }
}

const PROTOCOL_STATUS: Record<ProtocolErrorReason, number> = {
  invalid_call_id: 400,
  invalid_room_name: 400,
  invalid_event_id: 400,
  invalid_call_content: 422,
  invalid_call_key: 400,
  invalid_public_key: 400,
  invalid_private_key: 400,
  invalid_ciphertext: 422,
  decryption_failed: 422,
  invalid_transition: 409,
};

/** The API form of a protocol rule's refusal. */
export function fromProtocolError(error: ProtocolError): ApiError {
  return new ApiError(PROTOCOL_STATUS[error.reason], error.reason, error.message);
}

/**
 * A request to the homeserver that failed for good, as the API says it: 504 when it did not answer in
 * time, 502 when it refused (429 after the retries: the oracle's account is rate-limited, which an
 * operator fixes; see the README), each with its own code. `what` says what the request was for.
 */
export function fromMatrixError(error: unknown, what = 'A request to the homeserver failed'): ApiError | undefined {
  if (error instanceof MatrixTimeoutError) return ApiError.upstreamTimeout('matrix_timeout', `${what}: ${error.message}`);
  if (error instanceof RetryableError && error.status === 429) {
    return ApiError.upstream(
      'matrix_rate_limited',
      `${what}: the homeserver rate-limits the oracle's Matrix account (${error.message}); its operator can lift the limit`,
    );
  }
  if (error instanceof RetryableError || error instanceof MatrixRequestError) return ApiError.upstream('matrix_unavailable', `${what}: ${error.message}`);
  return undefined;
}

export function toApiError(error: unknown): ApiError | undefined {
  if (error instanceof ApiError) return error;
  if (error instanceof ProtocolError) return fromProtocolError(error);
  return fromMatrixError(error);
}
