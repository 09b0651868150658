/** The OpenAPI description of the backend, served at `/openapi.json`; a test keeps it true to the routes. */
import { z } from 'zod';
import { listQuery, openIdBody, syncBody, updateBody } from './validation.ts';

const json = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const content = (schema: object) => ({ 'application/json': { schema } });
const error = (description: string) => ({ description, content: content(ref('Error')) });
const callIdParam = {
  name: 'callId',
  in: 'path',
  required: true,
  description: '`eventId@roomName`: the Matrix event ID of the call event, "@", the LiveKit room name',
  schema: { type: 'string' },
};
const session = [{ session: [] }];
const apiKey = [{ apiKey: [] }];

const call = {
  type: 'object',
  properties: Object.fromEntries(
    ['callId', 'eventId', 'roomName', 'matrixRoomId', 'userId', 'userDid', 'oracleDid', 'sessionId', 'callStartedAt', 'callEndedAt', 'endReason', 'createdAt', 'updatedAt']
      .map((name): [string, object] => [name, { type: 'string' }])
      .concat([['callType', { type: 'string', enum: ['audio', 'video'] }], ['status', { type: 'string', enum: ['pending', 'active', 'ended'] }]]),
  ),
  required: ['callId', 'eventId', 'roomName', 'matrixRoomId', 'userId', 'userDid', 'oracleDid', 'sessionId', 'callType', 'status', 'callStartedAt', 'createdAt', 'updatedAt'],
};

export const openApiDocument = {
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
    },
    schemas: {
      Error: {
        type: 'object',
        properties: { error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } }, required: ['code', 'message'] } },
        required: ['error'],
      },
      Call: call,
      OpenIdToken: json(openIdBody),
      SyncRequest: json(syncBody),
      UpdateRequest: json(updateBody),
    },
  },
  paths: {
    '/health': { get: { summary: 'Liveness', responses: { 200: { description: 'Alive', content: content({ type: 'object' }) } } } },
    '/oracle': {
      get: {
        summary: "The oracle's public facts",
        responses: {
          200: {
            description: 'DID, public key (base58btc), LiveKit URL, Matrix user ID',
            content: content({
              type: 'object',
              properties: { oracleDid: { type: 'string' }, publicKey: { type: 'string' }, livekitUrl: { type: 'string' }, matrixUserId: { type: 'string' } },
            }),
          },
        },
      },
    },
    '/openapi.json': { get: { summary: 'This document', responses: { 200: { description: 'OpenAPI 3.1' } } } },
    '/auth/matrix-openid': {
      post: {
        summary: 'Exchange a Matrix OpenID token for a session token',
        requestBody: { required: true, content: content(ref('OpenIdToken')) },
        responses: {
          200: { description: 'A session', content: content({ type: 'object', properties: { token: { type: 'string' }, userId: { type: 'string' }, expiresAt: { type: 'string' } } }) },
          400: error('Malformed body'),
          401: error('The homeserver does not know the token'),
          403: error('The server name is not accepted'),
          429: error('Rate limited'),
          502: error('The homeserver could not be reached'),
        },
      },
    },
    '/calls/{callId}/sync': {
      post: {
        summary: 'Admit a call from its Matrix event, dispatch the oracle, get a LiveKit token',
        security: session,
        parameters: [callIdParam],
        requestBody: { required: true, content: content(ref('SyncRequest')) },
        responses: {
          200: {
            description: 'The call, and where and how to join it',
            content: content({
              type: 'object',
              properties: { call: ref('Call'), livekit: { type: 'object', properties: { url: { type: 'string' }, token: { type: 'string' } } } },
            }),
          },
          400: error('Malformed callId or body'),
          401: error('No or bad session'),
          403: error('The event was sent by someone else'),
          404: error('No such event in that room'),
          409: error('callId, room or key already used, or the call has ended'),
          422: error('The event fails a check (type, content, room, oracle, freshness, a room without encryption, sent in clear into an encrypted room, undecryptable)'),
          502: error('LiveKit or Matrix failed'),
          503: error("The event is encrypted and its Matrix room key has not reached the oracle's device within the wait (room_key_unavailable); retry"),
        },
      },
    },
    '/calls/{callId}/key': {
      get: {
        summary: "The call key, still encrypted to the oracle's public key (for the agent)",
        security: apiKey,
        parameters: [callIdParam],
        responses: {
          200: {
            description: 'The encrypted key',
            content: content({
              type: 'object',
              properties: { encryptionKey: { type: 'string' }, userDid: { type: 'string' }, oracleDid: { type: 'string' }, callType: { type: 'string' } },
            }),
          },
          400: error('Malformed callId'),
          401: error('Missing or wrong API key'),
          404: error('No such call'),
          410: error('The call has ended or expired'),
          429: error('Rate limited'),
        },
      },
    },
    '/calls/{callId}/update': {
      post: {
        summary: "Change a call's status (its user, or the agent)",
        security: [...session, ...apiKey],
        parameters: [callIdParam],
        requestBody: { required: true, content: content(ref('UpdateRequest')) },
        responses: {
          200: { description: 'The call; `mirrored` says whether Matrix was told', content: content({ type: 'object', properties: { call: ref('Call'), mirrored: { type: 'boolean' } } }) },
          400: error('Malformed callId or body'),
          401: error('No or bad credentials'),
          404: error('No such call (for this user)'),
          409: error('The transition is not allowed'),
        },
      },
    },
    '/calls': {
      get: {
        summary: "The signed-in user's calls, newest first",
        security: session,
        parameters: Object.entries((json(listQuery) as { properties: Record<string, object> }).properties).map(([name, schema]) => ({ name, in: 'query', required: false, schema })),
        responses: {
          200: { description: 'A page of calls', content: content({ type: 'object', properties: { calls: { type: 'array', items: ref('Call') }, nextCursor: { type: 'string' } } }) },
          400: error('Bad query'),
          401: error('No or bad session'),
        },
      },
    },
    '/livekit/webhook': {
      post: {
        summary: 'LiveKit webhooks (signed); room_finished and the user leaving end the call',
        requestBody: { required: true, content: { 'application/webhook+json': { schema: { type: 'object' } } } },
        responses: { 200: { description: 'Received' }, 401: error('Not signed by this LiveKit server') },
      },
    },
  },
} as const;
