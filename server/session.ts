/** Short-lived session tokens for people verified through Matrix OpenID: HS256 JWTs (jose). */
import { randomBytes } from 'node:crypto';
import { SignJWT, errors, jwtVerify } from 'jose';
import { ApiError } from './errors.ts';

const ISSUER = 'oracle-call';
const AUDIENCE = 'oracle-call/session';

export interface Session {
  readonly token: string;
  readonly userId: string;
  readonly expiresAt: string;
}

export class Sessions {
  private readonly key: Uint8Array;

  constructor(
    secret: string | undefined,
    private readonly ttlSeconds: number,
  ) {
    this.key = secret ? new TextEncoder().encode(secret) : randomBytes(32);
  }

  async issue(userId: string): Promise<Session> {
    const expires = Math.floor(Date.now() / 1000) + this.ttlSeconds;
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(userId)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(expires)
      .sign(this.key);
    return { token, userId, expiresAt: new Date(expires * 1000).toISOString() };
  }

  /** The Matrix user ID of a valid session token; 401 otherwise. */
  async verify(token: string): Promise<string> {
    try {
      const { payload } = await jwtVerify(token, this.key, { issuer: ISSUER, audience: AUDIENCE, algorithms: ['HS256'] });
      if (typeof payload.sub !== 'string' || !payload.sub.startsWith('@')) throw new Error('no subject');
      return payload.sub;
    } catch (error) {
      if (error instanceof errors.JWTExpired) {
        throw ApiError.unauthorized('session_expired', 'The session has expired: sign in again');
      }
      throw ApiError.unauthorized('invalid_session', 'The session token is not valid');
    }
  }
}
