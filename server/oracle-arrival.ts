/**
 * When no agent takes a call (every worker full, or none running), the person should not wait for the
 * element's own timeout. Two checks after the dispatch, each ending the call as `oracle_busy` and
 * closing its LiveKit room, which disconnects the person at once (the element then reads the reason
 * and says the oracle is busy):
 *
 * - taken (ORACLE_ACCEPT_SECONDS, 3 s): LiveKit lists a job under the dispatch as soon as a worker
 *   accepted it (tens of milliseconds), and never one when no worker could take it: a worker at its
 *   call limit reports itself full and is not asked, or declines (agent/call-slots.ts). LiveKit gives
 *   no other sign of a dispatch nobody took, so the backend looks for the job a few times a second.
 * - arrived (ORACLE_ARRIVAL_SECONDS, 15 s): a job was taken but its agent never fetched the call's key
 *   (a job process that failed to start, a worker that died).
 *
 * The timers are in memory: a backend that restarts meanwhile forgets them, and such a call ends by its
 * user (the element gives up after its own timeout) or, at the latest, by the sweep (`expired`).
 */
import type { Logger } from 'pino';
import type { LiveKitGateway } from './livekit.ts';
import type { CallStore } from './store/call-store.ts';

/** How often LiveKit is asked whether a worker took the dispatch. */
const TAKEN_POLL_MS = 200;

export class OracleArrival {
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Checks under way: stop waits for them, so none ends a call through a Matrix client already closed. */
  private readonly running = new Set<Promise<void>>();
  private stopped = false;

  constructor(
    private readonly seconds: number,
    private readonly acceptSeconds: number,
    private readonly store: CallStore,
    private readonly livekit: LiveKitGateway,
    private readonly log: Logger,
    /** Ends an open call for a reason (mirrored to Matrix); false when it had ended already. */
    private readonly end: (callId: string, reason: string) => Promise<boolean>,
  ) {}

  /** Starts waiting for the agent of a call just dispatched (each check off when its setting is 0). */
  watch(callId: string, roomName: string, dispatchId: string): void {
    if (this.acceptSeconds > 0) {
      this.track(
        this.waitTaken(callId, roomName, dispatchId).catch((error: Error) =>
          this.log.error({ callId, err: error.message }, 'checking whether an agent took the call failed'),
        ),
      );
    }
    if (this.seconds === 0) return;
    this.after(this.seconds * 1000, () => this.endUnlessArrived(callId, `no oracle agent fetched the key within ${this.seconds} s`));
  }

  private after(ms: number, run: () => Promise<void>): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.track(run().catch((error: Error) => this.log.error({ err: error.message }, 'ending a call no oracle took failed')));
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }

  /** A pause between looks (not cleared by stop: the loop then sees `stopped` and returns). */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms).unref());
  }

  private async waitTaken(callId: string, roomName: string, dispatchId: string): Promise<void> {
    const deadline = performance.now() + this.acceptSeconds * 1000;
    for (;;) {
      // A failed look (LiveKit unreachable for a moment) proves nothing: the arrival check still stands.
      const taken = await this.livekit.dispatchTaken(roomName, dispatchId).catch(() => true);
      // Taken, or the room or dispatch gone (the call ended meanwhile): nothing to do here.
      if (taken !== false || this.stopped) return;
      if (performance.now() >= deadline) break;
      await this.sleep(Math.min(TAKEN_POLL_MS, deadline - performance.now()));
    }
    await this.endUnlessArrived(callId, `no agent worker took the dispatch within ${this.acceptSeconds} s`);
  }

  private async endUnlessArrived(callId: string, why: string): Promise<void> {
    if (this.stopped) return;
    const record = await this.store.get(callId);
    if (!record || record.status === 'ended' || record.agentArrivedAt) return;
    if (!(await this.end(callId, 'oracle_busy'))) return;
    this.log.warn({ callId, why }, 'no oracle agent took the call; it was ended (oracle_busy)');
    await this.livekit
      .closeRoom(record.roomName)
      .catch((error: Error) => this.log.warn({ callId, err: error.message }, 'the LiveKit room could not be closed'));
  }

  private track(work: Promise<void>): void {
    this.running.add(work);
    void work.finally(() => this.running.delete(work));
  }

  /** No new check starts; resolves once those under way are done. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await Promise.all([...this.running]);
  }
}
