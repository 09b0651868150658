import { findPackageJSON } from 'node:module';
import { readFileSync } from 'node:fs';
import { AudioResampler } from '@livekit/rtc-node';
import { FfiEvent, livekitInitialize } from '@livekit/rtc-ffi-bindings';

/**
 * Keeps the log records of rtc-node's native side (the LiveKit Rust SDK and libwebrtc) on the native
 * side. rtc-node 0.13 starts that side with `captureLogs` on: every record, down to trace level, then
 * crosses to JavaScript as an event of its own, is decoded there and dropped, since rtc-node has no
 * handler for them. A room's connection alone sends about 1,300, on the job's main thread while the
 * oracle joins (bench/README.md, "Native log records").
 *
 * This starts the native side again with the capture off, with a callback that hands rtc-node's client
 * the events it listens to, as its own does. The records then go to the Rust SDK's own logger: stderr,
 * at the level of RUST_LOG (errors only when unset), so the SDK's errors are now seen rather than
 * dropped. Called once per job process, in its prewarm, before any room exists. (The one record the
 * first start logged may still arrive, once.)
 *
 * Returns false, changing nothing, when rtc-node's client is not where rtc-node 0.13 keeps it (a later
 * rtc-node): the agent then works as before, and the test of this file fails.
 */
export function keepNativeLogsNative(): boolean {
  // Any request starts rtc-node's client, which starts the native side (with the capture on).
  new AudioResampler(48_000, 16_000).close();
  const client = globalThis._ffiClientInstance;
  if (!client || typeof client.emit !== 'function') return false;
  livekitInitialize((data) => client.emit('ffi_event', FfiEvent.fromBinary(data)), false, rtcNodeVersion());
  return true;
}

/** rtc-node's version, which its client gives the native side (LiveKit hears it as the SDK's version). */
function rtcNodeVersion(): string {
  const file = findPackageJSON('@livekit/rtc-node', import.meta.url);
  if (!file) throw new Error("@livekit/rtc-node's package.json was not found");
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}
