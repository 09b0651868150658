/**
 * What makes every call end, whatever was lost on the way: a periodic sweep (calls past the longest
 * call allowed end as `expired`, calls left pending as `no_show`; ended calls past the retention are
 * deleted, so the store stops growing), and at start a catch-up with Matrix (an `ended` edit sent
 * while the backend was down ends the call here too, however far back in the room it is).
 */
import type { Logger } from 'pino';
import { currentCallState } from '../protocol/index.ts';
import type { CallService } from './call-service.ts';
import type { ServerConfig } from './config.ts';
import type { OracleMatrix } from './matrix/client.ts';
import type { CallStore } from './store/call-store.ts';

export interface SweepResult {
  readonly expired: number;
  readonly noShow: number;
  readonly deleted: number;
}

export class CallUpkeep {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly config: ServerConfig,
    private readonly store: CallStore,
    private readonly calls: CallService,
    private readonly matrix: OracleMatrix,
    private readonly log: Logger,
  ) {}

  /** One sweep; `now` for tests. Each end is mirrored to Matrix (a failed edit is retried at the next start). */
  async sweep(now = Date.now()): Promise<SweepResult> {
    let expired = 0;
    let noShow = 0;
    for (const record of await this.store.open()) {
      const reason =
        Date.parse(record.callStartedAt) + this.config.callMaxDurationSeconds * 1000 < now
          ? 'expired'
          : record.status === 'pending' && Date.parse(record.createdAt) + this.config.noShowSeconds * 1000 < now
            ? 'no_show'
            : undefined;
      if (!reason || !(await this.calls.end(record.callId, reason, true))) continue;
      if (reason === 'expired') expired += 1;
      else noShow += 1;
    }
    const deleted = await this.store.deleteEndedBefore(new Date(now - this.config.callRetentionDays * 86_400_000).toISOString());
    return { expired, noShow, deleted };
  }

  /** Reads every open call's edits from Matrix (all pages) and ends the calls Matrix shows ended; how many. */
  async catchUpWithMatrix(): Promise<number> {
    let ended = 0;
    for (const record of await this.store.open()) {
      try {
        const edits = await this.matrix.getEdits(record.matrixRoomId, record.eventId);
        const state = currentCallState(this.calls.originalEvent(record), edits, { editors: [this.matrix.userId] });
        if (state.status !== 'ended') continue;
        const last = edits.find((edit) => edit.event_id === state.lastEditEventId);
        if (await this.calls.end(record.callId, last?.sender === record.userId ? 'user' : 'oracle', false)) ended += 1;
      } catch (error) {
        this.log.warn({ callId: record.callId, err: (error as Error).message }, "a call's edits could not be read from Matrix");
      }
    }
    return ended;
  }

  /** Sweeps now and every CALL_SWEEP_SECONDS; one sweep at a time. */
  start(): void {
    const run = () => {
      if (this.running) return;
      this.running = this.sweep()
        .then(
          (result) => (result.expired || result.noShow || result.deleted) && this.log.info(result, 'calls swept'),
          (error: Error) => this.log.error({ err: error.message }, 'the call sweep failed'),
        )
        .finally(() => (this.running = undefined));
    };
    run();
    this.timer = setInterval(run, this.config.sweepSeconds * 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
