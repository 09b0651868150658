/**
 * The person's backend session, kept between calls while it is fresh and begun ahead when the lobby
 * opens, so that a call does not wait for the OpenID token and the sign-in. In the element's memory
 * only (never stored), and only for the Matrix transport (and its user) and the backend it was made with.
 */
import type { BackendClient, BackendSession } from './backend-client.ts';
import type { MatrixTransport } from './transport/matrix-transport.ts';

/** Signs in: an OpenID token from the transport, exchanged with the backend for a session. */
export type SignIn = (transport: MatrixTransport, backend: BackendClient, signal?: AbortSignal) => Promise<BackendSession>;

interface Held {
  readonly transport: MatrixTransport;
  /** The transport's Matrix user when the sign-in began (a client signed in as another since is not reused). */
  readonly userId: string | null;
  readonly backend: BackendClient;
  /** When the sign-in began (Date.now()). */
  readonly at: number;
  readonly session: Promise<BackendSession>;
  /** The session, once signed in. */
  value?: BackendSession;
}

/**
 * Whether a session signed in at `at` is still worth starting a call with: more than half of its
 * lifetime left (30 minutes of the backend's default hour), so that a call it starts does not
 * outlive it soon.
 */
export function isFresh(session: BackendSession, at: number, now = Date.now()): boolean {
  const expires = Date.parse(session.expiresAt);
  return Number.isFinite(expires) && expires - now > (expires - at) / 2;
}

export class SessionKeeper {
  #held: Held | undefined;

  constructor(private readonly signIn: SignIn) {}

  /** Begins a sign-in unless a fresh session is held or one is under way; a failure waits for the call. */
  ahead(transport: MatrixTransport, backend: BackendClient): void {
    const held = this.#heldFor(transport, backend);
    if (held) {
      held.session.then(
        (session) => isFresh(session, held.at) || this.#begin(transport, backend),
        () => undefined,
      );
      return;
    }
    this.#begin(transport, backend).session.catch(() => undefined);
  }

  /** A fresh session: the one held (waiting for it if it is under way), or a new sign-in. */
  async session(transport: MatrixTransport, backend: BackendClient, signal?: AbortSignal): Promise<BackendSession> {
    const held = this.#heldFor(transport, backend);
    if (held) {
      try {
        const session = await held.session;
        if (isFresh(session, held.at)) return session;
      } catch {
        // The sign-in begun ahead failed: this call signs in itself, and reports its own failure.
      }
    }
    return this.#begin(transport, backend, signal).session;
  }

  /** A new session in place of `session`, which the backend refused. */
  renew(session: BackendSession, transport: MatrixTransport, backend: BackendClient, signal?: AbortSignal): Promise<BackendSession> {
    if (this.#held?.value === session) this.#held = undefined;
    return this.session(transport, backend, signal);
  }

  #heldFor(transport: MatrixTransport, backend: BackendClient): Held | undefined {
    const held = this.#held;
    return held && held.transport === transport && held.userId === transport.userId && held.backend === backend ? held : undefined;
  }

  #begin(transport: MatrixTransport, backend: BackendClient, signal?: AbortSignal): Held {
    const held: Held = { transport, userId: transport.userId, backend, at: Date.now(), session: this.signIn(transport, backend, signal) };
    this.#held = held;
    held.session.then(
      (session) => {
        held.value = session;
      },
      () => {
        // A failed sign-in is not kept: the next call tries again.
        if (this.#held === held) this.#held = undefined;
      },
    );
    return held;
  }
}
