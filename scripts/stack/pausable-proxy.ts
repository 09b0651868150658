/**
 * A loopback SOCKS5 proxy (RFC 1928, CONNECT only, no authentication) that can cut the network to
 * chosen destinations and give it back. A browser pointed at it (`chromiumArgs`) sends every TCP
 * connection through it, WebRTC's ICE-TCP included: with a LiveKit server that offers TCP candidates
 * only (`startLiveKit({ tcpOnly: true })`; Chromium cannot send UDP through a SOCKS proxy), cutting the
 * server's ports cuts the page's signalling and its media alike, as a dead network would.
 *
 * While cut, the open connections to a cut destination are dropped and new ones are held unanswered
 * (they hang as over a dead link); `resume` forwards the held ones that are still waiting.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface Destination {
  readonly host: string;
  readonly port: number;
}

type Match = (destination: Destination) => boolean;

interface Tunnel {
  readonly destination: Destination;
  readonly client: net.Socket;
  upstream?: net.Socket;
}

export class PausableProxy {
  private readonly tunnels = new Set<Tunnel>();
  private held: { tunnel: Tunnel; open: () => void }[] = [];
  private cut: Match | undefined;
  /** Bytes carried so far to and from each destination (`host:port`), both directions added. */
  readonly bytes = new Map<string, number>();

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(): Promise<PausableProxy> {
    let proxy!: PausableProxy;
    const server = net.createServer((client) => proxy.accept(client));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new PausableProxy(server, (server.address() as AddressInfo).port);
    return proxy;
  }

  /**
   * Chromium flags that send all of a browser's TCP through this proxy, loopback included (Chromium
   * bypasses proxies for loopback unless told not to). WebRTC's TCP connections follow the proxy too.
   */
  chromiumArgs(): string[] {
    return [`--proxy-server=socks5://127.0.0.1:${this.port}`, '--proxy-bypass-list=<-loopback>'];
  }

  /** Cuts the destinations `match` selects: their open connections dropped, new ones held. */
  pause(match: Match): void {
    this.cut = match;
    for (const tunnel of this.tunnels) {
      if (tunnel.upstream && match(tunnel.destination)) this.close(tunnel);
    }
  }

  /** Gives the network back: held connections that are still waiting go through. */
  resume(): void {
    this.cut = undefined;
    for (const { tunnel, open } of this.held.splice(0)) {
      if (!tunnel.client.destroyed) open();
    }
  }

  /** Bytes carried so far to and from destinations `match` selects. */
  bytesTo(match: Match): number {
    let total = 0;
    for (const [key, count] of this.bytes) {
      const at = key.lastIndexOf(':');
      if (match({ host: key.slice(0, at), port: Number(key.slice(at + 1)) })) total += count;
    }
    return total;
  }

  async stop(): Promise<void> {
    this.held = [];
    for (const tunnel of this.tunnels) this.close(tunnel);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private close(tunnel: Tunnel): void {
    tunnel.client.destroy();
    tunnel.upstream?.destroy();
    this.tunnels.delete(tunnel);
  }

  private accept(client: net.Socket): void {
    client.on('error', () => {});
    let buffered = Buffer.alloc(0);
    let greeted = false;
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (!greeted) {
        // Greeting: version 5, the number of methods, the methods; "no authentication" is the answer.
        if (buffered.length < 2 || buffered.length < 2 + buffered[1]!) return;
        if (buffered[0] !== 5) return void client.destroy();
        buffered = buffered.subarray(2 + buffered[1]!);
        greeted = true;
        client.write(Buffer.from([5, 0]));
      }
      const request = parseConnect(buffered);
      if (request === 'incomplete') return;
      client.off('data', onData);
      if (request === 'unsupported') return void client.end(Buffer.from([5, 7, 0, 1, 0, 0, 0, 0, 0, 0]));
      client.pause();
      const tunnel: Tunnel = { destination: request.destination, client };
      const open = () => this.open(tunnel, buffered.subarray(request.length));
      if (this.cut?.(tunnel.destination)) this.held.push({ tunnel, open });
      else open();
    };
    client.on('data', onData);
  }

  private open(tunnel: Tunnel, early: Buffer): void {
    const { client, destination } = tunnel;
    const key = `${destination.host}:${destination.port}`;
    const count = (chunk: Buffer) => this.bytes.set(key, (this.bytes.get(key) ?? 0) + chunk.length);
    const upstream = net.connect(destination.port, destination.host);
    tunnel.upstream = upstream;
    this.tunnels.add(tunnel);
    upstream.on('error', () => this.close(tunnel));
    client.on('close', () => this.close(tunnel));
    upstream.on('close', () => this.close(tunnel));
    upstream.once('connect', () => {
      // Success, bound to 0.0.0.0:0 (the client does not use the bound address).
      client.write(Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0]));
      if (early.length) upstream.write(early);
      client.on('data', count);
      upstream.on('data', count);
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
  }
}

/** The CONNECT request at the start of `data` (version, command, reserved, address type, address, port). */
function parseConnect(data: Buffer): { destination: Destination; length: number } | 'incomplete' | 'unsupported' {
  if (data.length < 5) return 'incomplete';
  if (data[0] !== 5 || data[1] !== 1) return 'unsupported';
  const type = data[3];
  let host: string;
  let at: number;
  if (type === 1) {
    if (data.length < 10) return 'incomplete';
    host = [...data.subarray(4, 8)].join('.');
    at = 8;
  } else if (type === 3) {
    const length = data[4]!;
    if (data.length < 5 + length + 2) return 'incomplete';
    host = data.subarray(5, 5 + length).toString('latin1');
    at = 5 + length;
  } else if (type === 4) {
    if (data.length < 22) return 'incomplete';
    host = Array.from({ length: 8 }, (_, i) => data.readUInt16BE(4 + 2 * i).toString(16)).join(':');
    at = 20;
  } else {
    return 'unsupported';
  }
  return { destination: { host, port: data.readUInt16BE(at) }, length: at + 2 };
}
