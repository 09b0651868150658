/**
 * Serves the built pages (`dist/`, from `npm run build`) for the demo and the end-to-end tests: the demo
 * site (with `/demo-config.json`: the local demo account's user ID and password, which each browser logs
 * in with once to get its own encrypting device) on one port, and the widget page on another, so the
 * widget runs on its own origin as it would inside Element.
 */
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import Koa from 'koa';
import serve from 'koa-static';
import type { DemoConfig } from '../../demo/config.ts';
import { PROJECT_ROOT, progress } from './paths.ts';

export const DIST = path.join(PROJECT_ROOT, 'dist');

/** Builds the element, the widget page and the demo pages into `dist/` with Vite. */
export async function buildPages(): Promise<void> {
  progress('build', 'building the element, the widget page and the demo pages with Vite…');
  const { build } = await import('vite');
  await build({ configFile: path.join(PROJECT_ROOT, 'vite.config.ts'), root: PROJECT_ROOT, logLevel: 'warn' });
}

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

function staticApp(...routes: Koa.Middleware[]): Koa {
  const app = new Koa();
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
  if (!existsSync(path.join(DIST, 'oracle-call.js'))) await buildPages();
  const widgetServer = await listen(staticApp(), ports.widget);
  const widgetOrigin = `http://127.0.0.1:${(widgetServer.address() as AddressInfo).port}`;
  const widgetUrl = `${widgetOrigin}/widget/page/index.html`;
  const site = staticApp(async (ctx, next) => {
    if (ctx.path !== '/demo-config.json') return next();
    ctx.set('cache-control', 'no-store');
    ctx.body = { ...config, widgetUrl } satisfies DemoConfig;
  });
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
