/**
 * When no agent takes a call (every worker full, or none running), the person should not wait for the
 * element's own timeout: if no agent has fetched the call's key ORACLE_ARRIVAL_SECONDS after the
 * dispatch, the call ends as `oracle_busy` and its LiveKit room is closed, which disconnects the person
 * at once (the element then reads the reason and says the oracle is busy). The timers are in memory:
 * a backend that restarts meanwhile forgets them, and such a call ends by its user (the element gives
 * up after its own timeout) or, at the latest, by the sweep (`expired`).
 */
import type { Logger } from 'pino';
import type { LiveKitGateway } from './livekit.ts';
import type { CallStore } from './store/call-store.ts';

export class OracleArrival {
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly seconds: number,
    private readonly store: CallStore,
    private readonly livekit: LiveKitGateway,
    private readonly log: Logger,
    /** Ends an open call for a reason (mirrored to Matrix); false when it had ended already. */
    private readonly end: (callId: string, reason: string) => Promise<boolean>,
  ) {}

  /** Starts waiting for the agent of a call just dispatched (nothing when ORACLE_ARRIVAL_SECONDS is 0). */
  watch(callId: string): void {
    if (this.seconds === 0) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.endUnlessArrived(callId).catch((error: Error) => this.log.error({ callId, err: error.message }, 'ending a call no oracle took failed'));
    }, this.seconds * 1000);
    timer.unref();
    this.timers.add(timer);
  }

  private async endUnlessArrived(callId: string): Promise<void> {
    const record = await this.store.get(callId);
    if (!record || record.status === 'ended' || record.agentArrivedAt) return;
    if (!(await this.end(callId, 'oracle_busy'))) return;
    this.log.warn({ callId, waitedSeconds: this.seconds }, 'no oracle agent took the call; it was ended (oracle_busy)');
    await this.livekit
      .closeRoom(record.roomName)
      .catch((error: Error) => this.log.warn({ callId, err: error.message }, 'the LiveKit room could not be closed'));
  }

  stop(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
