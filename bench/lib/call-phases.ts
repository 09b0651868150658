/**
 * Where a call's set-up time goes, for bench/call.ts: the element's User Timing marks
 * (`oracle-call:<step>`, widget/call-controller.ts), the backend's `call admitted` log line (how long
 * the sync's Matrix reads, the dispatch and the edit to active took) and `agent dispatched`, and the
 * agent's log lines for the call (job received, job started, key obtained, connected, call confirmed, voice published). Everything is
 * put on one clock — milliseconds since the click — from wall-clock times: the page's
 * `performance.timeOrigin + mark.startTime`, pino's `time` in the backend's and the agent's JSON lines
 * (all on one machine).
 */
import type { Page } from 'playwright-core';

/** Milliseconds since the click of each step that was seen (absent when not seen). */
export interface CallPhases {
  readonly mediaReady?: number;
  readonly openId?: number;
  readonly signedIn?: number;
  readonly eventSent?: number;
  readonly synced?: number;
  /** Durations inside the sync (the backend's own clock). */
  readonly syncMatrixReadMs?: number;
  readonly syncDispatchMs?: number;
  readonly syncMirrorMs?: number;
  readonly syncTotalMs?: number;
  readonly dispatched?: number;
  readonly jobReceived?: number;
  readonly jobStarted?: number;
  readonly keyObtained?: number;
  readonly keyConfirmed?: number;
  readonly agentConnected?: number;
  readonly voicePublished?: number;
  readonly connected?: number;
  readonly oracleJoined?: number;
}

/** The rows of the breakdown: label and field, in the call's order. */
export const PHASE_ROWS: readonly (readonly [string, keyof CallPhases])[] = [
  ['media ready (getUserMedia, tracks)', 'mediaReady'],
  ['OpenID token', 'openId'],
  ['signed in (backend session)', 'signedIn'],
  ['Matrix event sent', 'eventSent'],
  ['  backend: agent dispatched (in the sync)', 'dispatched'],
  ['  agent: job received', 'jobReceived'],
  ['  agent: job started (opening the key)', 'jobStarted'],
  ['  agent: call key obtained', 'keyObtained'],
  ['  agent: connected to the room', 'agentConnected'],
  ['  agent: call confirmed (key route, beside the connection)', 'keyConfirmed'],
  ['  agent: voice track published', 'voicePublished'],
  ['sync answered', 'synced'],
  ['  sync: Matrix reads (duration)', 'syncMatrixReadMs'],
  ['  sync: dispatch (duration)', 'syncDispatchMs'],
  ['  sync: edit to active (duration)', 'syncMirrorMs'],
  ['  sync: in the backend (duration)', 'syncTotalMs'],
  ['LiveKit connected (page)', 'connected'],
  ['oracle joined (phase in-call)', 'oracleJoined'],
];

/** The page's `oracle-call:*` marks as wall-clock milliseconds. */
export async function readMarks(page: Page): Promise<Record<string, number>> {
  return (await page.evaluate(`Object.fromEntries(performance.getEntriesByType('mark')
    .filter((m) => m.name.startsWith('oracle-call:'))
    .map((m) => [m.name.slice('oracle-call:'.length), performance.timeOrigin + m.startTime]))`)) as Record<string, number>;
}

/** The page's wall-clock time of a `performance.now()` value. */
export async function wallClock(page: Page, now: number): Promise<number> {
  return (await page.evaluate(`performance.timeOrigin + ${now}`)) as number;
}

interface LogLine {
  readonly msg?: string;
  readonly time?: number;
  readonly callId?: string;
  readonly [field: string]: unknown;
}

function parse(lines: readonly string[], from: number): LogLine[] {
  const parsed: LogLine[] = [];
  for (let i = from; i < lines.length; i += 1) {
    const text = lines[i]!;
    if (!text.startsWith('{')) continue;
    try {
      parsed.push(JSON.parse(text) as LogLine);
    } catch {
      // not JSON
    }
  }
  return parsed;
}

/** The baseline agent's steps, ms since the page's join started (bench/lib/dispatch-baseline-agent.ts). */
export interface BaselinePhases {
  readonly jobReceived?: number;
  readonly jobStarted?: number;
  readonly agentConnected?: number;
  readonly tonePublished?: number;
}

export const BASELINE_PHASE_ROWS: readonly (readonly [string, keyof BaselinePhases])[] = [
  ['  agent: job received', 'jobReceived'],
  ['  agent: job started', 'jobStarted'],
  ['  agent: connected to the room', 'agentConnected'],
  ['  agent: tone published', 'tonePublished'],
];

/** The baseline agent's steps for the join started at `joinAt` (wall clock); `from`: its log's length before the join. */
export function baselinePhases(joinAt: number, agentLogs: readonly string[], from: number): BaselinePhases {
  const lines = parse(agentLogs, from);
  const at = (msg: string) => {
    const time = lines.find((line) => line.msg === msg)?.time;
    return time === undefined ? undefined : time - joinAt;
  };
  return {
    jobReceived: at('received job request'),
    jobStarted: at('baseline: job started'),
    agentConnected: at('baseline: connected to the room'),
    tonePublished: at('baseline: tone published'),
  };
}

/**
 * The phases of the call that was started at `clickAt` (wall clock). `backendFrom` and `agentFrom` are
 * the log lengths before the click: only later lines are read.
 */
export function callPhases(
  clickAt: number,
  marks: Record<string, number>,
  backendLogs: readonly string[],
  backendFrom: number,
  agentLogs: readonly string[],
  agentFrom: number,
): CallPhases {
  const at = (time: number | undefined) => (time === undefined ? undefined : time - clickAt);
  const backend = parse(backendLogs, backendFrom);
  const admitted = backend.find((line) => line.msg === 'call admitted');
  const callId = admitted?.callId;
  const dispatched = backend.find((line) => line.msg === 'agent dispatched' && line.callId === callId);
  const agent = parse(agentLogs, agentFrom);
  const ofCall = (msg: string) => agent.find((line) => line.msg === msg && line.callId === callId)?.time;
  // The job's first line: the framework's, or failing that our entry's first.
  const jobReceived = agent.find((line) => line.msg === 'received job request' || (line.msg === 'job started' && line.time !== undefined))?.time;
  const duration = (field: string) => (typeof admitted?.[field] === 'number' ? (admitted[field] as number) : undefined);
  return {
    mediaReady: at(marks['media-ready']),
    openId: at(marks.openid),
    signedIn: at(marks['signed-in']),
    eventSent: at(marks['event-sent']),
    synced: at(marks.synced),
    syncMatrixReadMs: duration('matrixReadMs'),
    syncDispatchMs: duration('dispatchMs'),
    syncMirrorMs: duration('mirrorMs'),
    syncTotalMs: duration('totalMs'),
    dispatched: at(dispatched?.time),
    jobReceived: at(jobReceived),
    jobStarted: at(ofCall('opening the call key from the dispatch') ?? ofCall('fetching the call key')),
    keyObtained: at(ofCall('call key obtained')),
    keyConfirmed: at(ofCall('call confirmed by the backend')),
    agentConnected: at(ofCall('joined the call with E2EE')),
    voicePublished: at(ofCall('voice published')),
    connected: at(marks.connected),
    oracleJoined: at(marks['oracle-joined']),
  };
}
