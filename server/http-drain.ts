/**
 * Stopping the HTTP server without cutting requests short. A request still being answered may be
 * about to use the Matrix client or the store, which the backend closes next: its handler must be done
 * first, or it reaches a closed client (matrix-sdk-crypto-wasm then aborts the process). So the server
 * stops taking connections, answers what it is answering (for at most `graceMs`), then drops the rest.
 */
import type { Server } from 'node:http';

export interface HttpDrain {
  /** Stops taking requests, waits for those being answered (at most `graceMs`), then closes every connection. */
  close(graceMs: number): Promise<void>;
}

export function drainOnClose(http: Server): HttpDrain {
  let inFlight = 0;
  let drained: (() => void) | undefined;
  http.on('request', (_request, response) => {
    inFlight += 1;
    response.once('close', () => {
      inFlight -= 1;
      if (inFlight === 0) drained?.();
    });
  });
  return {
    async close(graceMs) {
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      // Keep-alive connections with no request on them would hold `close` open until they time out.
      http.closeIdleConnections();
      if (inFlight > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([new Promise<void>((resolve) => (drained = resolve)), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
        clearTimeout(timer);
      }
      http.closeAllConnections();
      await closed;
    },
  };
}
