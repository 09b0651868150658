/**
 * A loopback HTTP proxy between the backend and Synapse that can hold back the backend's /sync answers
 * that carry to-device messages (where Megolm room keys travel): the room-key race, on demand.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export class MatrixProxy {
  private holding = false;
  private held: (() => void)[] = [];
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
      request.on('end', async () => {
        try {
          const headers = Object.fromEntries(
            Object.entries(request.headers).filter(([name]) => !['host', 'connection', 'content-length'].includes(name)) as [string, string][],
          );
          const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
          const upstream = await fetch(`${target}${request.url}`, { method: request.method!, headers, ...(body ? { body } : {}) });
          const text = await upstream.text();
          if (proxy.holding && request.url?.startsWith('/_matrix/client/v3/sync') && carriesToDevice(text)) {
            proxy.heldCount += 1;
            await new Promise<void>((resolve) => proxy.held.push(resolve));
          }
          response.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
          response.end(text);
        } catch (error) {
          response.writeHead(502).end(String(error));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    proxy = new MatrixProxy(server, `http://127.0.0.1:${port}`);
    return proxy;
  }

  /** From now on, /sync answers with to-device messages wait until {@link release}. */
  hold(): void {
    this.holding = true;
  }

  /** Lets every held answer through and stops holding. */
  release(): void {
    this.holding = false;
    for (const resume of this.held.splice(0)) resume();
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
