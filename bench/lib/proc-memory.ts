/**
 * Resident memory of processes from /proc (Linux), in MB. RSS counts every page a process has mapped
 * in, the pages it shares with others (the node binary, shared libraries) included, so a sum of RSS
 * over a process tree counts those pages once per process. PSS divides each shared page among the
 * processes that map it: summed over a tree, shared pages count once (their share held by processes
 * outside the tree aside), which is what the tree really keeps resident. USS (unique set size: the
 * process's private pages, clean and dirty) is what the machine gets back when the process ends, i.e.
 * what one more process of the same kind costs it: the pages it shares (the node binary, the native
 * libraries) are paid once whatever the number of processes.
 */
import { readFileSync } from 'node:fs';

export interface Memory {
  readonly rssMb: number;
  readonly pssMb: number;
  readonly ussMb: number;
}

function field(text: string, name: string): number {
  const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
  return match ? Number(match[1]) / 1024 : 0;
}

/** One process's RSS, PSS and USS; zeros once it is gone. */
export function processMemory(pid: number): Memory {
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    return {
      rssMb: field(readFileSync(`/proc/${pid}/status`, 'utf8'), 'VmRSS'),
      pssMb: field(rollup, 'Pss'),
      ussMb: field(rollup, 'Private_Clean') + field(rollup, 'Private_Dirty'),
    };
  } catch {
    return { rssMb: 0, pssMb: 0, ussMb: 0 };
  }
}

/** The sum over the given processes (a tree from agent-cpu.ts's sampleTree). */
export function treeMemory(pids: readonly number[]): Memory {
  let rssMb = 0;
  let pssMb = 0;
  let ussMb = 0;
  for (const pid of pids) {
    const memory = processMemory(pid);
    rssMb += memory.rssMb;
    pssMb += memory.pssMb;
    ussMb += memory.ussMb;
  }
  return { rssMb, pssMb, ussMb };
}
