/**
 * CORS for the configured embedding origins only (the pages that host the element or the widget). Every
 * answer says `Vary: Origin`; a request from an allowed origin gets Access-Control-Allow-Origin, and its
 * preflight (OPTIONS with Access-Control-Request-Method) is answered here with 204. A request from
 * anywhere else, or with no Origin, gets nothing more. No promise of its own: it costs a header lookup.
 */
import type { Context, Next } from 'koa';

export interface CorsOptions {
  readonly origins: readonly string[];
  readonly methods: readonly string[];
  readonly headers: readonly string[];
  readonly maxAgeSeconds: number;
}

export function cors(options: CorsOptions) {
  const allowed = new Set(options.origins);
  const allowMethods = options.methods.join(',');
  const allowHeaders = options.headers.join(',');
  const maxAge = String(options.maxAgeSeconds);

  return (ctx: Context, next: Next): Promise<void> => {
    // Set rather than appended: this runs before anything that could add to Vary (see app.ts).
    ctx.set('Vary', 'Origin');
    const origin = ctx.get('origin');
    if (!allowed.has(origin)) return next();
    if (ctx.method !== 'OPTIONS') {
      ctx.set('Access-Control-Allow-Origin', origin);
      return next();
    }
    // An OPTIONS request that is not a preflight is left to the routes.
    if (!ctx.get('access-control-request-method')) return next();
    ctx.set('Access-Control-Allow-Origin', origin);
    ctx.set('Access-Control-Max-Age', maxAge);
    ctx.set('Access-Control-Allow-Methods', allowMethods);
    ctx.set('Access-Control-Allow-Headers', allowHeaders);
    ctx.status = 204;
    return Promise.resolve();
  };
}
