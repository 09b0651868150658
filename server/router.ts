/**
 * The app's router: a route is a method and a path, with its middleware chained once at start. Paths
 * are matched by find-my-way (the router of Fastify: a radix tree, `:name` segments, params decoded,
 * one trailing slash ignored). A GET route answers HEAD too. A path that exists answers OPTIONS with
 * 204 and other methods with 405, both saying Allow; a path that does not exist goes on to the next
 * middleware.
 *
 * Routes are for browsers unless added with `{ browsers: false }`: the CORS middleware runs first in a
 * browser route and answers the preflight of its path. A route only servers call (the agent's key, the
 * LiveKit webhook) has no CORS at all, so no web page can read its answers, whatever its origin.
 */
import FindMyWay from 'find-my-way';
import type { HTTPMethod } from 'find-my-way';
import type { Context, Middleware, Next } from 'koa';
import type { ApiRoute } from '../protocol/api/index.ts';
import { MAX_CALL_ID_LENGTH } from '../protocol/index.ts';
import { ApiError } from './errors.ts';

export type RouteContext = Context & { params: Record<string, string> };
export type RouteMiddleware = (ctx: RouteContext, next: Next) => unknown;

interface Route {
  readonly run: RouteMiddleware;
  readonly browsers: boolean;
}

export interface RouteOptions {
  /** Whether web pages call the route (CORS for the configured origins); true unless said. */
  readonly browsers?: boolean;
}

/** The route's middleware as one function, each one's `next` calling the one after it. */
function chain(middleware: readonly RouteMiddleware[]): RouteMiddleware {
  return middleware.reduceRight<RouteMiddleware>(
    (after, current) => (ctx, next) => current(ctx, () => Promise.resolve(after(ctx, next))),
    (_ctx, next) => next(),
  );
}

export interface RouterOptions {
  /** Runs first in every browser route, and answers the preflight of their paths. */
  readonly cors?: RouteMiddleware;
  /** Runs first in every POST route (after CORS): the body parser, so that no other request goes through it. */
  readonly body?: RouteMiddleware;
}

type RouteArgs = [RouteOptions, ...RouteMiddleware[]] | RouteMiddleware[];

const METHODS: readonly HTTPMethod[] = ['GET', 'HEAD', 'POST'];

export class Router {
  // A parameter (the callId) may be as long as the protocol allows, each character percent-encoded
  // (find-my-way measures the path as sent); its own default of 100 would answer 404 to valid callIds.
  private readonly tree = FindMyWay({ ignoreTrailingSlash: true, maxParamLength: 3 * MAX_CALL_ID_LENGTH });
  /** Every route, in the order they were added (HEAD not listed). */
  readonly list: { method: string; path: string }[] = [];

  constructor(private readonly options: RouterOptions = {}) {}

  /**
   * Serves a route of the API table (`protocol/api/routes.ts`) at its method and path. Routes only
   * servers call (the agent's API key, LiveKit's signature) are not for browsers: no CORS.
   */
  serve(route: ApiRoute, ...middleware: RouteMiddleware[]): this {
    const browsers = route.auth !== 'apiKey' && route.auth !== 'livekit';
    return this.add(route.method, route.path, [{ browsers }, ...middleware]);
  }

  get(template: string, ...args: RouteArgs): this {
    return this.add('GET', template, args);
  }

  post(template: string, ...args: RouteArgs): this {
    return this.add('POST', template, args);
  }

  private add(method: 'GET' | 'POST', template: string, args: RouteArgs): this {
    const [first, ...rest] = args;
    const options: RouteOptions = typeof first === 'object' ? first : {};
    const middleware = (typeof first === 'function' ? [first, ...rest] : rest) as RouteMiddleware[];
    const browsers = options.browsers ?? true;
    const { cors, body } = this.options;
    const run = chain([...(browsers && cors ? [cors] : []), ...(method === 'POST' && body ? [body] : []), ...middleware]);
    const route: Route = { run, browsers };
    // find-my-way itself refuses a method and path routed twice.
    this.tree.on(method, template, () => {}, route);
    if (method === 'GET') this.tree.on('HEAD', template, () => {}, route);
    this.list.push({ method, path: template });
    return this;
  }

  /** The routes of the request's path, by method (for Allow), none when the path is unknown. */
  private routesOf(path: string): { method: HTTPMethod; route: Route }[] {
    return METHODS.flatMap((method) => {
      const found = this.tree.find(method, path);
      return found === null ? [] : [{ method, route: found.store as Route }];
    });
  }

  /** The middleware that runs the route for the request's method and path. */
  routes(): Middleware {
    return (ctx: Context, next: Next) => {
      const found = METHODS.includes(ctx.method as HTTPMethod) ? this.tree.find(ctx.method as HTTPMethod, ctx.path) : null;
      if (found === null) {
        const routes = this.routesOf(ctx.path);
        if (routes.length === 0) return next();
        const allow = routes.map((r) => r.method).join(', ');
        const answer = (): Promise<void> => {
          if (ctx.method !== 'OPTIONS') {
            throw new ApiError(405, 'method_not_allowed', `${ctx.method} is not allowed here (allowed: ${allow})`, { allow });
          }
          ctx.status = 204;
          ctx.set('Allow', allow);
          return Promise.resolve();
        };
        // CORS answers a preflight itself for a configured origin; anything else gets the answer above.
        const { cors } = this.options;
        return cors && routes.some((r) => r.route.browsers) ? cors(ctx as RouteContext, answer) : answer();
      }
      (ctx as RouteContext).params = found.params as Record<string, string>;
      return (found.store as Route).run(ctx as RouteContext, next);
    };
  }
}
