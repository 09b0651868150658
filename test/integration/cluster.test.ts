/**
 * The cluster of docs/deploy.md on one machine, every part real: two backends on one PostgreSQL behind
 * nginx (the project's own `deploy/nginx/oracle-call-locations.conf`: round-robin, the client's address
 * passed on in X-Forwarded-For, TRUST_PROXY_HOPS=1 on each backend), two LiveKit nodes sharing Redis
 * (each backend talks to one of them), two agent workers under the same agent name (one on each node,
 * fetching keys through nginx), and Synapse. Clients reach nginx from their own loopback addresses
 * (127.0.0.2, 127.0.0.3), so that the address a backend reads is the client's, not the proxy's.
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Room } from '@livekit/rtc-node';
import pg from 'pg';
import { decryptCallKey } from '../../protocol/index.ts';
import { integrityOf } from '../../scripts/build/release-files.ts';
import type { ReleaseManifest } from '../../scripts/build/release-files.ts';
import { DIST, buildPages } from '../../scripts/services/demo-server.ts';
import { startCluster } from '../../scripts/stack/cluster.ts';
import type { Cluster } from '../../scripts/stack/cluster.ts';
import { SAMPLE_RATE, closeRtc, firstRemoteAudioTrack, joinCall, recordLoudAudio, speakUtterance } from '../../scripts/stack/participants.ts';
import { AGENT_API_KEY, announceCall, syncCall } from '../../scripts/stack/stack.ts';
import type { ApiResponse, StartedCall, TestUser } from '../../scripts/stack/stack.ts';
import { waitFor } from '../helpers/wait.ts';

type User = TestUser & { roomId: string };

const callPath = (callId: string, tail: string) => `/calls/${encodeURIComponent(callId)}/${tail}`;

/** One request to `url` from the given loopback address (its socket's source address, as nginx sees it). */
function requestFrom(localAddress: string, url: string, method: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> {
  const text = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      { method, localAddress, headers: { ...headers, ...(text ? { 'content-type': 'application/json' } : {}) } },
      (response) => {
        let answer = '';
        response.setEncoding('utf8').on('data', (chunk: string) => {
          answer += chunk;
        });
        response.on('end', () => {
          let parsed: unknown = answer;
          try {
            parsed = JSON.parse(answer);
          } catch {
            // not JSON
          }
          resolve({ status: response.statusCode ?? 0, headers: new Headers(response.headers as Record<string, string>), body: parsed as ApiResponse['body'] });
        });
      },
    );
    request.on('error', reject);
    request.end(text);
  });
}

async function callRows(url: string): Promise<Map<string, { status: string; endReason: string | null }>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ call_id: string; status: string; end_reason: string | null }>('SELECT call_id, status, end_reason FROM calls');
    return new Map(rows.map((row) => [row.call_id, { status: row.status, endReason: row.end_reason }]));
  } finally {
    await client.end();
  }
}

describe('a cluster: nginx, two backends, PostgreSQL, Redis, two LiveKit nodes, two agent workers, Synapse (all real)', () => {
  let cluster: Cluster | undefined;
  const rooms: Room[] = [];
  let alice: User;
  const c = () => cluster ?? assert.fail('the cluster did not start (see the error above)');
  const s = () => c().stack;
  const viaProxy = () => c().viaProxy;

  before(async () => {
    cluster = await startCluster({ env: { RATE_LIMIT_AUTH_PER_MINUTE: '5' }, revealUpstream: true });
    alice = await s().newUser('ivan');
  });
  after(async () => {
    await closeRtc(rooms);
    await cluster?.stop();
  });

  /** Which worker joined the call's room (its log line), within `timeoutMs`. */
  async function workerOf(call: StartedCall, timeoutMs = 30_000): Promise<number> {
    const line = new RegExp(`joined the call with E2EE.*${call.content.roomId}|${call.content.roomId}.*joined the call with E2EE`);
    return Promise.any(c().workers.map((worker, index) => worker.waitForLine(line, timeoutMs).then(() => index)));
  }

  /** The person joins with the node the sync answer names, speaks, and hears the oracle say it back. */
  async function hearEcho(call: StartedCall, synced: ApiResponse, markerHz: number): Promise<void> {
    const room = await joinCall(synced.body.livekit.url, synced.body.livekit.token, call.callKey);
    rooms.push(room);
    const oracleTrack = await firstRemoteAudioTrack(room, undefined, 60_000);
    const voice = await speakUtterance(room, markerHz);
    const echo = await recordLoudAudio(oracleTrack, 1500, 25_000);
    await voice.stop();
    assert.ok(echo.length >= SAMPLE_RATE * 1.5, `${call.callId}: the oracle said the utterance back`);
  }

  it('sets calls up through nginx on either backend and either LiveKit node; both workers take calls; every call gets its echo', async (t) => {
    const upstreams = new Set<string | null>();
    const nodes = new Set<string>();
    const calls: { call: StartedCall; synced: ApiResponse }[] = [];
    // nginx takes its backends in turn over all its traffic, the agents' own requests included (their key
    // requests, their job processes' prewarm): in step with those, every sync can land on one backend.
    // While they have, a request of the test's own before the next sync moves the turn on (4 calls, or
    // up to 8 until both backends had one).
    for (let i = 0; i < 4 || (upstreams.size < 2 && i < 8); i += 1) {
      if (i > 0 && upstreams.size < 2) await viaProxy().api('GET', '/health');
      const call = await announceCall(s(), alice, { callType: 'audio' });
      const synced = await syncCall(viaProxy(), alice, call);
      assert.equal(synced.status, 200, JSON.stringify(synced.body));
      assert.equal(synced.body.call.status, 'active');
      upstreams.add(synced.headers.get('x-upstream'));
      nodes.add(synced.body.livekit.url);
      calls.push({ call, synced });
    }
    assert.equal(upstreams.size, 2, `the syncs landed on both backends (${[...upstreams].join(', ')})`);
    assert.equal(nodes.size, 2, 'the people joined through both LiveKit nodes');
    const [takenBy] = await Promise.all([
      Promise.all(calls.map(({ call }) => workerOf(call))),
      Promise.all(calls.map(({ call, synced }, i) => hearEcho(call, synced, 700 + 150 * i))),
    ]);
    // LiveKit picks between two idle workers at random (their load reports come every 2.5 s): four calls
    // all go to one of them one time in eight. More calls (set up, taken, ended) until both have one.
    while (new Set(takenBy).size < 2 && takenBy.length < 10) {
      const extra = await announceCall(s(), alice, { callType: 'audio' });
      const extraSynced = await syncCall(viaProxy(), alice, extra);
      assert.equal(extraSynced.status, 200, JSON.stringify(extraSynced.body));
      takenBy.push(await workerOf(extra));
      await viaProxy().api('POST', callPath(extra.callId, 'update'), { session: alice.session, body: { status: 'ended' } });
    }
    t.diagnostic(`calls taken by worker: ${takenBy.join(' ')}`);
    assert.deepEqual([...new Set(takenBy)].sort(), [0, 1], 'LiveKit gave calls to both workers');

    for (const { call } of calls) {
      const key = await viaProxy().api('GET', callPath(call.callId, 'key'), { apiKey: AGENT_API_KEY });
      assert.equal(key.status, 200, JSON.stringify(key.body));
      assert.equal(decryptCallKey(key.body.encryptionKey, s().oracleKeys.privateKey), call.callKey);
      const ended = await viaProxy().api('POST', callPath(call.callId, 'update'), { session: alice.session, body: { status: 'ended' } });
      assert.equal(ended.status, 200, JSON.stringify(ended.body));
    }
    const rows = await callRows(c().databaseUrl);
    for (const { call } of calls) assert.equal(rows.get(call.callId)?.status, 'ended');
    // Disconnected, not disposed: the FFI of rtc-node is disposed once, after the last test.
    await Promise.all(rooms.splice(0).map((room) => room.disconnect()));
  });

  it('serves the built element through nginx from both backends: the pinned entry matching its SRI hash, compressed, cached for good; the widget page under its policy', async () => {
    await buildPages({ reuse: true });
    const { entry, files } = JSON.parse(readFileSync(path.join(DIST, 'integrity.json'), 'utf8')) as ReleaseManifest;
    // The largest of the element's chunks (LiveKit's), which the build compressed.
    const [largest] = Object.keys(files)
      .filter((file) => file.startsWith('assets/') && file.endsWith('.js'))
      .sort((a, b) => statSync(path.join(DIST, b)).size - statSync(path.join(DIST, a)).size);
    const upstreams = new Set<string>();
    for (let i = 0; i < 4; i += 1) {
      const pinned = await fetch(`${c().proxy.url}/${entry}`);
      assert.equal(pinned.status, 200);
      assert.match(pinned.headers.get('content-type') ?? '', /javascript/);
      assert.equal(pinned.headers.get('cache-control'), 'max-age=31536000,immutable');
      assert.equal(integrityOf(Buffer.from(await pinned.arrayBuffer())), files[entry], 'the bytes match the SRI hash the build printed');
      const chunk = await fetch(`${c().proxy.url}/${largest}`, { headers: { 'accept-encoding': 'br' } });
      assert.equal(chunk.headers.get('content-encoding'), 'br');
      // fetch decodes Brotli: the bytes are the file's, as the browser's SRI check would see them.
      assert.equal(integrityOf(Buffer.from(await chunk.arrayBuffer())), files[largest!]);
      upstreams.add(pinned.headers.get('x-upstream') ?? '');
    }
    const page = await fetch(`${c().proxy.url}/widget/page/index.html`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'; worker-src 'self';/);
  });

  it("counts limits per client address, read from nginx's X-Forwarded-For: a flood from one address is refused, another address is not", async () => {
    const url = `${c().proxy.url}/auth/matrix-openid`;
    const statuses: number[] = [];
    for (let i = 0; i < 16; i += 1) {
      // The flooding client writes X-Forwarded-For entries of its own; nginx appends the address it saw.
      const answer = await requestFrom(
        '127.0.0.2',
        url,
        'POST',
        { access_token: `junk${i}`, matrix_server_name: 'localhost' },
        { 'x-forwarded-for': `198.51.100.${i}` },
      );
      statuses.push(answer.status);
      if (answer.status === 429) assert.equal(answer.body.error.code, 'rate_limited');
    }
    // Each backend allows 5 a minute per address (counted on each backend or shared: the flood outlasts both).
    assert.deepEqual(statuses.slice(-4), [429, 429, 429, 429], `the flood from 127.0.0.2 is refused on both backends (${statuses.join(' ')})`);

    const account = await s().newUser('judy');
    const openId = await account.matrix.openIdToken();
    const other = await requestFrom('127.0.0.3', url, 'POST', openId);
    assert.equal(other.status, 200, `a client at another address signs in during the flood: ${JSON.stringify(other.body)}`);
  });

  it('kill -9 of one agent worker and its job processes: its call ends as oracle_left when LiveKit notices, the person is disconnected; new calls go to the other worker', async (t) => {
    const call = await announceCall(s(), alice, { callType: 'audio' });
    const synced = await syncCall(viaProxy(), alice, call);
    assert.equal(synced.status, 200, JSON.stringify(synced.body));
    const taken = workerOf(call);
    await hearEcho(call, synced, 1100);
    const dead = await taken;
    const room = rooms.at(-1)!;
    const disconnected = new Promise<number>((resolve) => room.once('disconnected', () => resolve(Date.now())));

    const killedAt = Date.now();
    await c().workers[dead]!.killAll();
    // LiveKit waits for a vanished participant to come back (about 20 s) before it says it left.
    const row = await waitFor(
      'the call to end',
      async () => {
        const found = (await callRows(c().databaseUrl)).get(call.callId);
        return found?.status === 'ended' ? found : undefined;
      },
      60_000,
    );
    const endedAfter = Date.now() - killedAt;
    assert.equal(row.endReason, 'oracle_left', 'the call ended because the oracle was gone');
    const disconnectedAfter =
      (await Promise.race([
        disconnected,
        new Promise<number>((_, reject) => setTimeout(() => reject(new Error('the person was never disconnected')), 15_000)),
      ])) - killedAt;
    t.diagnostic(`worker killed: the call ended (oracle_left) after ${endedAfter} ms, the person was disconnected after ${disconnectedAfter} ms`);

    // The surviving worker takes the new calls, placed on either node.
    for (let i = 0; i < 2; i += 1) {
      const next = await announceCall(s(), alice, { callType: 'audio' });
      const nextSynced = await syncCall(viaProxy(), alice, next);
      assert.equal(nextSynced.status, 200, JSON.stringify(nextSynced.body));
      // The survivor may first start a job process (its warm one went to the call before): allow it time on a busy machine.
      const [by] = await Promise.all([workerOf(next, 60_000), hearEcho(next, nextSynced, 1250 + 150 * i)]);
      assert.equal(by, 1 - dead, 'the surviving worker took the call');
    }
  });
  it('kill -9 of one backend in a burst of syncs and ends: every request answered 2xx is in the database, and the survivor serves new calls', async (t) => {
    const calls: StartedCall[] = [];
    for (let i = 0; i < 12; i += 1) calls.push(await announceCall(s(), alice, { callType: 'audio' }));
    const answered: { call: StartedCall; step: 'sync' | 'end'; status: number }[] = [];
    // The second backend dies once a few answers are in: the rest of the burst is on its way.
    const killed = waitFor('the burst to be under way', async () => (answered.length >= 6 ? true : undefined), 60_000).then(() => c().backendB.kill('SIGKILL'));
    await Promise.all(
      calls.map(async (call) => {
        const synced = await syncCall(viaProxy(), alice, call).catch(() => undefined);
        answered.push({ call, step: 'sync', status: synced?.status ?? 0 });
        if (synced?.status !== 200) return;
        const ended = await viaProxy()
          .api('POST', callPath(call.callId, 'update'), { session: alice.session, body: { status: 'ended' } })
          .catch(() => undefined);
        answered.push({ call, step: 'end', status: ended?.status ?? 0 });
      }),
    );
    await killed;
    assert.equal(c().backendB.running(), false, 'the second backend was killed');

    const rows = await callRows(c().databaseUrl);
    const ok = answered.filter((answer) => answer.status >= 200 && answer.status < 300);
    assert.ok(ok.length > 0, 'the survivor answered during the burst');
    t.diagnostic(`burst: ${answered.length} answers, ${ok.length} 2xx, ${answered.filter((a) => a.status === 502).length} 502 (the killed backend had them)`);
    for (const { call, step } of ok) {
      const row = rows.get(call.callId);
      assert.ok(row, `${call.callId}: its ${step} was answered 2xx, and the call is in the database`);
      if (step === 'end') assert.equal(row.status, 'ended', `${call.callId}: its end was answered 2xx, and the database says ended`);
      else assert.ok(['active', 'ended'].includes(row.status), `${call.callId}: its sync was answered 2xx (${row.status})`);
    }
    for (const { status } of answered) assert.ok(status === 0 || (status >= 200 && status < 300) || status === 502, `an answer is 2xx or 502 (${status})`);

    // New calls go to the survivor: nginx skips the dead backend (refused before anything was sent).
    for (let i = 0; i < 3; i += 1) {
      const call = await announceCall(s(), alice, { callType: 'audio' });
      const synced = await syncCall(viaProxy(), alice, call);
      assert.equal(synced.status, 200, JSON.stringify(synced.body));
      // X-Upstream lists every backend nginx tried; the last one answered.
      assert.equal(synced.headers.get('x-upstream')?.split(', ').at(-1), new URL(s().backend.url).host, 'the survivor answered');
      const ended = await viaProxy().api('POST', callPath(call.callId, 'update'), { session: alice.session, body: { status: 'ended' } });
      assert.equal(ended.status, 200);
    }
  });
});
