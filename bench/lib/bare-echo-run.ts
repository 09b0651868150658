/**
 * bench:agent's baseline phase: the same steps of concurrent calls as the agent's, with the same
 * simulated people (a Speaker saying the utterance every period, staggered, and an EchoListener), each
 * in a room of its own with the bare echo participant (bare-echo.ts) instead of the oracle: one child
 * process for all rooms (the baseline), or one per call (`processPerCall`: the agent's process model
 * without the framework, to tell how much of the agent's CPU per call is that model). Measures the CPU
 * of those processes per step, read from /proc like the agent's.
 */
import { randomBytes } from 'node:crypto';
import type { Room } from '@livekit/rtc-node';
import { firstRemoteAudioTrack, joinEncrypted, participantToken } from '../../scripts/stack/participants.ts';
import type { Stack } from '../../scripts/stack/stack.ts';
import { EchoListener, Speaker } from './agent-call.ts';
import { processCpu } from './agent-cpu.ts';
import { BareEcho } from './bare-echo-process.ts';
import { treeMemory } from './proc-memory.ts';
import type { Memory } from './proc-memory.ts';

export interface BareStep {
  readonly n: number;
  /** CPU seconds per second of the bare echo process (or, a process per call, of all of them). */
  readonly cpu: number;
  /** Of this (the benchmark's) process: the simulated people. */
  readonly self: number;
  readonly livekit: number;
  /** Echoes heard in the window (any loud audio back), over the utterances sent in it. */
  readonly echoed: number;
  readonly said: number;
  /** Of the bare echo process, or the sum over the processes of the calls. */
  readonly memory: Memory;
}

export interface BareOptions {
  readonly steps: readonly number[];
  readonly stepSeconds: number;
  readonly settleSeconds: number;
  readonly speakPeriodMs: number;
  readonly listener: ConstructorParameters<typeof EchoListener>[1];
  readonly progress: (line: string) => void;
  /** Each call in a bare echo process of its own, started when the call is added. */
  readonly processPerCall?: boolean;
}

interface BareCall {
  readonly index: number;
  readonly echo: BareEcho;
  readonly roomName: string;
  readonly room: Room;
  readonly speaker: Speaker;
  readonly listener: EchoListener;
  readonly said: number[];
  hungUp: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

export async function runBareEcho(s: Stack, options: BareOptions): Promise<BareStep[]> {
  const shared = options.processPerCall ? undefined : BareEcho.start();
  /** Every bare echo process started, to stop them all at the end (a call that failed to open included). */
  const started: BareEcho[] = shared ? [shared] : [];
  const live: BareCall[] = [];
  const maxCalls = Math.max(...options.steps);
  const base = performance.now();
  const results: BareStep[] = [];
  let count = 0;

  const open = async (index: number): Promise<BareCall> => {
    const roomName = `bare-echo-${Date.now()}-${index}`;
    const key = randomBytes(32).toString('hex');
    let echo = shared;
    if (!echo) {
      echo = BareEcho.start();
      started.push(echo);
    }
    await echo.join(s.livekit.url, await participantToken(s.livekit, roomName, `echo-${index}`), roomName, key);
    const room = await joinEncrypted(s.livekit, roomName, `person-${index}`, key);
    const track = await firstRemoteAudioTrack(room, `echo-${index}`);
    const listener = new EchoListener(track, options.listener);
    const speaker = await Speaker.start(room, 700 + 100 * (index % 16));
    const call: BareCall = { index, echo, roomName, room, speaker, listener, said: [], hungUp: false };
    return call;
  };

  const speak = async (call: BareCall) => {
    let next = base + (((call.index * options.speakPeriodMs) / maxCalls) % options.speakPeriodMs);
    while (next < performance.now() + 300) next += options.speakPeriodMs;
    while (!call.hungUp) {
      await sleep(next - performance.now());
      if (call.hungUp) break;
      call.said.push((await call.speaker.say()).sentAt);
      next += options.speakPeriodMs;
      while (next < performance.now()) next += options.speakPeriodMs;
    }
  };

  const hangUp = async (call: BareCall) => {
    call.hungUp = true;
    await call.speaker.stop();
    await call.listener.stop();
    await call.room.disconnect().catch(() => {});
  };
  const label = options.processPerCall ? 'bare echo, a process per call' : 'bare echo';
  /** The bare echo processes of the live calls (one shared by all, or one each). */
  const pids = () => (shared ? [shared.pid] : live.map((call) => call.echo.pid));
  const cpu = () => pids().reduce((sum, pid) => sum + processCpu(pid), 0);

  try {
    for (const n of options.steps) {
      // Hung up: measured once the bare echo has left those rooms (its leaving costs CPU for a while).
      const leaving = live.splice(n);
      const left = leaving.map((call) => call.echo.left(call.roomName, 15_000));
      await Promise.all(leaving.map(hangUp));
      await Promise.all(left);
      if (!shared) await Promise.all(leaving.map((call) => call.echo.stop()));
      const added = await Promise.all(Array.from({ length: n - live.length }, () => open(count++)));
      for (const call of added) void speak(call);
      live.push(...added);
      await sleep(options.settleSeconds * 1000);
      const from = { at: performance.now(), cpu: cpu(), self: processCpu(process.pid), livekit: processCpu(s.livekit.process.child.pid!) };
      await sleep(options.stepSeconds * 1000);
      const to = { at: performance.now(), cpu: cpu(), self: processCpu(process.pid), livekit: processCpu(s.livekit.process.child.pid!) };
      const seconds = (to.at - from.at) / 1000;
      // An echo of an utterance: loud audio back within 4 s of its end (the bare echo repeats as it hears).
      let said = 0;
      let echoed = 0;
      for (const call of live) {
        for (const at of call.said.filter((t) => t >= from.at && t <= to.at)) {
          said += 1;
          if (call.listener.echoes.some((e) => e.startAt > at - 5000 && e.startAt < at + 4000)) echoed += 1;
        }
      }
      const step: BareStep = {
        n,
        cpu: (to.cpu - from.cpu) / seconds,
        self: (to.self - from.self) / seconds,
        livekit: (to.livekit - from.livekit) / seconds,
        echoed,
        said,
        memory: treeMemory(pids()),
      };
      results.push(step);
      options.progress(
        `${label}, ${n} call${n === 1 ? '' : 's'}: ${step.cpu.toFixed(3)} CPU s/s (${(step.cpu / n).toFixed(3)} per call), ` +
          `this process ${step.self.toFixed(2)}, LiveKit ${step.livekit.toFixed(2)}; ${echoed}/${said} utterances echoed`,
      );
    }
  } finally {
    // The speaking loops are not waited for: one inside `say()` when its speaker stopped never returns.
    await Promise.all(live.map(hangUp));
    await Promise.all(started.map((echo) => echo.stop()));
  }
  return results;
}
