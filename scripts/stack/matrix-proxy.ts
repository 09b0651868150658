/**
 * A loopback HTTP proxy between a backend and Synapse that can hold traffic back on demand:
 * - the backend's /sync answers that carry to-device messages (where Megolm room keys travel), which
 *   go through when released: the room-key race;
 * - chosen requests (the oracle's call-event sends), never forwarded and cut off when released: a
 *   send that was lost with the process that made it.
 */
import { createServer } from 'node:http';
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

type RequestMatch = (method: string, url: string) => boolean;

/** The oracle's sends of call events (plain rooms: the type is in the path). */
export const CALL_EVENT_SENDS: RequestMatch = (method, url) => method === 'PUT' && /\/send\/m\.ixo\.oracles_call\//.test(url);

const DROPPED_HEADERS = ['host', 'connection', 'content-length', 'keep-alive', 'transfer-encoding'];

export class MatrixProxy {
  private holdingToDevice = false;
  private heldAnswers: (() => void)[] = [];
  private requestMatch: RequestMatch | undefined;
  private heldRequests: ServerResponse[] = [];
  private onRequestHeld: (() => void) | undefined;
  /** How many /sync answers with to-device messages were held back so far. */
  heldCount = 0;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(target: string): Promise<MatrixProxy> {
    let proxy!: MatrixProxy;
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => void proxy.forward(target, request.method!, request.url ?? '/', request.headers, Buffer.concat(chunks), response));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    proxy = new MatrixProxy(server, `http://127.0.0.1:${port}`);
    return proxy;
  }

  private async forward(
    target: string,
    method: string,
    url: string,
    incoming: NodeJS.Dict<string | string[]>,
    body: Buffer,
    response: ServerResponse,
  ): Promise<void> {
    if (this.requestMatch?.(method, url)) {
      this.heldRequests.push(response);
      this.onRequestHeld?.();
      return;
    }
    try {
      const headers = Object.fromEntries(
        Object.entries(incoming).filter((entry): entry is [string, string] => typeof entry[1] === 'string' && !DROPPED_HEADERS.includes(entry[0])),
      );
      const upstream = await fetch(`${target}${url}`, { method, headers, ...(body.length > 0 ? { body: new Uint8Array(body) } : {}) });
      const text = await upstream.text();
      if (this.holdingToDevice && url.startsWith('/_matrix/client/v3/sync') && carriesToDevice(text)) {
        this.heldCount += 1;
        await new Promise<void>((resolve) => this.heldAnswers.push(resolve));
      }
      response.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
      response.end(text);
    } catch (error) {
      response.writeHead(502).end(String(error));
    }
  }

  /** From now on, /sync answers with to-device messages wait until {@link release}. */
  hold(): void {
    this.holdingToDevice = true;
  }

  /** From now on, requests that `match` accepts are not forwarded; resolves when the first one arrives. */
  holdRequests(match: RequestMatch): Promise<void> {
    this.requestMatch = match;
    return new Promise((resolve) => {
      this.onRequestHeld = resolve;
    });
  }

  /** Stops holding: held answers go through, held requests are cut off. */
  release(): void {
    this.holdingToDevice = false;
    this.requestMatch = undefined;
    for (const resume of this.heldAnswers.splice(0)) resume();
    for (const response of this.heldRequests.splice(0)) response.destroy();
  }

  async stop(): Promise<void> {
    this.release();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function carriesToDevice(text: string): boolean {
  try {
    const body = JSON.parse(text) as { to_device?: { events?: unknown[] } };
    return (body.to_device?.events?.length ?? 0) > 0;
  } catch {
    return false;
  }
}
