/**
 * A call being set up goes before warming the next job process.
 *
 * When a call takes a warm job process, the agents framework forks the process that replaces it at
 * once, and that start (Node, the framework, the VAD model: about 1.5 CPU-s) competes with the call's
 * own room connection for the host's cores: on a 2-core host it took about a third of a core from the
 * call's first 600 ms (bench/README.md, "Warm-ups after the set-up"). So the worker marks each call it
 * accepts as being set up (a file in a folder of its own), the call's job process clears the mark once
 * the person receives the oracle's voice, and a job process that starts while a mark is fresh waits for
 * its turn before it loads anything (`agent/warm-up-preload.ts`, given to the job processes with
 * `--import`). A folder of another user's (the names are predictable) is neither written nor read.
 *
 * A call that finds no warm process waits for a start, so a start is held back only while it can be
 * spared: while no more calls are being set up than the worker keeps warm processes (each of them found
 * one), and `MAX_SETUP_MS` at most; a mark counts for that long at most (a job process that crashed, a
 * job never assigned).
 */
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** How long a mark counts, and the longest a start waits (a set-up takes 0.5–1.5 s on a 2-core host). */
export const MAX_SETUP_MS = 3000;
const POLL_MS = 25;
const FOLDER_PREFIX = 'oracle-call-agent-setups-';
/** Set by the worker for its job processes: how many warm job processes it keeps. */
export const WARM_PROCESSES_VARIABLE = 'ORACLE_CALL_WARM_PROCESSES';

/** The worker's folder of marks: its job processes find it by their parent's process ID. */
export function setupsFolder(workerPid: number = process.pid, parent = tmpdir()): string {
  return path.join(parent, `${FOLDER_PREFIX}${workerPid}`);
}

/** A job ID as a file name in the folder (LiveKit's IDs are `AJ_` and letters; anything else is encoded). */
function markFile(folder: string, jobId: string): string {
  return path.join(folder, `job-${encodeURIComponent(jobId)}`);
}

/** In the worker, before it accepts a job: the call is being set up. Drops marks that no longer count. */
export function markSetup(jobId: string, folder = setupsFolder(), now = Date.now()): void {
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  if (!ours(folder)) throw new Error(`${folder} belongs to another user`);
  for (const name of readdirSync(folder)) {
    const file = path.join(folder, name);
    try {
      if (now - statSync(file).mtimeMs >= MAX_SETUP_MS) rmSync(file, { force: true });
    } catch {
      // cleared meanwhile
    }
  }
  writeFileSync(markFile(folder, jobId), '');
}

/** In the call's job process, once its set-up is over (or failed): warm-ups may go on. */
export function clearSetup(jobId: string, folder = setupsFolder(process.ppid)): void {
  rmSync(markFile(folder, jobId), { force: true });
}

/** In the worker, when it exits: its marks go with it. */
export function removeSetupsFolder(folder = setupsFolder()): void {
  try {
    if (ours(folder)) rmSync(folder, { recursive: true, force: true });
  } catch {
    // gone already
  }
}

/** Whether `folder` is this user's. */
function ours(folder: string): boolean {
  return statSync(folder).uid === process.getuid?.();
}

/** In the worker, at its start: the folders of workers that are gone (killed, so they left theirs). */
export function removeOrphanedSetupsFolders(parent = tmpdir()): void {
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(FOLDER_PREFIX)) continue;
    const pid = Number(name.slice(FOLDER_PREFIX.length));
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || alive(pid)) continue;
    try {
      rmSync(path.join(parent, name), { recursive: true, force: true });
    } catch {
      // Another user's, say: not ours to remove.
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** How many calls are being set up: marks younger than `MAX_SETUP_MS`. */
export function setupsInProgress(folder: string, now = Date.now()): number {
  let names: string[];
  try {
    if (!ours(folder)) return 0;
    names = readdirSync(folder);
  } catch {
    return 0;
  }
  let fresh = 0;
  for (const name of names) {
    try {
      if (now - statSync(path.join(folder, name)).mtimeMs < MAX_SETUP_MS) fresh += 1;
    } catch {
      // cleared meanwhile
    }
  }
  return fresh;
}

let waited: number | undefined;

/** The warm job processes the worker keeps, as it told its job processes (none said: no bound). */
export function warmProcessesKept(env: NodeJS.ProcessEnv = process.env): number {
  const kept = Number(env[WARM_PROCESSES_VARIABLE]);
  return Number.isInteger(kept) && kept > 0 ? kept : Number.POSITIVE_INFINITY;
}

/**
 * In a job process's start, before the framework loads: waits while calls are being set up, unless
 * more of them are than `warmKept` (one of them waits for this process), at most `maxWaitMs`. Answers
 * how long it waited (also kept for `warmUpWaitedMs`).
 */
export async function waitForTurn(folder = setupsFolder(process.ppid), maxWaitMs = MAX_SETUP_MS, warmKept = warmProcessesKept()): Promise<number> {
  const from = performance.now();
  for (;;) {
    const setups = setupsInProgress(folder);
    if (setups === 0 || setups > warmKept || performance.now() - from >= maxWaitMs) break;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  waited = performance.now() - from;
  return waited;
}

/** How long this process's start waited for calls being set up (undefined: it did not ask). */
export function warmUpWaitedMs(): number | undefined {
  return waited;
}
