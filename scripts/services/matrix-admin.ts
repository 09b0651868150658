/** Setting up a homeserver for tests and the demo: users through the shared-secret registration admin API. */
import { createHmac } from 'node:crypto';
import { ServiceError } from './process.ts';

export interface MatrixAccount {
  readonly userId: string;
  readonly accessToken: string;
  readonly deviceId: string;
  readonly password: string;
}

async function json(response: Response, what: string): Promise<Record<string, unknown>> {
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok) {
    throw new ServiceError(`Matrix ${what} failed: HTTP ${response.status} ${String(body.errcode ?? '')} ${String(body.error ?? '')}`.trim());
  }
  return body;
}

/** Registers a user with Synapse's `/_synapse/admin/v1/register` (nonce + HMAC-SHA1 of the shared secret). */
export async function registerUser(
  baseUrl: string,
  sharedSecret: string,
  username: string,
  options: { password?: string; admin?: boolean; displayName?: string } = {},
): Promise<MatrixAccount> {
  const url = `${baseUrl}/_synapse/admin/v1/register`;
  const { nonce } = (await json(await fetch(url), 'registration nonce')) as { nonce: string };
  const password = options.password ?? `pw-${crypto.randomUUID()}`;
  const admin = options.admin ?? false;
  const mac = createHmac('sha1', sharedSecret)
    .update([nonce, username, password, admin ? 'admin' : 'notadmin'].join('\0'))
    .digest('hex');
  const body = await json(
    await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ nonce, username, password, admin, mac, displayname: options.displayName ?? username }),
    }),
    `registration of ${username}`,
  );
  return {
    userId: body.user_id as string,
    accessToken: body.access_token as string,
    deviceId: body.device_id as string,
    password,
  };
}

/** Logs in again with a password: a new access token and device. */
export async function login(baseUrl: string, userId: string, password: string): Promise<MatrixAccount> {
  const body = await json(
    await fetch(`${baseUrl}/_matrix/client/v3/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'm.login.password', identifier: { type: 'm.id.user', user: userId }, password }),
    }),
    `login of ${userId}`,
  );
  return { userId, accessToken: body.access_token as string, deviceId: body.device_id as string, password };
}
