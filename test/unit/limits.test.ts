import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { loadAgentConfig } from '../../agent/config.ts';
import { HandoffError, obtainCallKey } from '../../agent/key-handoff.ts';
import { encryptCallKey, generateCallKey, generateOracleKeyPair } from '../../protocol/index.ts';

describe("the agent's key handoff honours Retry-After within its budget", () => {
  const oracle = generateOracleKeyPair();
  const callKey = generateCallKey();
  /** What the fake backend answers next: 429 with Retry-After (seconds) while this is above 0. */
  let limitedFor = 0;
  let requests = 0;
  const server = createServer((_request, response) => {
    requests += 1;
    if (limitedFor > 0) {
      limitedFor -= 1;
      response.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' }).end('{"error":{"code":"rate_limited","message":"slow down"}}');
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        encryptionKey: encryptCallKey(callKey, oracle.publicKey),
        userId: '@alice:localhost',
        oracleDid: 'did:ixo:oracle',
        callType: 'audio',
      }),
    );
  });
  let url = '';
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const config = (budgetSeconds: number) =>
    loadAgentConfig({
      LIVEKIT_URL: 'ws://127.0.0.1:7880',
      LIVEKIT_API_KEY: 'key',
      LIVEKIT_API_SECRET: 'secret',
      ORACLE_BACKEND_URL: url,
      AGENT_API_KEY: 'k'.repeat(40),
      ORACLE_PRIVATE_KEY: oracle.privateKey,
      KEY_FETCH_ATTEMPTS: '2',
      KEY_FETCH_BUDGET_SECONDS: String(budgetSeconds),
    });

  it('waits as asked, more times than KEY_FETCH_ATTEMPTS, and gets the key', async () => {
    limitedFor = 3;
    requests = 0;
    const waits: number[] = [];
    const started = Date.now();
    const key = await obtainCallKey(config(30), `$${'a'.repeat(43)}@room-name-1`, (_attempt, _error, delayMs) => waits.push(delayMs));
    assert.equal(key.callKey, callKey);
    assert.equal(key.userId, '@alice:localhost');
    assert.equal(requests, 4);
    assert.deepEqual(waits, [1000, 1000, 1000]);
    assert.ok(Date.now() - started >= 2900);
  });

  it('gives up once the next wait would pass the budget', async () => {
    limitedFor = 10;
    requests = 0;
    await assert.rejects(
      obtainCallKey(config(2), `$${'a'.repeat(43)}@room-name-1`),
      (error: unknown) => error instanceof HandoffError && error.reason === 'backend_error',
    );
    assert.ok(requests >= 2 && requests <= 3, `${requests} requests`);
  });
});

describe("the backend's in-process per-user list limit", () => {
  it('lets perMinute requests per user through, then refuses with 429 rate_limited and Retry-After; other users unaffected', async () => {
    const { limitPerUserInProcess } = await import('../../server/middleware/rate-limit.ts');
    const { ApiError } = await import('../../server/errors.ts');
    const limit = limitPerUserInProcess(3, 'rate_limited', 'slow down');
    const ctx = (userId: string) => ({ state: { userId } }) as never;
    let passed = 0;
    const next = async () => void (passed += 1);
    for (let i = 0; i < 3; i += 1) await limit(ctx('@a:x'), next);
    assert.throws(
      () => limit(ctx('@a:x'), next),
      (error: unknown) => error instanceof ApiError && error.status === 429 && error.code === 'rate_limited' && Number(error.headers['retry-after']) > 0,
    );
    await limit(ctx('@b:x'), next);
    assert.equal(passed, 4);
  });
});
