/**
 * The worker's call limit, and what LiveKit is told of it.
 *
 * LiveKit (1.13) asks workers for a dispatch's job once, when the dispatch is made, and only workers
 * whose last report says available with a load under its `agents.target_load` (0.7 by default): a
 * dispatch made while the only worker's report says otherwise gets no job, ever, and the backend ends
 * the call as `oracle_busy`. The framework reports the load every 2.5 s only, so after calls end the
 * worker stayed "full" to LiveKit for up to 2.5 s more, and the first call placed then was told the
 * oracle is busy. So the slots in use are watched, and every change is reported at once.
 *
 * A job is also accepted only while a slot is free, counting the jobs running and those accepted but not
 * yet launched: a burst of dispatches between two reports would otherwise all be accepted. A rejected
 * job goes to another worker of the same name, or to none (the backend then ends the call as busy).
 */
import { WorkerMessage, WorkerStatus } from '@livekit/protocol';
import type { AgentServer, JobRequest } from '@livekit/agents';

/** An accepted job that has not shown up as running after this long was never assigned. */
const ASSIGNMENT_GRACE_MS = 15_000;
/**
 * How often the slots in use are counted. A job holds its slot until its process has exited (the
 * framework lists it among the running jobs until then), a few hundred milliseconds after its person
 * left; each change is reported to LiveKit at once.
 */
const WATCH_MS = 100;
/**
 * The highest load reported while a slot is free. LiveKit's affinity for a worker is
 * max(0, target_load - load): at 0.7 or more (3 of 4 slots in use, say) it never asks the worker,
 * although a slot is free. Scaled under the default target, every worker with a free slot is asked, and
 * LiveKit still prefers the less loaded (it weights workers by 1 - load).
 */
export const FREE_SLOT_LOAD_CEILING = 0.5;

/** The load reported to LiveKit: 1 (full) with every slot in use, else the share in use, scaled. */
export function slotLoad(inUse: number, maxCalls: number): number {
  return inUse >= maxCalls ? 1 : (inUse / maxCalls) * FREE_SLOT_LOAD_CEILING;
}

export class CallSlots {
  private readonly accepted = new Map<string, number>();
  private server: AgentServer | undefined;
  private watch: NodeJS.Timeout | undefined;
  /** The slots in use that LiveKit was last told of. */
  private reported: number | undefined;
  private stopped = false;
  private readonly maxCalls: number;
  private readonly log: (message: string, detail: Record<string, unknown>) => void;
  private readonly accepting: (jobId: string) => void;

  /** `accepting`: told of each job just before it is accepted (its call's set-up begins). */
  constructor(maxCalls: number, log: (message: string, detail: Record<string, unknown>) => void, accepting: (jobId: string) => void = () => {}) {
    this.maxCalls = maxCalls;
    this.log = log;
    this.accepting = accepting;
  }

  /** Calls running or about to. */
  inUse(now = Date.now()): number {
    const running = new Set((this.server?.activeJobs ?? []).map((info) => info.job.id));
    for (const [id, at] of this.accepted) if (running.has(id) || now - at > ASSIGNMENT_GRACE_MS) this.accepted.delete(id);
    return running.size + this.accepted.size;
  }

  /**
   * The load the framework reports every 2.5 s. It is called with the server, which is kept: its jobs
   * are counted, and changes between two of these reports are sent through it.
   */
  load = async (server: AgentServer): Promise<number> => {
    this.server = server;
    if (!this.watch && !this.stopped) {
      this.watch = setInterval(() => this.reportChange(), WATCH_MS);
      this.watch.unref();
    }
    const inUse = this.inUse();
    this.reported = inUse;
    return slotLoad(inUse, this.maxCalls);
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
    // The last slot taken: LiveKit stops asking this worker now, not at the next report.
    this.reportChange();
    this.accepting(job.id);
    await job.accept();
  };

  /** No more reports of ours: the framework drains (reports the worker full until its calls end). */
  stop(): void {
    this.stopped = true;
    clearInterval(this.watch);
  }

  /** Tells LiveKit the slots in use when they changed since the last report. */
  private reportChange(): void {
    const server = this.server;
    if (!server || this.stopped) return;
    const inUse = this.inUse();
    if (inUse === this.reported) return;
    this.reported = inUse;
    const full = inUse >= this.maxCalls;
    // What the framework's own report sends (agents 1.9, AgentServer's load monitor), through the same
    // channel to its LiveKit connection; nothing is sent while it is not connected.
    server.event.emit(
      'worker_msg',
      new WorkerMessage({
        message: {
          case: 'updateWorker',
          value: { load: slotLoad(inUse, this.maxCalls), status: full ? WorkerStatus.WS_FULL : WorkerStatus.WS_AVAILABLE },
        },
      }),
    );
    this.log('call slots in use changed; reported to LiveKit', { inUse, maxCalls: this.maxCalls });
  }
}
