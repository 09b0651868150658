/**
 * Real Element Web for the demo and the end-to-end tests. No registry ships it, so the project takes a
 * build from outside the repository: `ELEMENT_WEB_DIR`, else `../shared/element-web` beside the
 * project. That folder holds either an `element-web-v*.tar.gz` archive (unpacked once into the
 * git-ignored cache) or the unpacked files themselves (`index.html`). Element Web is never copied into
 * the repository.
 *
 * It is served at its own origin (it registers a service worker there; the widget lives on another
 * origin) with a `config.json` that points it at the local Synapse.
 */
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import Koa from 'koa';
import serve from 'koa-static';
import { PROJECT_ROOT, cacheDir, progress } from './paths.ts';
import { ServiceError, runCommand } from './process.ts';

export const ELEMENT_WEB_HELP =
  'Element Web is not available: set ELEMENT_WEB_DIR to a folder holding an Element Web release archive ' +
  '(element-web-v*.tar.gz, from https://github.com/element-hq/element-web/releases) or its unpacked files ' +
  `(with index.html), or put one in ${path.resolve(PROJECT_ROOT, '../shared/element-web')}`;

/** Where the Element Web build comes from: `ELEMENT_WEB_DIR`, else `../shared/element-web`. */
export function elementWebSource(): string {
  return path.resolve(process.env.ELEMENT_WEB_DIR ?? path.join(PROJECT_ROOT, '../shared/element-web'));
}

/** The folder of Element Web's static files (unpacked into the cache when the source is an archive). */
export async function installElementWeb(source = elementWebSource()): Promise<string> {
  if (!existsSync(source)) throw new ServiceError(`${ELEMENT_WEB_HELP} (${source} does not exist)`);
  if (existsSync(path.join(source, 'index.html'))) return source;
  const archive = readdirSync(source)
    .filter((name) => /^element-web-.+\.tar\.gz$/.test(name))
    .sort()
    .at(-1);
  if (!archive) throw new ServiceError(`${ELEMENT_WEB_HELP} (${source} has neither index.html nor an element-web-*.tar.gz)`);
  const version = archive.replace(/\.tar\.gz$/, '');
  const target = path.join(cacheDir('element-web'), version);
  if (existsSync(path.join(target, 'index.html'))) return target;
  progress('element-web', `unpacking ${archive} into ${path.dirname(target)} (first run only)…`);
  const scratch = `${target}.unpacking`;
  rmSync(scratch, { recursive: true, force: true });
  cacheDir('element-web', path.basename(scratch));
  try {
    await runCommand('tar', ['-xzf', path.join(source, archive), '-C', scratch], () => {});
  } catch (error) {
    throw new ServiceError(`Element Web: ${archive} could not be unpacked: ${(error as Error).message}`);
  }
  // The archive holds one top folder (element-web-v1.12.7/); an archive without one is taken as it is.
  const inner = path.join(scratch, version);
  rmSync(target, { recursive: true, force: true });
  renameSync(existsSync(path.join(inner, 'index.html')) ? inner : scratch, target);
  rmSync(scratch, { recursive: true, force: true });
  if (!existsSync(path.join(target, 'index.html'))) throw new ServiceError(`Element Web: ${archive} holds no index.html`);
  return target;
}

/** The `config.json` Element Web reads at start: the local homeserver, no guests, the light theme. */
export function elementWebConfig(homeserver: { baseUrl: string; serverName: string }): Record<string, unknown> {
  return {
    default_server_config: { 'm.homeserver': { base_url: homeserver.baseUrl, server_name: homeserver.serverName } },
    brand: 'Element',
    disable_guests: true,
    disable_custom_urls: true,
    default_theme: 'light',
    show_labs_settings: false,
    // Nothing on this machine should reach outside: no integration manager, no analytics, no map tiles.
    integrations_ui_url: '',
    integrations_rest_url: '',
    integrations_widgets_urls: [],
    bug_report_endpoint_url: null,
    posthog: null,
  };
}

export interface ElementWebServer {
  /** Element Web's address, e.g. http://127.0.0.1:8080/ */
  readonly url: string;
  /** The folder it serves. */
  readonly dir: string;
  close(): Promise<void>;
}

/** Serves Element Web on `port` (0: a free one) for the homeserver. */
export async function startElementWeb(homeserver: { baseUrl: string; serverName: string }, port = 0): Promise<ElementWebServer> {
  const dir = await installElementWeb();
  const app = new Koa();
  app.use(async (ctx, next) => {
    if (ctx.path !== '/config.json') return next();
    ctx.set('cache-control', 'no-store');
    ctx.body = elementWebConfig(homeserver);
  });
  app.use(serve(dir, { index: 'index.html' }));
  const server = await new Promise<Server>((resolve, reject) => {
    const listening = app.listen(port, '127.0.0.1', () => resolve(listening));
    listening.once('error', reject);
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    dir,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
