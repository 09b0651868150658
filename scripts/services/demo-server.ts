/**
 * Serves the built pages (`dist/`, from `npm run build`) for the demo and the end-to-end tests: the demo
 * site (with `/demo-config.json`: the local demo account's user ID and password, which each browser logs
 * in with once to get its own encrypting device) on one port, and the widget page on another, so the
 * widget runs on its own origin as it would inside Element. Each server answers only requests for its
 * own host (`127.0.0.1:<port>` or `localhost:<port>`): a web page elsewhere that points a name it owns
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
import type { DemoConfig } from '../../demo/config.ts';
import { PROJECT_ROOT, progress } from './paths.ts';

export const DIST = path.join(PROJECT_ROOT, 'dist');

/**
 * The backends the demo's widget page may talk to: any port on loopback (the backend's port is picked
 * at run time). A production build (`npm run build`) allows only what VITE_ALLOWED_BACKENDS says.
 */
const DEMO_ALLOWED_BACKENDS = 'http://127.0.0.1:*,http://localhost:*';
/** Written beside a demo build, so a production build in `dist/` is not taken for one. */
const DEMO_BUILD_MARK = path.join(DIST, 'demo-build.json');

/** What a demo build is made from: the sources of the parts it bundles, the build config, the locked dependencies. */
const BUILD_INPUTS = ['widget', 'protocol', 'demo', 'vite.config.ts', 'package-lock.json'];

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

export interface DemoServers {
  /** The demo site's origin, e.g. http://127.0.0.1:5173 */
  readonly siteUrl: string;
  /** The script-tag page. */
  readonly pageUrl: string;
  /** The widget host page. */
  readonly hostUrl: string;
  /** The widget page, on its own origin. */
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

function staticApp(...routes: Koa.Middleware[]): Koa {
  const app = new Koa();
  app.use(ownHostOnly);
  for (const route of routes) app.use(route);
  app.use(serve(DIST, { index: 'index.html' }));
  return app;
}

/**
 * Starts both servers (port 0 picks free ports). `config` is what the pages get, less the widget URL,
 * which is known once the widget server listens.
 */
export async function startDemoServers(
  config: Omit<DemoConfig, 'widgetUrl'>,
  ports: { site: number; widget: number } = { site: 0, widget: 0 },
): Promise<DemoServers> {
  if (!isDemoBuild()) await buildPages();
  // The widget server stands for the oracle's origin: a site may load the element from it, a
  // cross-origin module (and E2EE worker) that the browser fetches with CORS.
  const widgetServer = await listen(
    staticApp(async (ctx, next) => {
      await next();
      ctx.set('Access-Control-Allow-Origin', '*');
    }),
    ports.widget,
  );
  const widgetOrigin = `http://127.0.0.1:${(widgetServer.address() as AddressInfo).port}`;
  const widgetUrl = `${widgetOrigin}/widget/page/index.html`;
  const site = staticApp(
    async (ctx, next) => {
      if (ctx.path !== '/demo-config.json') return next();
      ctx.set('cache-control', 'no-store');
      ctx.body = { ...config, widgetUrl } satisfies DemoConfig;
    },
    // The demo site embeds the element as a site does: its script tag names the oracle's origin (the
    // widget server's), so the element, its chunks and its E2EE worker come from another origin.
    async (ctx, next) => {
      if (ctx.path !== '/demo/index.html' && ctx.path !== '/demo/') return next();
      const page = await readFile(path.join(DIST, 'demo/index.html'), 'utf8');
      if (!page.includes(ELEMENT_TAG)) throw new Error(`the built demo page has no ${ELEMENT_TAG}`);
      ctx.type = 'html';
      ctx.body = page.replace(ELEMENT_TAG, `src="${widgetOrigin}/oracle-call.js"`);
    },
  );
  const siteServer = await listen(site, ports.site);
  const siteUrl = `http://127.0.0.1:${(siteServer.address() as AddressInfo).port}`;
  return {
    siteUrl,
    pageUrl: `${siteUrl}/demo/index.html`,
    hostUrl: `${siteUrl}/demo/widget-host.html`,
    widgetUrl,
    async close() {
      for (const server of [siteServer, widgetServer]) {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      }
    },
  };
}
