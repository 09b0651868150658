/**
 * The backend serving the built element (server/element-files.ts) over real HTTP: which paths, caching
 * by content hash, revalidation, precompressed files, types and security headers, the widget page's
 * policy, and nothing outside what it serves. Plus ELEMENT_DIR and WIDGET_FRAME_ANCESTORS at start.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { type IncomingHttpHeaders, type Server, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import Koa from 'koa';
import { generateOracleKeyPair } from '../../protocol/index.ts';
import { tempDir } from '../../scripts/stack/temp-dir.ts';
import { ConfigError, loadConfig } from '../../server/config.ts';
import { elementFiles, widgetPagePolicy } from '../../server/element-files.ts';
import { createLogger } from '../../server/logger.ts';
import { handleRequests } from '../../server/middleware/request.ts';
import { ORACLE_DID } from '../fixtures/call-events.ts';

const ENTRY = 'export const element = "oracle-call";\n'.repeat(60);
const CHUNK = 'export const livekit = 1;\n'.repeat(80);

function built(): string {
  const root = tempDir('element-files-');
  mkdirSync(path.join(root, 'assets'));
  mkdirSync(path.join(root, 'widget/page'), { recursive: true });
  mkdirSync(path.join(root, 'demo'));
  writeFileSync(path.join(root, 'oracle-call.js'), ENTRY);
  writeFileSync(path.join(root, 'oracle-call-Ab3dE6gH9k.js'), ENTRY);
  writeFileSync(path.join(root, 'assets/livekit-client-B7x_Qz2m.js'), CHUNK);
  writeFileSync(path.join(root, 'assets/livekit-client-B7x_Qz2m.js.gz'), gzipSync(CHUNK));
  writeFileSync(path.join(root, 'assets/widget-page-C1d2E3f4.css'), 'body{margin:0}');
  writeFileSync(path.join(root, 'widget/page/index.html'), '<!doctype html><title>widget</title>');
  writeFileSync(path.join(root, 'demo/index.html'), '<!doctype html><title>demo</title>');
  writeFileSync(path.join(root, 'integrity.json'), '{}');
  return root;
}

function get(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the built element served by the backend', () => {
  let server: Server;
  let base: string;
  before(async () => {
    const koa = new Koa();
    koa.use(handleRequests(koa, createLogger('silent')));
    koa.use(elementFiles({ root: built(), livekitUrl: 'wss://livekit.example:7880', frameAncestors: ['https://element.example'] }));
    server = koa.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('serves the entry revalidated on every use, as JavaScript that any page may load', async () => {
    const { status, headers, body } = await get(`${base}/oracle-call.js`);
    assert.equal(status, 200);
    assert.equal(body.toString(), ENTRY);
    assert.match(headers['content-type'] ?? '', /^text\/javascript|^application\/javascript/);
    assert.equal(headers['cache-control'], 'no-cache');
    assert.equal(headers['x-content-type-options'], 'nosniff');
    assert.equal(headers['access-control-allow-origin'], '*');
    assert.equal(headers['cross-origin-resource-policy'], 'cross-origin');
    assert.ok(headers['last-modified']);
    assert.equal(headers['content-security-policy'], undefined, 'a script carries no page policy');
    const again = await get(`${base}/oracle-call.js`, { 'if-modified-since': headers['last-modified'] });
    assert.equal(again.status, 304);
    assert.equal(again.body.length, 0);
  });

  it('caches files named by their content hash for a year, immutable, and sends the compressed copy to who accepts it', async () => {
    for (const file of ['/oracle-call-Ab3dE6gH9k.js', '/assets/livekit-client-B7x_Qz2m.js', '/assets/widget-page-C1d2E3f4.css']) {
      const { status, headers } = await get(base + file);
      assert.equal(status, 200, file);
      assert.equal(headers['cache-control'], 'max-age=31536000,immutable', file);
    }
    const css = await get(`${base}/assets/widget-page-C1d2E3f4.css`);
    assert.match(css.headers['content-type'] ?? '', /^text\/css/);
    const zipped = await get(`${base}/assets/livekit-client-B7x_Qz2m.js`, { 'accept-encoding': 'gzip' });
    assert.equal(zipped.headers['content-encoding'], 'gzip');
    assert.match(zipped.headers.vary ?? '', /Accept-Encoding/);
    const plain = await get(`${base}/assets/livekit-client-B7x_Qz2m.js`);
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(plain.body.toString(), CHUNK);
    const head = await get(`${base}/assets/livekit-client-B7x_Qz2m.js`, {}, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
  });

  it('serves the widget page with its strict policy', async () => {
    for (const url of [`${base}/widget/page/index.html`, `${base}/widget/page/`]) {
      const { status, headers } = await get(url);
      assert.equal(status, 200, url);
      assert.match(headers['content-type'] ?? '', /^text\/html/);
      assert.equal(headers['cache-control'], 'no-cache');
      const policy = String(headers['content-security-policy'] ?? '');
      assert.match(policy, /default-src 'none'/);
      assert.match(policy, /script-src 'self'(;|$)/);
      assert.match(policy, /worker-src 'self'(;|$)/);
      assert.match(policy, /connect-src 'self' wss:\/\/livekit\.example:7880 https:\/\/livekit\.example:7880(;|$)/);
      assert.match(policy, /frame-ancestors https:\/\/element\.example(;|$)/);
      assert.doesNotMatch(policy, /'unsafe-inline'|'unsafe-eval'/);
    }
  });

  it('serves nothing else: not the demo pages, not a file outside the folder, not a missing file, not another method', async () => {
    for (const file of [
      '/demo/index.html',
      '/assets/../demo/index.html',
      '/assets/%2e%2e%2fdemo%2findex.html',
      '/assets/missing-Zz9Yy8Xx.js',
      '/etc/passwd',
      '/oracle-call.ts',
    ]) {
      const { status, body } = await get(base + file);
      assert.equal(status, 404, file);
      assert.doesNotMatch(body.toString(), /<title>/, file);
    }
    const posted = await get(`${base}/oracle-call.js`, {}, 'POST');
    assert.equal(posted.status, 404);
  });

  it('a ws:// LiveKit URL is allowed over ws: and http: only', () => {
    assert.match(
      widgetPagePolicy({ livekitUrl: 'ws://127.0.0.1:7880', frameAncestors: ['*'] }),
      /connect-src 'self' ws:\/\/127\.0\.0\.1:7880 http:\/\/127\.0\.0\.1:7880;.*frame-ancestors \*$/,
    );
  });
});

describe('ELEMENT_DIR and WIDGET_FRAME_ANCESTORS at start', () => {
  const env = (more: Record<string, string>) => ({
    DATA_DIR: tempDir('element-config-'),
    ORACLE_DID,
    ORACLE_PUBLIC_KEY: generateOracleKeyPair().publicKey,
    AGENT_API_KEY: 'agent-key-7f3a9c2e5b8d1f4a6c0e9b2d7f5a3c8e',
    LIVEKIT_URL: 'ws://127.0.0.1:7880',
    LIVEKIT_API_KEY: 'devkey',
    LIVEKIT_API_SECRET: 'secret',
    MATRIX_BASE_URL: 'http://127.0.0.1:8008',
    MATRIX_ACCESS_TOKEN: 'token',
    ...more,
  });

  it("serves the project's build by default, a given build, or nothing when empty", () => {
    assert.match(loadConfig(env({})).elementDir ?? '', /dist$/);
    const root = built();
    assert.equal(loadConfig(env({ ELEMENT_DIR: root })).elementDir, root);
    assert.equal(loadConfig(env({ ELEMENT_DIR: '' })).elementDir, undefined);
    assert.deepEqual(loadConfig(env({})).widgetFrameAncestors, ['*']);
    assert.deepEqual(loadConfig(env({ WIDGET_FRAME_ANCESTORS: 'https://app.element.io, https://*.example.org' })).widgetFrameAncestors, [
      'https://app.element.io',
      'https://*.example.org',
    ]);
  });

  it('refuses a folder without a build, and a frame ancestor that is not an origin', () => {
    assert.throws(
      () => loadConfig(env({ ELEMENT_DIR: tempDir('not-built-') })),
      (error: unknown) => error instanceof ConfigError && /ELEMENT_DIR: .* holds no oracle-call\.js/.test(error.message),
    );
    for (const bad of ["'unsafe-inline'", 'https://a.example; script-src *', 'element.example']) {
      assert.throws(
        () => loadConfig(env({ WIDGET_FRAME_ANCESTORS: bad })),
        (error: unknown) => error instanceof ConfigError && /WIDGET_FRAME_ANCESTORS/.test(error.message),
        bad,
      );
    }
  });
});
