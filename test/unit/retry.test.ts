import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RetryableError, withRetry } from '../../server/matrix/retry.ts';

const fast = { attempts: 4, baseDelayMs: 1, maxDelayMs: 20 };

describe('withRetry', () => {
  it('retries passing failures and returns the first success', async () => {
    let calls = 0;
    const delays: number[] = [];
    const result = await withRetry(
      async () => {
        calls += 1;
        if (calls < 3) throw new RetryableError('busy');
        return 'done';
      },
      { ...fast, onRetry: (_attempt, _error, delay) => delays.push(delay) },
    );
    assert.equal(result, 'done');
    assert.equal(calls, 3);
    assert.equal(delays.length, 2);
    for (const [i, delay] of delays.entries()) assert.ok(delay >= 0 && delay <= fast.baseDelayMs * 2 ** i, `delay ${delay} within the backoff ceiling`);
  });

  it('gives up after the bounded number of attempts and reports the last error', async () => {
    let calls = 0;
    await assert.rejects(
      withRetry(async () => {
        calls += 1;
        throw new RetryableError(`failure ${calls}`);
      }, fast),
      /failure 4/,
    );
    assert.equal(calls, 4);
  });

  it('does not retry errors that are not passing ones', async () => {
    let calls = 0;
    await assert.rejects(
      withRetry(async () => {
        calls += 1;
        throw new Error('forbidden');
      }, fast),
      /forbidden/,
    );
    assert.equal(calls, 1);
  });

  it("honours the server's retry_after_ms hint, capped by the maximum delay", async () => {
    const delays: number[] = [];
    let calls = 0;
    await withRetry(
      async () => {
        calls += 1;
        if (calls === 1) throw new RetryableError('slow down', 15);
        if (calls === 2) throw new RetryableError('slow down more', 10_000);
        return true;
      },
      { ...fast, onRetry: (_a, _e, delay) => delays.push(delay) },
    );
    assert.deepEqual(delays, [15, fast.maxDelayMs]);
  });

  it('spreads delays with jitter instead of retrying in lockstep', async () => {
    const delays = new Set<number>();
    for (let i = 0; i < 20; i += 1) {
      let calls = 0;
      await withRetry(
        async () => {
          calls += 1;
          if (calls === 1) throw new RetryableError('x');
          return true;
        },
        { attempts: 2, baseDelayMs: 50, maxDelayMs: 50, onRetry: (_a, _e, delay) => delays.add(delay) },
      ).catch(() => {});
    }
    assert.ok(delays.size > 5, `delays vary (${[...delays].slice(0, 5).join(', ')}…)`);
  });
});
