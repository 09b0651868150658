/**
 * What every benchmark does around its measurements: progress lines on stderr with the time since the
 * run started, timed steps, and a watchdog (with Ctrl-C and SIGTERM) that cleans up and exits 2.
 */

/** When the run started (this module is loaded first thing). */
export const RUN_START = performance.now();

export const elapsed = (): string => `${((performance.now() - RUN_START) / 1000).toFixed(1)}s`;

export function progress(message: string): void {
  process.stderr.write(`[bench ${elapsed()}] ${message}\n`);
}

/** Runs `task` and reports how long it took. */
export async function timed<T>(what: string, task: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await task();
  progress(`${what} (${((performance.now() - started) / 1000).toFixed(2)} s)`);
  return result;
}

export interface Guard {
  /** What is stopped on an abort, for the message ("the stack"). */
  readonly stopping: string;
  readonly watchdogMs: number;
  /** How long the clean-up may take before the process exits anyway. */
  readonly graceMs: number;
  readonly cleanUp: () => Promise<void>;
}

/**
 * Bounds the run: after `watchdogMs`, or on SIGINT/SIGTERM, it cleans up (at most `graceMs`) and exits
 * 2. Answers the abort, for a benchmark that has to stop early itself.
 */
export function guardRun(guard: Guard): (reason: string) => Promise<never> {
  const abort = async (reason: string): Promise<never> => {
    process.stderr.write(`[bench] ${reason}: stopping ${guard.stopping}\n`);
    setTimeout(() => process.exit(2), guard.graceMs).unref();
    await guard.cleanUp().catch(() => {});
    process.exit(2);
  };
  setTimeout(() => void abort(`the run took longer than ${guard.watchdogMs / 1000} s`), guard.watchdogMs).unref();
  process.once('SIGINT', () => void abort('interrupted'));
  process.once('SIGTERM', () => void abort('terminated'));
  return abort;
}
