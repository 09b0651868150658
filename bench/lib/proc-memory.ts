/**
 * Resident memory of processes from /proc (Linux), in MB. RSS counts every page a process has mapped
 * in, the pages it shares with others (the node binary, shared libraries) included, so a sum of RSS
 * over a process tree counts those pages once per process. PSS divides each shared page among the
 * processes that map it: summed over a tree, shared pages count once (their share held by processes
 * outside the tree aside), which is what the tree really keeps resident.
 */
import { readFileSync } from 'node:fs';

export interface Memory {
  readonly rssMb: number;
  readonly pssMb: number;
}

function field(text: string, name: string): number {
  const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
  return match ? Number(match[1]) / 1024 : 0;
}

/** One process's RSS and PSS; zeros once it is gone. */
export function processMemory(pid: number): Memory {
  try {
    return {
      rssMb: field(readFileSync(`/proc/${pid}/status`, 'utf8'), 'VmRSS'),
      pssMb: field(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'), 'Pss'),
    };
  } catch {
    return { rssMb: 0, pssMb: 0 };
  }
}

/** The sum over the given processes (a tree from agent-cpu.ts's sampleTree). */
export function treeMemory(pids: readonly number[]): Memory {
  let rssMb = 0;
  let pssMb = 0;
  for (const pid of pids) {
    const memory = processMemory(pid);
    rssMb += memory.rssMb;
    pssMb += memory.pssMb;
  }
  return { rssMb, pssMb };
}
