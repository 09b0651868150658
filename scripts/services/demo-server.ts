/**
 * Serves the built demo pages (`dist/`, from `npm run build`) for the demo and the end-to-end tests: the
 * demo site (with `/demo-config.json`: the local demo account's user ID and password, which each browser
 * logs in with once to get its own encrypting device). The element and the widget page come from the
 * backend, the oracle's origin, so the widget runs on another origin than its host, as inside Element.
 * The server answers only requests for its own host (`127.0.0.1:<port>` or `localhost:<port>`): a web page elsewhere that points a name it owns
 * at 127.0.0.1 (DNS rebinding) cannot read `/demo-config.json`, which holds the demo password.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import Koa from 'koa';
import serve from 'koa-static';
import lockfile from 'proper-lockfile';
import type { DemoConfig } from '../../demo/config.ts';
import { livekitSources } from '../../server/element-files.ts';
import type { ReleaseManifest } from '../build/release-files.ts';
import { PROJECT_ROOT, cacheDir, progress } from './paths.ts';

export const DIST = path.join(PROJECT_ROOT, 'dist');

/**
 * The backends the demo's widget page may talk to: any port on loopback (the backend's port is picked
 * at run time). A production build (`npm run build`) allows only what VITE_ALLOWED_BACKENDS says.
 */
const DEMO_ALLOWED_BACKENDS = 'http://127.0.0.1:*,http://localhost:*';
/** Written beside a demo build, so a production build in `dist/` is not taken for one. */
const DEMO_BUILD_MARK = path.join(DIST, 'demo-build.json');

/** What a demo build is made from: the sources of the parts it bundles, the build config, the locked dependencies. */
const BUILD_INPUTS = ['widget', 'protocol', 'demo', 'vite.config.ts', 'scripts/build', 'package-lock.json'];

/** A hash of every file the build reads from the project (names and contents), to tell a stale `dist/` from a current one. */
function sourceHash(): string {
  const hash = createHash('sha256');
  const add = (relative: string) => {
    const full = path.join(PROJECT_ROOT, relative);
    if (statSync(full).isDirectory()) {
      for (const name of readdirSync(full).sort()) add(path.join(relative, name));
    } else {
      hash.update(`${relative}\0`).update(readFileSync(full)).update('\0');
    }
  };
  for (const input of BUILD_INPUTS) add(input);
  return hash.digest('hex');
}

interface BuildMark {
  readonly allowedBackends: string;
  readonly sources?: string;
}

function buildMark(): BuildMark | undefined {
  try {
    return existsSync(path.join(DIST, 'oracle-call.js')) ? (JSON.parse(readFileSync(DEMO_BUILD_MARK, 'utf8')) as BuildMark) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Builds the element, the widget page and the demo pages into `dist/` with Vite, for the demo. With
 * `reuse`, a demo build of the same sources is kept (the end-to-end test files each start a browser
 * stack: one build serves them all).
 */
export async function buildPages(options: { reuse?: boolean } = {}): Promise<void> {
  // Test files run side by side: one builds while the others wait, then reuse what it built.
  const release = await lockfile.lock(PROJECT_ROOT, {
    lockfilePath: path.join(cacheDir('build'), 'dist.lock'),
    stale: 120_000,
    retries: { retries: 240, minTimeout: 500, maxTimeout: 1000 },
  });
  try {
    await buildUnlocked(options);
  } finally {
    await release();
  }
}

async function buildUnlocked(options: { reuse?: boolean }): Promise<void> {
  const sources = sourceHash();
  const mark = buildMark();
  if (options.reuse && mark?.allowedBackends === DEMO_ALLOWED_BACKENDS && mark.sources === sources) {
    progress('build', 'the pages in dist/ are built from the current sources');
    return;
  }
  progress('build', 'building the element, the widget page and the demo pages with Vite…');
  const { build } = await import('vite');
  const before = process.env.VITE_ALLOWED_BACKENDS;
  process.env.VITE_ALLOWED_BACKENDS = DEMO_ALLOWED_BACKENDS;
  try {
    await build({ configFile: path.join(PROJECT_ROOT, 'vite.config.ts'), root: PROJECT_ROOT, logLevel: 'warn' });
  } finally {
    if (before === undefined) delete process.env.VITE_ALLOWED_BACKENDS;
    else process.env.VITE_ALLOWED_BACKENDS = before;
  }
  writeFileSync(DEMO_BUILD_MARK, JSON.stringify({ allowedBackends: DEMO_ALLOWED_BACKENDS, sources } satisfies BuildMark));
}

function isDemoBuild(): boolean {
  return buildMark()?.allowedBackends === DEMO_ALLOWED_BACKENDS;
}

/** The script tag's source in the built demo page, which the site server points at the oracle's origin. */
const ELEMENT_TAG = 'src="/oracle-call.js"';
/** The demo page with the element from the site's own origin, under `worker-src 'self'`. */
const SELF_HOSTED_PAGE = '/demo/self-hosted.html';

export interface DemoServers {
  /** The demo site's origin, e.g. http://127.0.0.1:5173 */
  readonly siteUrl: string;
  /** The script-tag page. */
  readonly pageUrl: string;
  /** The script-tag page with the site's own copy of the element (served from its origin, as a site that bundles the package does). */
  readonly selfHostedPageUrl: string;
  /** The widget host page. */
  readonly hostUrl: string;
  /** The widget page, served by the backend (the oracle's origin). */
  readonly widgetUrl: string;
  close(): Promise<void>;
}

function listen(app: Koa, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, '127.0.0.1', () => resolve(server));
    server.once('error', reject);
  });
}

/** Refuses a request whose Host is not this server's own loopback name and port (DNS rebinding). */
const ownHostOnly: Koa.Middleware = async (ctx, next) => {
  const port = ctx.req.socket.localPort;
  if (ctx.host !== `127.0.0.1:${port}` && ctx.host !== `localhost:${port}`) {
    ctx.status = 421;
    ctx.body = 'Misdirected request: this demo server answers only to its own address';
    return;
  }
  await next();
};

/**
 * The demo pages' Content-Security-Policy, as strict as a site that embeds the element can make it: no
 * inline script or style; scripts from the site and the oracle's origin (and the Matrix crypto's
 * WebAssembly); the element's E2EE worker through a `blob:` module (a worker cannot start from another
 * origin); connections to the homeserver, the backend and the LiveKit server only; frames (the widget)
 * from the oracle's origin. With `selfHosted` (the site serves its own copy of the element), scripts
 * and the worker come from the site alone: `script-src 'self'`, `worker-src 'self'`.
 */
export function demoPagePolicy(origins: { oracle: string; homeserver: string; livekit: string }, selfHosted = false): string {
  return [
    "default-src 'none'",
    selfHosted ? "script-src 'self' 'wasm-unsafe-eval'" : `script-src 'self' ${origins.oracle} 'wasm-unsafe-eval'`,
    // The worker's module imports are fetched as the worker's own, under worker-src.
    selfHosted ? "worker-src 'self'" : `worker-src blob: ${origins.oracle}`,
    `connect-src 'self' ${origins.homeserver} ${origins.oracle} ${livekitSources(origins.livekit)}`,
    "style-src 'self'",
    "img-src 'self' data: blob:",
    'media-src blob: mediastream:',
    `frame-src ${origins.oracle}`,
    "base-uri 'none'",
    "form-action 'none'",
    "object-src 'none'",
  ].join('; ');
}

/**
 * Starts the demo site (port 0 picks a free port): the script-tag page and the widget host page. The
 * element, its chunks and E2EE worker, and the widget page come from the backend (`config.backendUrl`,
 * the oracle's origin, server/element-files.ts), as a real site's do: another origin than the pages'.
 */
export async function startDemoServers(config: Omit<DemoConfig, 'widgetUrl'>, options: { port?: number; livekitUrl: string }): Promise<DemoServers> {
  if (!isDemoBuild()) await buildPages();
  const oracleOrigin = new URL(config.backendUrl).origin;
  const widgetUrl = `${oracleOrigin}/widget/page/index.html`;
  const origins = { oracle: oracleOrigin, homeserver: new URL(config.homeserverUrl).origin, livekit: options.livekitUrl };
  const [policy, selfHostedPolicy] = [demoPagePolicy(origins), demoPagePolicy(origins, true)];
  const app = new Koa();
  app.use(ownHostOnly);
  app.use(async (ctx, next) => {
    await next();
    if (ctx.type === 'text/html') ctx.set('Content-Security-Policy', ctx.path === SELF_HOSTED_PAGE ? selfHostedPolicy : policy);
  });
  app.use(async (ctx, next) => {
    if (ctx.path !== '/demo-config.json') return next();
    ctx.set('cache-control', 'no-store');
    ctx.body = { ...config, widgetUrl } satisfies DemoConfig;
  });
  // The demo site embeds the element as a site does: its script tag names the oracle's origin.
  app.use(async (ctx, next) => {
    if (ctx.path !== '/demo/index.html' && ctx.path !== '/demo/' && ctx.path !== SELF_HOSTED_PAGE) return next();
    const page = await readFile(path.join(DIST, 'demo/index.html'), 'utf8');
    if (!page.includes(ELEMENT_TAG)) throw new Error(`the built demo page has no ${ELEMENT_TAG}`);
    ctx.type = 'html';
    // The same page with the site's own copy of the element (`/oracle-call.js` of this server's dist/).
    if (ctx.path === SELF_HOSTED_PAGE) return void (ctx.body = page);
    // Pinned to this build, as the build prints it: the content-hashed file and its SRI hash (a
    // browser refuses the module if a byte differs).
    const { entry, files } = JSON.parse(await readFile(path.join(DIST, 'integrity.json'), 'utf8')) as ReleaseManifest;
    ctx.body = page.replace(ELEMENT_TAG, `src="${oracleOrigin}/${entry}" integrity="${files[entry]}" crossorigin="anonymous"`);
  });
  app.use(serve(DIST, { index: 'index.html' }));
  const siteServer = await listen(app, options.port ?? 0);
  const siteUrl = `http://127.0.0.1:${(siteServer.address() as AddressInfo).port}`;
  return {
    siteUrl,
    pageUrl: `${siteUrl}/demo/index.html`,
    selfHostedPageUrl: `${siteUrl}${SELF_HOSTED_PAGE}`,
    hostUrl: `${siteUrl}/demo/widget-host.html`,
    widgetUrl,
    async close() {
      await new Promise<void>((resolve) => {
        siteServer.close(() => resolve());
        siteServer.closeAllConnections();
      });
    },
  };
}
