/**
 * Short-lived session tokens for people verified through Matrix OpenID: HS256 JWTs (jose). The key is
 * imported once, and tokens already verified are remembered until they expire (a bounded cache), so
 * checking a session costs microseconds on the hot routes.
 */
import { randomBytes } from 'node:crypto';
import type { webcrypto } from 'node:crypto';
import { SignJWT, errors, jwtVerify } from 'jose';
import { ApiError } from './errors.ts';

const ISSUER = 'oracle-call';
const AUDIENCE = 'oracle-call/session';
const CACHE_LIMIT = 10_000;

export interface Session {
  readonly token: string;
  readonly userId: string;
  readonly expiresAt: string;
}

export class Sessions {
  private readonly key: Promise<webcrypto.CryptoKey>;
  private readonly verified = new Map<string, { userId: string; expiresAtMs: number }>();

  constructor(
    secret: string | undefined,
    private readonly ttlSeconds: number,
  ) {
    const raw = secret ? new TextEncoder().encode(secret) : randomBytes(32);
    this.key = crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
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
      .sign(await this.key);
    return { token, userId, expiresAt: new Date(expires * 1000).toISOString() };
  }

  /** The Matrix user ID of a token already verified and not expired; undefined when {@link verify} must decide. */
  known(token: string): string | undefined {
    const cached = this.verified.get(token);
    return cached !== undefined && cached.expiresAtMs > Date.now() ? cached.userId : undefined;
  }

  /** The Matrix user ID of a valid session token; 401 otherwise. */
  async verify(token: string): Promise<string> {
    const cached = this.verified.get(token);
    if (cached) {
      if (cached.expiresAtMs > Date.now()) return cached.userId;
      this.verified.delete(token);
      throw ApiError.unauthorized('session_expired', 'The session has expired: sign in again');
    }
    let userId: string;
    let expiresAtMs: number;
    try {
      const { payload } = await jwtVerify(token, await this.key, { issuer: ISSUER, audience: AUDIENCE, algorithms: ['HS256'] });
      if (typeof payload.sub !== 'string' || !payload.sub.startsWith('@') || typeof payload.exp !== 'number') throw new Error('incomplete');
      userId = payload.sub;
      expiresAtMs = payload.exp * 1000;
    } catch (error) {
      if (error instanceof errors.JWTExpired) {
        throw ApiError.unauthorized('session_expired', 'The session has expired: sign in again');
      }
      throw ApiError.unauthorized('invalid_session', 'The session token is not valid');
    }
    if (this.verified.size >= CACHE_LIMIT) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, { userId, expiresAtMs });
    return userId;
  }
}
