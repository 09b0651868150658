/**
 * The built element served from the oracle's own origin (`npm run build`'s `dist/`), so a site needs
 * one origin for everything: `/oracle-call.js` (the script tag's module), its content-hashed copy
 * `/oracle-call-<hash>.js` (for a page that pins a version with Subresource Integrity), the lazy chunks
 * and the E2EE worker under `/assets/`, and the widget page under `/widget/page/`. Nothing else of the
 * folder is served (the demo pages stay out).
 *
 * Files whose name carries their content hash are cached for a year, `immutable`; the others
 * (`/oracle-call.js`, the widget page) are revalidated on every use (`no-cache` and Last-Modified), so
 * a new build reaches pages at once. The build writes `.br` and `.gz` beside each file, which are
 * sent to a browser that accepts them. The files are public code: any page may load them (CORS `*`,
 * no credentials), never sniffed as another type. The widget page, which runs inside Element,
 * carries a strict Content-Security-Policy: no inline script, scripts and its E2EE worker from this
 * origin only, connections only to this backend and the LiveKit server.
 */
import path from 'node:path';
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { Context, Middleware } from 'koa';
import send from 'koa-send';

/** The paths served, relative to the folder: the entry, its hashed copies, the chunks, the widget page. */
const SERVED = /^\/(?:oracle-call(?:-[A-Za-z0-9_-]{8,})?\.js(?:\.map)?|integrity\.json|assets\/[A-Za-z0-9._-]+|widget\/page\/(?:[A-Za-z0-9._-]+)?)$/;
/** Names that carry their content's hash (Vite's `[name]-[hash]`, the build's `oracle-call-<hash>.js`). */
const HASHED = /^\/(?:assets\/[^/]*-|oracle-call-)[A-Za-z0-9_-]{8,}\.[a-z]+(?:\.map)?$/;
const YEAR_MS = 365 * 24 * 3600 * 1000;

export interface ElementFilesOptions {
  /** The built folder (holds `oracle-call.js`). */
  readonly root: string;
  /** The LiveKit URL clients connect to: the widget page may connect there and to this origin only. */
  readonly livekitUrl: string;
  /** Who may frame the widget page (CSP `frame-ancestors` sources; `*`: any site). */
  readonly frameAncestors: readonly string[];
}

/**
 * The CSP sources a page needs for the LiveKit server at `livekitUrl`: its WebSocket origin, and its
 * HTTP(S) one (livekit-client asks it over HTTP why a connection failed, /rtc/validate).
 */
export function livekitSources(livekitUrl: string): string {
  const livekit = new URL(livekitUrl);
  const secure = livekit.protocol === 'wss:' || livekit.protocol === 'https:';
  return `${secure ? 'wss:' : 'ws:'}//${livekit.host} ${secure ? 'https:' : 'http:'}//${livekit.host}`;
}

/** The widget page's Content-Security-Policy. */
export function widgetPagePolicy(options: Pick<ElementFilesOptions, 'livekitUrl' | 'frameAncestors'>): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "worker-src 'self'",
    `connect-src 'self' ${livekitSources(options.livekitUrl)}`,
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob: mediastream:",
    "font-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "object-src 'none'",
    `frame-ancestors ${options.frameAncestors.join(' ')}`,
  ].join('; ');
}

export function elementFiles(options: ElementFilesOptions): Middleware {
  const policy = widgetPagePolicy(options);
  const root = path.resolve(options.root);
  return async (ctx: Context, next) => {
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || !SERVED.test(ctx.path)) return next();
    const file = ctx.path.endsWith('/') ? `${ctx.path}index.html` : ctx.path;
    const hashed = HASHED.test(file);
    const setHeaders = (res: ServerResponse) => {
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.setHeader('Access-Control-Allow-Origin', '*');
      res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
      res.setHeader('Referrer-Policy', 'no-referrer');
      res.setHeader('Vary', 'Accept-Encoding');
      if (!hashed) res.setHeader('Cache-Control', 'no-cache');
      if (file.endsWith('.html')) res.setHeader('Content-Security-Policy', policy);
    };
    try {
      await send(ctx, file, { root, index: false, hidden: false, format: false, ...(hashed ? { maxAge: YEAR_MS, immutable: true } : {}), setHeaders });
    } catch (error) {
      // Not built (or not this file): the API's own 404 answers.
      if ((error as { status?: number }).status === 404) return next();
      throw error;
    }
    // A revalidation of an unchanged file (Last-Modified) is answered without the body.
    if (ctx.fresh) {
      (ctx.body as Readable).destroy();
      ctx.status = 304;
      ctx.body = null;
    }
  };
}
