import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { initializeLogger, telemetry } from '@livekit/agents';
import { monitorJobLoop } from '../../agent/job-processes.ts';

const { getMonitor, startMonitoring, stopMonitoring } = telemetry.loopMonitor;

describe("a job process's event-loop monitor (monitorJobLoop)", () => {
  const warn = process.env.LIVEKIT_AGENTS_LOOP_BLOCK_WARN_MS;
  afterEach(() => {
    stopMonitoring();
    if (warn === undefined) delete process.env.LIVEKIT_AGENTS_LOOP_BLOCK_WARN_MS;
    else process.env.LIVEKIT_AGENTS_LOOP_BLOCK_WARN_MS = warn;
  });

  it("runs without a watchdog thread, and the framework's own start (after the prewarm) leaves it so", () => {
    delete process.env.LIVEKIT_AGENTS_LOOP_BLOCK_WARN_MS;
    monitorJobLoop();
    const monitor = getMonitor();
    assert.ok(monitor, 'the loop is watched');
    assert.equal(monitor.watchdogActive, false);
    assert.equal(monitor.warnThreshold, 100, "the framework's default threshold");
    // What the framework's job process does once the prewarm is done.
    assert.equal(startMonitoring({ name: 'job' }), undefined);
    assert.equal(getMonitor(), monitor);
    assert.equal(getMonitor()?.watchdogActive, false);
  });

  it("keeps the framework's thresholds from the environment, and 0 turns it off", () => {
    process.env.LIVEKIT_AGENTS_LOOP_BLOCK_WARN_MS = '250';
    monitorJobLoop();
    assert.equal(getMonitor()?.warnThreshold, 250);
    stopMonitoring();
    process.env.LIVEKIT_AGENTS_LOOP_BLOCK_WARN_MS = '0';
    monitorJobLoop();
    assert.equal(getMonitor(), undefined);
  });

  it('logs a stall of the loop without the watchdog', async () => {
    initializeLogger({ pretty: false, level: 'error' });
    delete process.env.LIVEKIT_AGENTS_LOOP_BLOCK_WARN_MS;
    monitorJobLoop();
    const reports: { duration: number; cause: string; watchdogGap: number }[] = [];
    getMonitor()!.onReport = (report) => reports.push(report);
    const until = Date.now() + 250;
    while (Date.now() < until) {
      // blocks the loop
    }
    // A stall is reported on the tick after the one that saw it (held back for its GC entries).
    await new Promise((resolve) => setTimeout(resolve, 120));
    assert.equal(reports.length, 1, JSON.stringify(reports));
    assert.ok(reports[0]!.duration >= 200, `stall of ${reports[0]!.duration} ms`);
    assert.equal(reports[0]!.cause, 'code');
    assert.equal(reports[0]!.watchdogGap, 0);
  });
});
