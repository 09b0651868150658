/**
 * Waits, before a timed round, until the machine is quiet: what the previous round left running (a
 * job process shutting down, the agents framework warming the job process that replaces the one a call
 * took, a page tearing down its room) would otherwise land in the next round, whichever side of the
 * comparison that is. Quiet: the whole machine busy under `busyBelow` of its cores over `windowMs`,
 * from /proc/stat (steal time counts as busy). Bounded by `atMostMs`: a machine that never gets quiet
 * is timed anyway, and the round says so.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { sampleMachine } from './agent-cpu.ts';

export interface QuietOptions {
  /** Busy share of all cores under which a window counts as quiet (default 0.25). */
  readonly busyBelow?: number;
  /** The window, in ms (default 250). */
  readonly windowMs?: number;
  /** The longest wait, in ms (default 6000). */
  readonly atMostMs?: number;
}

export interface QuietResult {
  /** Whether a quiet window came within the bound. */
  readonly quiet: boolean;
  readonly waitedMs: number;
  /** The busy share of the last window. */
  readonly busy: number;
}

export async function waitForQuietMachine(options: QuietOptions = {}): Promise<QuietResult> {
  const { busyBelow = 0.25, windowMs = 250, atMostMs = 6000 } = options;
  const from = performance.now();
  for (;;) {
    const before = sampleMachine();
    await sleep(windowMs);
    const after = sampleMachine();
    const all = after.all - before.all;
    const busy = all > 0 ? (after.busy - before.busy) / all : 0;
    const waitedMs = performance.now() - from;
    if (busy < busyBelow) return { quiet: true, waitedMs, busy };
    if (waitedMs >= atMostMs) return { quiet: false, waitedMs, busy };
  }
}
