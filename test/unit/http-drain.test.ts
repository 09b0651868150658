/**
 * A stopping backend's HTTP server (server/http-drain.ts), over real HTTP: a request being answered is
 * answered in full before `close` resolves (its handler may still use the Matrix client, which the
 * backend closes next), a new connection is refused meanwhile, and one slower than the grace is dropped.
 */
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { drainOnClose } from '../../server/http-drain.ts';

/** A server whose handler answers after `delayMs`, recording when each handler finished. */
async function slowServer(delayMs: number) {
  const finished: number[] = [];
  const http = createServer(async (_request, response) => {
    await sleep(delayMs);
    finished.push(Date.now());
    response.end('done');
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return { http, finished, port: (http.address() as AddressInfo).port };
}

function get(port: number): Promise<{ status?: number; body?: string; error?: string }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false }, (response) => {
      let body = '';
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => resolve({ ...(response.statusCode ? { status: response.statusCode } : {}), body }));
      response.on('error', (error) => resolve({ error: error.message }));
    });
    req.on('error', (error) => resolve({ error: (error as NodeJS.ErrnoException).code ?? error.message }));
    req.end();
  });
}

describe('closing the HTTP server drains the requests being answered', () => {
  it('answers a request in flight before close resolves, and refuses new connections meanwhile', async () => {
    const { http, finished, port } = await slowServer(400);
    const drain = drainOnClose(http);
    const inFlight = get(port);
    await sleep(100); // the request is in its handler
    const closing = drain.close(5000).then(() => Date.now());
    await sleep(20);
    const late = await get(port);
    assert.equal(late.error, 'ECONNREFUSED', 'a new connection is refused once closing');
    const closedAt = await closing;
    assert.deepEqual(await inFlight, { status: 200, body: 'done' });
    assert.equal(finished.length, 1);
    assert.ok(closedAt >= finished[0]!, 'close resolved only after the handler finished');
  });

  it('drops a request slower than the grace, without waiting for it', async () => {
    const { http, port } = await slowServer(3000);
    const drain = drainOnClose(http);
    const inFlight = get(port);
    await sleep(100);
    const started = Date.now();
    await drain.close(300);
    const took = Date.now() - started;
    assert.ok(took >= 250 && took < 2000, `close took ${took} ms`);
    assert.ok((await inFlight).error, 'the slow request was cut off');
  });

  it('closes at once when nothing is in flight, keep-alive connections included', async () => {
    const { http, port } = await slowServer(0);
    const drain = drainOnClose(http);
    await get(port);
    const started = Date.now();
    await drain.close(5000);
    assert.ok(Date.now() - started < 1000);
  });
});
