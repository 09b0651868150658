import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { generateCallKey, generateRoomName } from '../../protocol/index.ts';
import { participantToken } from '../../scripts/stack/participants.ts';
import { useLiveKit } from '../helpers/services.ts';

const PROBE = path.join(import.meta.dirname, '../fixtures/agent/native-logs-probe.ts');

interface Probe {
  kept: boolean;
  connected: boolean;
  published: number;
  logs: number;
  other: number;
  records: string[];
}

describe("rtc-node's native log records stay native in the agent's job processes (real LiveKit server)", () => {
  const livekit = useLiveKit();

  /** Joins a room with E2EE and publishes a tone in a fresh Node process (the native side is one per process). */
  async function probe(mode: 'keep' | 'default'): Promise<{ result: Probe; stderr: string }> {
    const roomName = generateRoomName();
    const token = await participantToken(livekit(), roomName, `probe-${mode}`);
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [PROBE, livekit().url, token, generateCallKey(), mode], {
      timeout: 60_000,
      env: { PATH: process.env.PATH, HOME: process.env.HOME },
    });
    return { result: JSON.parse(stdout.trim().split('\n').at(-1)!) as Probe, stderr };
  }

  it("rtc-node by default sends every native record to JavaScript, where it is dropped (what the agent's prewarm stops)", async () => {
    const { result } = await probe('default');
    assert.equal(result.published, 1);
    // Hundreds in a join: if a later rtc-node stops this, keepNativeLogsNative is no longer needed.
    assert.ok(result.logs > 100, `rtc-node sent ${result.logs} native log records to JavaScript in a join`);
  });

  it('after keepNativeLogsNative none cross, and the room still gets its events: joined, tone published', async () => {
    const { result, stderr } = await probe('keep');
    assert.equal(result.kept, true, "rtc-node's client was found where rtc-node 0.13 keeps it");
    // The one record the first start logged before the capture was turned off may still arrive.
    const fromTheJoin = result.records.filter((message) => !message.startsWith('initializing ffi server'));
    assert.ok(result.logs <= 1 && fromTheJoin.length === 0, `${result.logs} native log records crossed to JavaScript: ${JSON.stringify(result.records)}`);
    // The connection's result and the publication's are FFI events: the client got them.
    assert.equal(result.connected, true);
    assert.equal(result.published, 1);
    assert.ok(result.other > 0);
    // With RUST_LOG unset the Rust SDK's own logger prints errors only, and a clean join has none.
    assert.equal(stderr.trim(), '', `the native side printed: ${stderr.slice(0, 500)}`);
  });
});
