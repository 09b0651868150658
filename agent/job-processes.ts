import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { telemetry } from '@livekit/agents';
import { WARM_PROCESSES_VARIABLE } from './warm-up-turn.ts';

/**
 * How the job processes start. The agents framework runs each call in a process of its own (a whole
 * Node process with the framework, rtc-node and the Silero model), forked from the worker with the
 * worker's environment: what one holds is what a call costs in memory, so the worker sets their
 * settings in its environment before the first is forked.
 */

/** V8's semi-space size for job processes, in MB (`--max-semi-space-size`). */
export const JOB_SEMI_SPACE_MB = 2;

/**
 * Adds the job processes' settings to `env` (the worker's own `process.env`), keeping what an operator
 * set: a `--max-semi-space-size` already in NODE_OPTIONS, MALLOC_ARENA_MAX, MALLOC_MMAP_THRESHOLD_ or
 * NODE_COMPILE_CACHE. Each job process first waits for its turn while calls are being set up
 * (agent/warm-up-turn.ts), knowing how many warm processes the worker keeps (`warmProcesses`).
 */
export function leanJobProcesses(env: NodeJS.ProcessEnv, warmProcesses: number): void {
  const preload = pathToFileURL(path.join(import.meta.dirname, 'warm-up-preload.ts')).href;
  if (!(env.NODE_OPTIONS ?? '').includes(preload)) env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --import=${preload}`.trim();
  env[WARM_PROCESSES_VARIABLE] = String(warmProcesses);
  // V8 lets the young generation grow to several 16 MB semi-spaces, which an idle job process keeps
  // resident. A job's garbage is short-lived audio frames (10 ms each), which small semi-spaces hold
  // as well: about 35 MB less per process (bench/README.md, "Memory per call").
  const options = env.NODE_OPTIONS ?? '';
  if (!options.includes('--max-semi-space-size')) env.NODE_OPTIONS = `${options} --max-semi-space-size=${JOB_SEMI_SPACE_MB}`.trim();
  // glibc gives each thread that allocates (rtc-node's runtime, onnxruntime) an arena of its own.
  env.MALLOC_ARENA_MAX ??= '2';
  // Loading Silero's onnxruntime session allocates about 20 MB on the main thread's heap, much of it
  // temporary; glibc's default threshold for serving a block from mmap grows with each large block
  // freed, so those land on the heap and stay resident after they are freed. A fixed 64 KB threshold
  // keeps large blocks in mmap, returned when freed: a job process holding a call 117.6 -> 107.3 MB of
  // private memory (USS, bench/README.md), with no more CPU per call.
  env.MALLOC_MMAP_THRESHOLD_ ??= '65536';
  // Every job process loads the same modules (the framework alone is about 1 CPU-s to compile): Node
  // keeps their compiled code on disk and the next process reads it (about 0.5 CPU-s less per start,
  // so a worker refills its warm processes faster after a burst of calls).
  env.NODE_COMPILE_CACHE ??= path.join(tmpdir(), 'oracle-call-agent-compile-cache');
}

/**
 * Starts the job process's event-loop monitor without its watchdog thread; called at the end of the
 * prewarm. The framework starts the same monitor once the prewarm is done, with a watchdog: a worker
 * thread (a V8 isolate and a Node environment of its own, about 14 MB of private memory in every job
 * process) whose late wake-ups tell a host that did not run the process from code that blocked it.
 * Started here first, the framework's start finds it running and leaves it. Stalls are still logged,
 * with the thread's CPU time beside their length (little CPU in a long stall: the host), at the same
 * thresholds (LIVEKIT_AGENTS_LOOP_BLOCK_WARN_MS, 0 to turn it off). The worker keeps its watchdog.
 */
export function monitorJobLoop(): void {
  telemetry.loopMonitor.startMonitoring({ name: 'job', watchdog: false });
}
