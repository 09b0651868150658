/**
 * The OpenAPI description of the backend, served at `/openapi.json`: generated from the API's route
 * table and schemas (`protocol/api/`) with zod's `toJSONSchema`, so it lists no field by hand and cannot
 * drift from what the server validates and the clients parse. Each failure status lists its codes.
 */
import { z } from 'zod';
import { API_ROUTES, routeErrors } from '../protocol/api/index.ts';
import type { ApiErrorCode, ApiRoute, ErrorStatus, RouteAuth } from '../protocol/api/index.ts';

type JsonSchema = Record<string, unknown>;

/**
 * A schema as JSON Schema (2020-12, which OpenAPI 3.1 uses): requests as they are sent (`input`: a
 * default makes a field optional), answers as they are read (`output`).
 */
export function jsonSchema(schema: z.core.$ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

const STATUS_TEXT: Record<ErrorStatus, string> = {
  400: 'Malformed request',
  401: 'Missing or bad credentials',
  403: 'Not allowed',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Conflicts with the call as it is',
  410: 'Gone',
  413: 'Body too large',
  415: 'Not a JSON body',
  422: 'The call event fails a check',
  429: 'Rate limited',
  500: 'Unexpected server error',
  502: 'An upstream service (Matrix, LiveKit) failed',
  503: 'Not yet available; retry (see Retry-After)',
  504: 'An upstream service (Matrix) did not answer in time',
};

const SECURITY: Record<RouteAuth, object[] | undefined> = {
  none: undefined,
  session: [{ session: [] }],
  apiKey: [{ apiKey: [] }],
  sessionOrApiKey: [{ session: [] }, { apiKey: [] }],
  livekit: [{ livekitWebhook: [] }],
};

/** OpenAPI writes path parameters as `{name}`; the route table as `:name`. */
export const openApiPath = (path: string): string => path.replace(/:(\w+)/g, '{$1}');

function errorAnswerSchema(codes: readonly ApiErrorCode[]): JsonSchema {
  return jsonSchema(z.object({ error: z.object({ code: z.enum(codes as [ApiErrorCode, ...ApiErrorCode[]]), message: z.string() }) }), 'output');
}

function parameters(route: ApiRoute): object[] {
  const of = (schema: z.core.$ZodObject | undefined, where: 'path' | 'query') => {
    if (!schema) return [];
    const json = jsonSchema(schema, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
    return Object.entries(json.properties ?? {}).map(([name, { description, ...property }]) => ({
      name,
      in: where,
      required: where === 'path' || (json.required ?? []).includes(name),
      ...(description === undefined ? {} : { description }),
      schema: property,
    }));
  };
  return [...of(route.params, 'path'), ...of(route.query, 'query')];
}

function operation(route: ApiRoute, components: Record<string, JsonSchema>): object {
  const security = SECURITY[route.auth];
  const params = parameters(route);
  let requestBody: object | undefined;
  if (route.body || route.bodyType) {
    let schema: JsonSchema = route.body ? jsonSchema(route.body, 'input') : { type: 'object' };
    if (route.bodyName) {
      components[route.bodyName] = schema;
      schema = { $ref: `#/components/schemas/${route.bodyName}` };
    }
    requestBody = { required: true, content: { [route.bodyType ?? 'application/json']: { schema } } };
  }
  const failures = Object.entries(routeErrors(route)).map(([status, codes]) => [
    status,
    {
      description: `${STATUS_TEXT[Number(status) as ErrorStatus]}: ${codes.join(', ')}`,
      content: { 'application/json': { schema: errorAnswerSchema(codes) } },
    },
  ]);
  return {
    summary: route.summary,
    ...(security ? { security } : {}),
    ...(params.length > 0 ? { parameters: params } : {}),
    ...(requestBody ? { requestBody } : {}),
    responses: {
      200: { description: route.answerDescription, content: { 'application/json': { schema: jsonSchema(route.answer, 'output') } } },
      ...Object.fromEntries(failures),
    },
  };
}

function document(routes: readonly ApiRoute[]): object {
  const components: Record<string, JsonSchema> = {};
  const paths: Record<string, Record<string, object>> = {};
  for (const route of routes) {
    (paths[openApiPath(route.path)] ??= {})[route.method.toLowerCase()] = operation(route, components);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'oracle-call backend',
      version: '0.1.0',
      description: 'Admits end-to-end encrypted calls to an AI oracle. It never sees a plaintext call key.',
    },
    components: {
      securitySchemes: {
        session: { type: 'http', scheme: 'bearer', description: 'A session token from POST /auth/matrix-openid' },
        apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key', description: "The oracle agent's API key" },
        livekitWebhook: { type: 'http', scheme: 'bearer', description: "LiveKit's signature of the webhook body (a JWT signed with the LiveKit API secret)" },
      },
      schemas: components,
    },
    paths,
  };
}

export const openApiDocument = document(Object.values(API_ROUTES));
