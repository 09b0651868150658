/** The baseline: a bare Koa app with one middleware answering "hello", on a loopback port. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';

export interface BareApp {
  readonly url: string;
  close(): Promise<void>;
}

export async function startBareApp(): Promise<BareApp> {
  const koa = new Koa();
  koa.use((ctx) => {
    ctx.body = 'hello';
  });
  const server: Server = await new Promise((resolve, reject) => {
    const listening = koa.listen(0, '127.0.0.1', () => resolve(listening));
    listening.once('error', reject);
  });
  server.keepAliveTimeout = 5000;
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
