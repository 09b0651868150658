/**
 * The clients' side of the contract: an answer is parsed with its route's schema, and one that does
 * not match is refused at once with an error naming the route and the field, not found `undefined`
 * later. The element and the agent both go through this.
 */
import type * as z from '../schema.ts';
import type { AnswerOf, ApiRoute } from './routes.ts';

export class AnswerMismatchError extends Error {
  override readonly name = 'AnswerMismatchError';

  /** `POST /calls/:callId/sync` */
  readonly route: string;
  /** The first field that does not match, as a dotted path (`call.callType`); empty for the whole body. */
  readonly field: string;

  constructor(route: string, field: string, message: string) {
    super(message);
    this.route = route;
    this.field = field;
  }
}

/** The first thing a schema refused: its field as a dotted path (empty for the whole value), and why. */
export function firstIssue(error: z.core.$ZodError): { readonly field: string; readonly detail: string } {
  const issue = error.issues[0]!;
  return {
    field: issue.path.map(String).join('.'),
    detail: issue.code === 'invalid_type' && issue.input === undefined ? 'missing' : issue.message,
  };
}

/** The answer of a success, as the route's schema reads it; throws {@link AnswerMismatchError}. */
export function parseAnswer<R extends ApiRoute>(route: R, body: unknown): AnswerOf<R> {
  const result = route.answer.safeParse(body);
  if (result.success) return result.data as AnswerOf<R>;
  const { field, detail } = firstIssue(result.error);
  const name = `${route.method} ${route.path}`;
  throw new AnswerMismatchError(name, field, `${name}: the answer does not match the API at "${field || '(body)'}": ${detail}`);
}
