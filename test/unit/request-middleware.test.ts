import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import Koa from 'koa';
import type { ApiErrorCode } from '../../protocol/api/index.ts';
import { ApiError } from '../../server/errors.ts';
import { createLogger } from '../../server/logger.ts';
import { handleRequests } from '../../server/middleware/request.ts';

describe('handleRequests (the outermost middleware: error answers and the request log)', () => {
  const lines: Record<string, unknown>[] = [];
  let server: Server;
  let base: string;

  before(async () => {
    const log = createLogger('debug', { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const koa = new Koa();
    koa.use(handleRequests(koa, log));
    koa.use((ctx, next) => {
      if (ctx.path === '/ok') ctx.body = { fine: true };
      else if (ctx.path === '/refused') throw new ApiError(503, 'not_yet' as ApiErrorCode, 'Try again soon', { 'retry-after': '3' });
      else if (ctx.path === '/broken') throw new Error('database password is hunter2');
      else if (ctx.path === '/koa') ctx.throw(418, 'short and stout');
      else return next();
      return undefined;
    });
    server = koa.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const get = async (path: string) => {
    const response = await fetch(base + path);
    return { status: response.status, headers: response.headers, body: (await response.json()) as { error?: { code: string; message: string } } };
  };
  const requestLine = (path: string) => lines.find((line) => line.msg === 'request' && line.path === path);

  it('passes answers through and logs them at debug level', async () => {
    const ok = await get('/ok?token=secret');
    assert.deepEqual([ok.status, ok.body], [200, { fine: true }]);
    const line = requestLine('/ok');
    assert.equal(line?.level, 20);
    assert.equal(line?.status, 200);
    assert.equal(JSON.stringify(line).includes('secret'), false, 'no query string in the log');
  });

  it('answers an API error with its status, code and headers, logged with its code', async () => {
    const refused = await get('/refused');
    assert.equal(refused.status, 503);
    assert.deepEqual(refused.body, { error: { code: 'not_yet', message: 'Try again soon' } });
    assert.equal(refused.headers.get('retry-after'), '3');
    assert.equal(requestLine('/refused')?.code, 'not_yet');
  });

  it('answers an unknown path 404 not_found, and a client error from Koa with its status', async () => {
    assert.deepEqual(await get('/nowhere').then((r) => [r.status, r.body.error?.code]), [404, 'not_found']);
    assert.deepEqual(await get('/koa').then((r) => [r.status, r.body.error]), [418, { code: 'bad_request', message: 'short and stout' }]);
  });

  it('answers an unexpected error 500 without its message, and logs it at error level', async () => {
    const broken = await get('/broken');
    assert.deepEqual([broken.status, broken.body.error?.code], [500, 'internal_error']);
    assert.equal(JSON.stringify(broken.body).includes('hunter2'), false);
    assert.equal(lines.find((line) => line.msg === 'unexpected error')?.level, 50);
    assert.equal(requestLine('/broken')?.level, 50);
  });
});
