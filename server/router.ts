/**
 * The app's router: a route is a method and a path, with its middleware chained once at start. A path is
 * literal (`/calls`) or has `:name` segments (`/calls/:callId/key`, a segment being anything but `/`);
 * matching ignores letter case and one trailing slash, and params are URL-decoded (left as they are when
 * they do not decode). A GET route answers HEAD too. A path that exists answers OPTIONS with 204 and
 * other methods with 405, both saying Allow; a path that does not exist goes on to the next middleware.
 *
 * Per request: a Map lookup for a literal path as written, else one regular expression per path with
 * params, else a Map lookup for the literal path in lower case without its trailing slash; then one call
 * into a chain made at start.
 */
import type { Context, Middleware, Next } from 'koa';
import { ApiError } from './errors.ts';

export type RouteContext = Context & { params: Record<string, string> };
export type RouteMiddleware = (ctx: RouteContext, next: Next) => unknown;

interface Path {
  readonly pattern: RegExp | undefined;
  readonly names: readonly string[];
  readonly methods: Map<string, RouteMiddleware>;
  allow: string;
}

const NO_PARAMS: Record<string, string> = Object.freeze({}) as Record<string, string>;

function decode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** The route's middleware as one function, each one's `next` calling the one after it. */
function chain(middleware: readonly RouteMiddleware[]): RouteMiddleware {
  return middleware.reduceRight<RouteMiddleware>(
    (after, current) => (ctx, next) => current(ctx, () => Promise.resolve(after(ctx, next))),
    (_ctx, next) => next(),
  );
}

/** The path without one trailing slash, lower case: the key of a literal path. */
function literalKey(path: string): string {
  return (path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path).toLowerCase();
}

export interface RouterOptions {
  /** Runs first in every POST route: the body parser (so that no other request goes through it). */
  readonly body?: RouteMiddleware;
}

export class Router {
  private readonly literal = new Map<string, Path>();
  private readonly withParams: { readonly template: string; readonly path: Path }[] = [];
  /** Every route, in the order they were added (HEAD not listed). */
  readonly list: { method: string; path: string }[] = [];

  constructor(private readonly options: RouterOptions = {}) {}

  get(template: string, ...middleware: RouteMiddleware[]): this {
    return this.add('GET', template, middleware);
  }

  post(template: string, ...middleware: RouteMiddleware[]): this {
    return this.add('POST', template, middleware);
  }

  private add(method: string, template: string, middleware: RouteMiddleware[]): this {
    const path = this.path(template);
    if (path.methods.has(method)) throw new Error(`${method} ${template} is routed twice`);
    const run = chain(method === 'POST' && this.options.body ? [this.options.body, ...middleware] : middleware);
    path.methods.set(method, run);
    if (method === 'GET') path.methods.set('HEAD', run);
    path.allow = [...path.methods.keys()].join(', ');
    this.list.push({ method, path: template });
    return this;
  }

  private path(template: string): Path {
    if (!template.includes('/:')) {
      const key = literalKey(template);
      let path = this.literal.get(key);
      if (!path) this.literal.set(key, (path = { pattern: undefined, names: [], methods: new Map(), allow: '' }));
      return path;
    }
    const known = this.withParams.find((entry) => entry.template === template);
    if (known) return known.path;
    const names: string[] = [];
    const source = template
      .split('/')
      .map((segment) => {
        if (!segment.startsWith(':')) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        names.push(segment.slice(1));
        return '([^/]+)';
      })
      .join('/');
    const path: Path = { pattern: new RegExp(`^${source}/?$`, 'i'), names, methods: new Map(), allow: '' };
    this.withParams.push({ template, path });
    return path;
  }

  /** The middleware that runs the route for the request's method and path. */
  routes(): Middleware {
    return (ctx: Context, next: Next) => {
      const requested = ctx.path;
      let path = this.literal.get(requested);
      let params = NO_PARAMS;
      if (path === undefined) {
        for (const entry of this.withParams) {
          const match = entry.path.pattern!.exec(requested);
          if (match === null) continue;
          path = entry.path;
          params = {};
          for (let i = 0; i < path.names.length; i += 1) params[path.names[i]!] = decode(match[i + 1]!);
          break;
        }
        path ??= this.literal.get(literalKey(requested));
        if (path === undefined) return next();
      }
      const route = path.methods.get(ctx.method);
      if (route === undefined) {
        if (ctx.method === 'OPTIONS') {
          ctx.status = 204;
          ctx.set('Allow', path.allow);
          return undefined;
        }
        throw new ApiError(405, 'method_not_allowed', `${ctx.method} is not allowed here (allowed: ${path.allow})`, { allow: path.allow });
      }
      (ctx as RouteContext).params = params;
      return route(ctx as RouteContext, next);
    };
  }
}
