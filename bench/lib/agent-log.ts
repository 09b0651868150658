/**
 * Reads the agent worker's log lines (pino JSON from the worker and its job processes, as captured by
 * scripts/stack/agent-process.ts) for what the benchmark needs: which job processes are warmed up and
 * idle, when the oracle heard each utterance, and the framework's warnings about stalls.
 */
import type { AgentProcess } from '../../scripts/stack/agent-process.ts';

interface LogLine {
  readonly time?: number;
  readonly pid?: number;
  readonly msg?: string;
  readonly callId?: string;
  readonly speechMs?: number;
  readonly error?: { readonly message?: string };
}

export interface Stall {
  /** performance.now() timeline. */
  readonly at: number;
  readonly kind: 'not scheduled' | 'loop blocked' | 'vad slow' | 'prewarm timeout';
}

export class AgentLog {
  private read = 0;
  private readonly initialized = new Set<number>();
  private readonly started = new Set<number>();
  /** callId → performance.now() of each "utterance heard" (the VAD's end of speech). */
  private readonly heard = new Map<string, number[]>();
  /** callId → each utterance heard: when, and how long the speech it echoes was (speechMs in the log). */
  private readonly heardDetail = new Map<string, { at: number; speechMs: number }[]>();
  readonly stalls: Stall[] = [];
  errors = 0;

  constructor(private readonly agent: AgentProcess) {}

  /** Epoch milliseconds (the log's `time`) on this process's performance.now() timeline. */
  private static toPerf(time: number): number {
    return time - performance.timeOrigin;
  }

  private scan(): void {
    const lines = this.agent.output;
    for (; this.read < lines.length; this.read += 1) {
      const text = lines[this.read]!;
      if (!text.startsWith('{')) continue;
      let line: LogLine & { level?: number };
      try {
        line = JSON.parse(text) as LogLine & { level?: number };
      } catch {
        continue;
      }
      const at = typeof line.time === 'number' ? AgentLog.toPerf(line.time) : performance.now();
      if ((line.level ?? 0) >= 50) this.errors += 1;
      const msg = line.msg ?? '';
      if (msg === 'job runner initialized' && line.pid) this.initialized.add(line.pid);
      else if (msg === 'job started' && line.pid) this.started.add(line.pid);
      else if (msg.startsWith('utterance heard') && line.callId) {
        const list = this.heard.get(line.callId) ?? [];
        list.push(at);
        this.heard.set(line.callId, list);
        const detail = this.heardDetail.get(line.callId) ?? [];
        detail.push({ at, speechMs: line.speechMs ?? Number.NaN });
        this.heardDetail.set(line.callId, detail);
      } else if (msg.startsWith('process not scheduled')) this.stalls.push({ at, kind: 'not scheduled' });
      else if (msg.startsWith('event loop blocked')) this.stalls.push({ at, kind: 'loop blocked' });
      else if (msg.startsWith('VAD inference is slower')) this.stalls.push({ at, kind: 'vad slow' });
      // A job process that did not finish its prewarm within the framework's initializeProcessTimeout
      // (10 s) is killed, and the pool starts another.
      else if (msg === 'supervised process run failed' && line.error?.message?.includes('initialization timed out')) {
        this.stalls.push({ at, kind: 'prewarm timeout' });
      }
    }
  }

  /** Job processes that finished warming up (prewarm: Silero loaded), are alive and have not taken a job yet. */
  idleCount(): number {
    this.scan();
    let count = 0;
    for (const pid of this.initialized) {
      if (this.started.has(pid)) continue;
      try {
        process.kill(pid, 0);
        count += 1;
      } catch {
        // gone
      }
    }
    return count;
  }

  /** The job processes that took a job and are still alive (a call running, or ending). */
  runningJobPids(): number[] {
    this.scan();
    return [...this.started].filter((pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    });
  }

  runningJobs(): number {
    return this.runningJobPids().length;
  }

  /** Waits until no more than `count` job processes hold a job (the worker's call slots free), up to `timeoutMs`. */
  async waitRunningAtMost(count: number, timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (this.runningJobs() > count) {
      if (performance.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return true;
  }

  /** A job process that finished warming up and has not taken a job yet. */
  idleReady(): boolean {
    return this.idleCount() > 0;
  }

  /** Waits until `count` job processes are warm and idle (true) or `timeoutMs` passes (false). */
  async waitIdleReady(timeoutMs: number, count = 1): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      if (this.idleCount() >= count) return true;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return this.idleCount() >= count;
  }

  /** When the oracle logged hearing an utterance in the call, first after `after` (performance.now()). */
  async heardAfter(callId: string, after: number, timeoutMs: number): Promise<number | undefined> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      this.scan();
      const found = this.heard.get(callId)?.find((at) => at > after - 1000);
      if (found !== undefined || performance.now() >= deadline) return found;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** The utterances the oracle heard in the call between `from` and `to` (performance.now()). */
  heardBetween(callId: string, from: number, to: number): { at: number; speechMs: number }[] {
    this.scan();
    return (this.heardDetail.get(callId) ?? []).filter((h) => h.at >= from && h.at <= to);
  }

  stallsBetween(from: number, to: number): Stall[] {
    this.scan();
    return this.stalls.filter((stall) => stall.at >= from && stall.at <= to);
  }
}
