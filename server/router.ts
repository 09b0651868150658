/**
 * The app's router: a route is a method and a path, with its middleware chained once at start. Paths
 * are matched by find-my-way (the router of Fastify: a radix tree, `:name` segments, params decoded,
 * one trailing slash ignored). A GET route answers HEAD too. A path that exists answers OPTIONS with
 * 204 and other methods with 405, both saying Allow; a path that does not exist goes on to the next
 * middleware.
 */
import FindMyWay from 'find-my-way';
import type { HTTPMethod } from 'find-my-way';
import type { Context, Middleware, Next } from 'koa';
import { ApiError } from './errors.ts';

export type RouteContext = Context & { params: Record<string, string> };
export type RouteMiddleware = (ctx: RouteContext, next: Next) => unknown;

interface Route {
  readonly run: RouteMiddleware;
}

/** The route's middleware as one function, each one's `next` calling the one after it. */
function chain(middleware: readonly RouteMiddleware[]): RouteMiddleware {
  return middleware.reduceRight<RouteMiddleware>(
    (after, current) => (ctx, next) => current(ctx, () => Promise.resolve(after(ctx, next))),
    (_ctx, next) => next(),
  );
}

export interface RouterOptions {
  /** Runs first in every POST route: the body parser (so that no other request goes through it). */
  readonly body?: RouteMiddleware;
}

const METHODS: readonly HTTPMethod[] = ['GET', 'HEAD', 'POST'];

export class Router {
  private readonly tree = FindMyWay({ ignoreTrailingSlash: true });
  /** Every route, in the order they were added (HEAD not listed). */
  readonly list: { method: string; path: string }[] = [];

  constructor(private readonly options: RouterOptions = {}) {}

  get(template: string, ...middleware: RouteMiddleware[]): this {
    return this.add('GET', template, middleware);
  }

  post(template: string, ...middleware: RouteMiddleware[]): this {
    return this.add('POST', template, middleware);
  }

  private add(method: 'GET' | 'POST', template: string, middleware: RouteMiddleware[]): this {
    const route: Route = { run: chain(method === 'POST' && this.options.body ? [this.options.body, ...middleware] : middleware) };
    // find-my-way itself refuses a method and path routed twice.
    this.tree.on(method, template, () => {}, route);
    if (method === 'GET') this.tree.on('HEAD', template, () => {}, route);
    this.list.push({ method, path: template });
    return this;
  }

  /** The methods routed for the request's path (for Allow), or an empty list when the path is unknown. */
  private allowed(path: string): string[] {
    return METHODS.filter((method) => this.tree.find(method, path) !== null);
  }

  /** The middleware that runs the route for the request's method and path. */
  routes(): Middleware {
    return (ctx: Context, next: Next) => {
      const found = METHODS.includes(ctx.method as HTTPMethod) ? this.tree.find(ctx.method as HTTPMethod, ctx.path) : null;
      if (found === null) {
        const allow = this.allowed(ctx.path);
        if (allow.length === 0) return next();
        if (ctx.method === 'OPTIONS') {
          ctx.status = 204;
          ctx.set('Allow', allow.join(', '));
          return undefined;
        }
        throw new ApiError(405, 'method_not_allowed', `${ctx.method} is not allowed here (allowed: ${allow.join(', ')})`, { allow: allow.join(', ') });
      }
      (ctx as RouteContext).params = found.params as Record<string, string>;
      return (found.store as Route).run(ctx as RouteContext, next);
    };
  }
}
