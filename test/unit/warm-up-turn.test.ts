import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import {
  MAX_SETUP_MS,
  WARM_PROCESSES_VARIABLE,
  clearSetup,
  markSetup,
  removeOrphanedSetupsFolders,
  removeSetupsFolder,
  setupsFolder,
  setupsInProgress,
  waitForTurn,
  warmProcessesKept,
} from '../../agent/warm-up-turn.ts';

describe('a call being set up goes before warming the next job process', () => {
  let root: string;
  let folder: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'warm-up-turn-'));
    folder = path.join(root, 'setups');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it("is the worker's own folder, found by its job processes through their parent's process ID", () => {
    assert.equal(setupsFolder(4242), path.join(tmpdir(), 'oracle-call-agent-setups-4242'));
    assert.notEqual(setupsFolder(4242), setupsFolder(4243));
  });

  it('a start waits for nothing when no call is being set up (no folder, or an empty one)', async () => {
    assert.equal(setupsInProgress(folder), 0);
    assert.ok((await waitForTurn(folder)) < 100);
    markSetup('AJ_one', folder);
    clearSetup('AJ_one', folder);
    assert.equal(setupsInProgress(folder), 0);
    assert.ok((await waitForTurn(folder)) < 100);
  });

  it('a start waits while a call is being set up, and goes once its set-up is over', async () => {
    markSetup('AJ_one', folder);
    markSetup('AJ_two', folder);
    assert.equal(setupsInProgress(folder), 2);
    setTimeout(() => clearSetup('AJ_one', folder), 150);
    setTimeout(() => clearSetup('AJ_two', folder), 300);
    const waited = await waitForTurn(folder);
    assert.ok(waited >= 280 && waited < 1500, `waited ${waited} ms for the two set-ups (cleared after 150 and 300 ms)`);
  });

  it('a start does not wait when more calls are being set up than warm processes are kept: one of them waits for it', async () => {
    markSetup('AJ_one', folder);
    const held = waitForTurn(folder, MAX_SETUP_MS, 1);
    setTimeout(() => markSetup('AJ_two', folder), 100);
    const waited = await held;
    assert.ok(waited >= 90 && waited < 1000, `waited ${waited} ms: until the second call, which found no warm process`);
    assert.ok((await waitForTurn(folder, MAX_SETUP_MS, 2)) >= MAX_SETUP_MS - 10, 'two warm processes kept: both calls found one');
  });

  it('reads how many warm processes its worker keeps; none said, no bound', () => {
    assert.equal(warmProcessesKept({ [WARM_PROCESSES_VARIABLE]: '4' }), 4);
    assert.equal(warmProcessesKept({}), Number.POSITIVE_INFINITY);
    for (const bad of ['0', '-1', '1.5', 'four', '']) assert.equal(warmProcessesKept({ [WARM_PROCESSES_VARIABLE]: bad }), Number.POSITIVE_INFINITY, bad);
  });

  it('a start waits no longer than its bound, whatever the marks', async () => {
    markSetup('AJ_stuck', folder);
    const waited = await waitForTurn(folder, 200);
    assert.ok(waited >= 190 && waited < 1000, `waited ${waited} ms with a bound of 200`);
    assert.ok((await waitForTurn(folder, 0)) < 50);
  });

  it('a mark older than a set-up can take (a crashed job process, a job never assigned) no longer counts, and is dropped at the next mark', async () => {
    markSetup('AJ_crashed', folder);
    const old = (Date.now() - MAX_SETUP_MS - 1000) / 1000;
    utimesSync(path.join(folder, 'job-AJ_crashed'), old, old);
    assert.equal(setupsInProgress(folder), 0);
    assert.ok((await waitForTurn(folder)) < 100);
    markSetup('AJ_next', folder);
    assert.deepEqual(readdirSync(folder), ['job-AJ_next']);
  });

  it('a job ID is a file name inside the folder, whatever it holds', () => {
    for (const id of ['../../escape', '..', '.']) markSetup(id, folder);
    assert.deepEqual(readdirSync(folder).sort(), ['job-.', 'job-..', `job-${encodeURIComponent('../../escape')}`]);
    assert.equal(existsSync(path.join(root, 'escape')), false);
    for (const id of ['../../escape', '..', '.']) clearSetup(id, folder);
    assert.deepEqual(readdirSync(folder), []);
    assert.ok(existsSync(root));
  });

  it('a worker at its start removes the folders of workers that are gone, not of those alive', () => {
    const gone = setupsFolder(2 ** 22 + 12_345, root); // above Linux's largest process ID
    const living = setupsFolder(process.ppid, root);
    const other = path.join(root, 'something-else-1');
    for (const f of [gone, living, other]) markSetup('AJ_one', f);
    removeOrphanedSetupsFolders(root);
    assert.equal(existsSync(gone), false);
    assert.ok(existsSync(living));
    assert.ok(existsSync(other));
  });

  it("another user's folder (the names are predictable) is neither read, written nor removed", async (t) => {
    markSetup('AJ_one', folder);
    const me = process.getuid!();
    t.mock.method(process as { getuid(): number }, 'getuid', () => me + 1);
    assert.equal(setupsInProgress(folder), 0);
    assert.ok((await waitForTurn(folder)) < 100);
    assert.throws(() => markSetup('AJ_two', folder), /belongs to another user/);
    removeSetupsFolder(folder);
    assert.ok(existsSync(folder));
  });

  it("the worker's folder goes when it exits", () => {
    markSetup('AJ_one', folder);
    removeSetupsFolder(folder);
    assert.equal(existsSync(folder), false);
    clearSetup('AJ_one', folder); // a job process clearing after that: nothing to do, no error
  });
});
