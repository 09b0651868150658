/** A MatrixTransport that records what it sends; sends and the OpenID token can be held or made to fail. */
import { base64urlnopad } from '@scure/base';
import type { CallContent, CallEditContent } from '../../../protocol/index.ts';
import { MatrixTransportError } from '../../../widget/transport/matrix-transport.ts';
import type { CallEventPayload, MatrixTransport, OpenIdToken, SendOptions } from '../../../widget/transport/matrix-transport.ts';
import { pass } from './gate.ts';
import type { Gate } from './gate.ts';

export interface SentEvent {
  readonly roomId: string;
  readonly content: CallEventPayload;
  readonly eventId: string;
  readonly txnId?: string;
}

/** A room version 3+ style event ID: "$" and 43 url-safe base64 characters. */
export function fakeEventId(): string {
  return `$${base64urlnopad.encode(crypto.getRandomValues(new Uint8Array(32)))}`;
}

export class FakeTransport implements MatrixTransport {
  readonly kind = 'fake';
  userId: string | null = '@alice:example.org';
  /** Set to act as a widget bound to a room. */
  roomId: string | undefined;
  readonly sent: SentEvent[] = [];
  sendAttempts = 0;
  /** The next this-many sends fail with a retryable error. */
  failSends = 0;
  /** When set, every send fails with it. */
  sendError: Error | undefined;
  openIdError: Error | undefined;
  openIdRequests = 0;
  sendGate: Gate | undefined;

  async getOpenIdToken(): Promise<OpenIdToken> {
    this.openIdRequests += 1;
    if (this.openIdError) throw this.openIdError;
    return { access_token: 'openid-token', matrix_server_name: 'example.org', token_type: 'Bearer', expires_in: 3600 };
  }

  async sendCallEvent(roomId: string, content: CallEventPayload, options: SendOptions = {}): Promise<string> {
    this.sendAttempts += 1;
    const isEdit = 'm.relates_to' in content;
    if (!isEdit) await pass(this.sendGate);
    if (this.sendError) throw this.sendError;
    if (this.failSends > 0) {
      this.failSends -= 1;
      throw new MatrixTransportError('the homeserver is busy', { retryable: true });
    }
    const eventId = fakeEventId();
    this.sent.push({ roomId, content, eventId, ...(options.txnId ? { txnId: options.txnId } : {}) });
    return eventId;
  }

  /** The call's first events (not edits). */
  get calls(): SentEvent[] {
    return this.sent.filter((event) => !('m.relates_to' in event.content));
  }

  get edits(): (SentEvent & { content: CallEditContent & CallContent })[] {
    return this.sent.filter((event) => 'm.relates_to' in event.content) as (SentEvent & { content: CallEditContent & CallContent })[];
  }
}
