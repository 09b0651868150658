/**
 * The worker's call limit, held under a burst. The framework's own gate is the load the worker reports
 * to LiveKit every 2.5 s, so a burst of dispatches inside that interval would all be accepted. Here a
 * job is accepted only while a slot is free, counting the jobs running and those accepted but not yet
 * launched; a rejected job goes to another worker of the same name, or to none (the backend then ends
 * the call as `oracle_busy`).
 */
import type { AgentServer, JobRequest } from '@livekit/agents';

/** An accepted job that has not shown up as running after this long was never assigned. */
const ASSIGNMENT_GRACE_MS = 15_000;
/**
 * How often an accepted job is looked for among the running ones. The framework asks for the load only
 * every 2.5 s: a short call that started and ended between two asks would otherwise hold its slot for
 * the whole grace period (and a worker taking one call after another would turn calls away).
 */
const LAUNCH_POLL_MS = 200;

export class CallSlots {
  private readonly accepted = new Map<string, number>();
  private server: AgentServer | undefined;
  private readonly maxCalls: number;
  private readonly log: (message: string, detail: Record<string, unknown>) => void;

  constructor(maxCalls: number, log: (message: string, detail: Record<string, unknown>) => void) {
    this.maxCalls = maxCalls;
    this.log = log;
  }

  /** Calls running or about to. */
  inUse(now = Date.now()): number {
    const running = new Set((this.server?.activeJobs ?? []).map((info) => info.job.id));
    for (const [id, at] of this.accepted) if (running.has(id) || now - at > ASSIGNMENT_GRACE_MS) this.accepted.delete(id);
    return running.size + this.accepted.size;
  }

  /** The load the worker reports (the framework calls it with the server, which is kept for `request`). */
  load = async (server: AgentServer): Promise<number> => {
    this.server = server;
    return this.inUse() / this.maxCalls;
  };

  /** The framework's job request: accepted while a slot is free. */
  request = async (job: JobRequest): Promise<void> => {
    const inUse = this.inUse();
    if (inUse >= this.maxCalls) {
      this.log('all call slots in use; the job is declined', { jobId: job.id, room: job.room?.name, inUse, maxCalls: this.maxCalls });
      await job.reject();
      return;
    }
    this.accepted.set(job.id, Date.now());
    await job.accept();
    const poll = setInterval(() => {
      this.inUse();
      if (!this.accepted.has(job.id)) clearInterval(poll);
    }, LAUNCH_POLL_MS);
    poll.unref();
  };
}
