/**
 * CPU time of processes from /proc (Linux): a process tree (a pid and every descendant, found through
 * the ppid field of /proc/<pid>/stat), a single process, and the whole machine (/proc/stat).
 */
import { readFileSync, readdirSync } from 'node:fs';

/** Clock ticks per second of /proc's utime and stime (USER_HZ): 100 on every Linux platform. */
const TICKS_PER_SECOND = 100;

interface ProcStat {
  readonly pid: number;
  readonly ppid: number;
  /** utime + stime, in seconds. */
  readonly own: number;
  /** cutime + cstime (children already exited and waited for), in seconds. */
  readonly reaped: number;
  readonly name: string;
}

function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name is in parentheses and may hold spaces: split after the last ')'.
  const close = text.lastIndexOf(')');
  const name = text.slice(text.indexOf('(') + 1, close);
  const fields = text.slice(close + 2).split(' ');
  // fields[0] is field 3 (state): field n is fields[n - 3].
  const at = (n: number) => Number(fields[n - 3]);
  return {
    pid,
    ppid: at(4),
    own: (at(14) + at(15)) / TICKS_PER_SECOND,
    reaped: (at(16) + at(17)) / TICKS_PER_SECOND,
    name,
  };
}

function allStats(): ProcStat[] {
  const stats: ProcStat[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat) stats.push(stat);
  }
  return stats;
}

export interface TreeSample {
  /** Seconds of CPU used so far by the root, its live descendants and the descendants already reaped. */
  readonly total: number;
  /** The live processes of the tree (root first) and their own CPU seconds so far. */
  readonly processes: readonly { pid: number; ppid: number; name: string; cpu: number }[];
}

/**
 * The CPU used by a process tree so far. Live processes count with their own time; exited children
 * that were waited for count through their parent's cutime/cstime, so the total does not drop when a
 * job process ends (one that exits between two samples and is reaped counts in the later one).
 */
export function sampleTree(rootPid: number): TreeSample {
  const stats = allStats();
  const children = new Map<number, ProcStat[]>();
  for (const stat of stats) {
    const list = children.get(stat.ppid) ?? [];
    list.push(stat);
    children.set(stat.ppid, list);
  }
  const root = stats.find((stat) => stat.pid === rootPid);
  if (!root) return { total: Number.NaN, processes: [] };
  const processes: TreeSample['processes'][number][] = [];
  let total = 0;
  const queue = [root];
  while (queue.length > 0) {
    const stat = queue.shift()!;
    total += stat.own + stat.reaped;
    processes.push({ pid: stat.pid, ppid: stat.ppid, name: stat.name, cpu: stat.own });
    queue.push(...(children.get(stat.pid) ?? []));
  }
  return { total, processes };
}

/** CPU seconds used so far by one process (all its threads); NaN once it is gone. */
export function processCpu(pid: number): number {
  return readStat(pid)?.own ?? Number.NaN;
}

export interface MachineSample {
  /** Busy CPU seconds over all cores (everything but idle and iowait). */
  readonly busy: number;
  /** All CPU seconds over all cores. */
  readonly all: number;
}

export function sampleMachine(): MachineSample {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user and nice).
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = values;
  const busy = user + nice + system + irq + softirq + steal;
  return { busy: busy / TICKS_PER_SECOND, all: (busy + idle + iowait) / TICKS_PER_SECOND };
}
