/** The local stack (scripts/stack/) for a test file: started before its tests, stopped after; and refusal checks. */
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { startStack, stopStack, storeSnapshot } from '../../scripts/stack/stack.ts';
import type { ApiResponse, Stack, StackOptions } from '../../scripts/stack/stack.ts';

/** Starts a stack before the file's tests and stops it after. */
export function useStack(extraEnv?: Record<string, string>, options?: StackOptions): () => Stack {
  let stack: Stack | undefined;
  before(async () => {
    stack = await startStack(extraEnv, options);
  });
  after(() => stopStack(stack));
  return () => {
    if (!stack) throw new Error('the test stack did not start (see the error above)');
    return stack;
  };
}

/** Asserts the refusal's status and code, and that the store (file or database) did not change. */
export async function assertRefused(stack: Stack, request: () => Promise<ApiResponse>, status: number, code: string): Promise<ApiResponse> {
  const before = await storeSnapshot(stack);
  const response = await request();
  assert.equal(response.status, status, `expected ${status} ${code}, got ${response.status} ${JSON.stringify(response.body)}`);
  assert.equal(response.body?.error?.code, code, JSON.stringify(response.body));
  assert.equal(typeof response.body.error.message, 'string');
  assert.equal(await storeSnapshot(stack), before, 'the store changed');
  return response;
}
