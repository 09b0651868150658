/**
 * The demo servers against DNS rebinding: a page elsewhere that points its own name at 127.0.0.1 gets
 * nothing from them, the demo password (in /demo-config.json) least of all. Real Vite build, real HTTP.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startDemoServers } from '../../scripts/services/demo-server.ts';
import type { DemoServers } from '../../scripts/services/demo-server.ts';

/** A GET with the Host header as given (fetch would not let a test set it). */
function get(url: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { host } }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the demo servers answer only to their own Host', () => {
  let servers: DemoServers;
  before(async () => {
    servers = await startDemoServers(
      {
        backendUrl: 'http://127.0.0.1:1',
        homeserverUrl: 'http://127.0.0.1:2',
        userId: '@demo:localhost',
        password: 'demo-password-secret',
        roomId: '!room:localhost',
      },
      { livekitUrl: 'ws://127.0.0.1:3' },
    );
  });
  after(() => servers?.close());

  it('serves the demo config to 127.0.0.1:<port> and localhost:<port>, and 421 to any other name', async () => {
    const config = `${servers.siteUrl}/demo-config.json`;
    const port = new URL(servers.siteUrl).port;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) {
      const ok = await get(config, host);
      assert.equal(ok.status, 200, host);
      assert.match(ok.body, /demo-password-secret/);
    }
    for (const host of [`rebind.evil.example:${port}`, 'rebind.evil.example', `127.0.0.1:${Number(port) + 1}`]) {
      const refused = await get(config, host);
      assert.equal(refused.status, 421, host);
      assert.doesNotMatch(refused.body, /demo-password-secret/);
    }
    const page = await get(servers.pageUrl, `rebind.evil.example:${port}`);
    assert.equal(page.status, 421);
  });

  it("serves its pages with a strict Content-Security-Policy that names the oracle's origin", async () => {
    const response = await fetch(servers.pageUrl);
    assert.equal(response.status, 200);
    const policy = response.headers.get('content-security-policy') ?? '';
    assert.match(policy, /default-src 'none'/);
    assert.match(policy, /script-src 'self' http:\/\/127\.0\.0\.1:1 'wasm-unsafe-eval'(;|$)/);
    assert.doesNotMatch(policy, /'unsafe-inline'|'unsafe-eval'/);
    assert.match(
      await response.text(),
      /src="http:\/\/127\.0\.0\.1:1\/oracle-call-[\w-]{10}\.js" integrity="sha384-[\w+/=]{64}" crossorigin="anonymous"/,
      "the script tag names the oracle's origin and pins the build",
    );
  });
});
