/**
 * Follows the oracle account's Matrix sync and hands each call event to a handler (the backend ends a
 * call when the user's `ended` edit arrives). The sync position is kept in the store, so a restart
 * continues where it stopped. Failures back off and retry; the loop runs until stopped.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { CallStore } from '../store/call-store.ts';
import type { OracleMatrix, RoomEvent } from './client.ts';

const SINCE_KEY = 'matrix.sync.since';

export class MatrixSyncLoop {
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;

  constructor(
    private readonly matrix: OracleMatrix,
    private readonly store: CallStore,
    private readonly onEvent: (event: RoomEvent & { room_id: string }) => Promise<void>,
    private readonly log: Logger,
    private readonly pollTimeoutMs = 10_000,
  ) {}

  start(): void {
    this.running ??= this.loop();
  }

  private async loop(): Promise<void> {
    let since = await this.store.getMeta(SINCE_KEY);
    let failures = 0;
    while (!this.abort.signal.aborted) {
      try {
        const result = await this.matrix.sync(since, this.pollTimeoutMs, this.abort.signal);
        for (const event of result.events) {
          try {
            await this.onEvent(event);
          } catch (error) {
            this.log.error({ eventId: event.event_id, err: (error as Error).message }, 'a call event from Matrix could not be applied');
          }
        }
        since = result.nextBatch;
        await this.store.setMeta(SINCE_KEY, since);
        failures = 0;
      } catch (error) {
        if (this.abort.signal.aborted) break;
        failures += 1;
        const delay = Math.min(30_000, 500 * 2 ** Math.min(failures, 6)) * (0.5 + Math.random() / 2);
        this.log.warn({ err: (error as Error).message, retryInMs: Math.round(delay) }, 'Matrix sync failed');
        await sleep(delay, undefined, { signal: this.abort.signal }).catch(() => {});
      }
    }
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }
}
