import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CoalescedReads } from '../../server/store/coalesced-reads.ts';

/** A fetch that records each batch and answers when told to. */
function controlledFetch() {
  const batches: { keys: string[]; answer: (found: Map<string, string>) => void; fail: (error: Error) => void }[] = [];
  const fetch = (keys: string[]) =>
    new Promise<Map<string, string>>((resolve, reject) => {
      batches.push({ keys, answer: resolve, fail: reject });
    });
  return { batches, fetch };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('CoalescedReads', () => {
  it('shares one query among the reads asked for together, each key once', async () => {
    const { batches, fetch } = controlledFetch();
    const reads = new CoalescedReads(fetch);
    const answers = Promise.all([reads.read('a'), reads.read('b'), reads.read('a')]);
    await tick();
    assert.deepEqual(
      batches.map((b) => b.keys),
      [['a', 'b']],
    );
    batches[0]!.answer(new Map([['a', 'A']]));
    assert.deepEqual(await answers, ['A', undefined, 'A'], 'a key the fetch left out reads as undefined');
  });

  it('never answers a read from a query sent before it was asked for: it waits for the next one', async () => {
    const { batches, fetch } = controlledFetch();
    const reads = new CoalescedReads(fetch);
    const first = reads.read('a');
    await tick();
    const second = reads.read('a'); // asked for while the first query is on its way
    const third = reads.read('b');
    await tick();
    assert.equal(batches.length, 1, 'one query at a time');
    batches[0]!.answer(new Map([['a', 'old']]));
    assert.equal(await first, 'old');
    await tick();
    assert.deepEqual(batches[1]!.keys, ['a', 'b'], 'the reads that arrived meanwhile share the next query');
    batches[1]!.answer(
      new Map([
        ['a', 'new'],
        ['b', 'B'],
      ]),
    );
    assert.deepEqual(await Promise.all([second, third]), ['new', 'B']);
  });

  it('fails every read of a failed query, and goes on with the next', async () => {
    const { batches, fetch } = controlledFetch();
    const reads = new CoalescedReads(fetch);
    const failing = reads.read('a');
    await tick();
    batches[0]!.fail(new Error('database down'));
    await assert.rejects(failing, /database down/);
    const next = reads.read('a');
    await tick();
    batches[1]!.answer(new Map([['a', 'A']]));
    assert.equal(await next, 'A');
  });
});

describe('CoalescedReads with several queries in flight', () => {
  it('sends a new batch while another is on its way, up to the limit, then waits for a free one', async () => {
    const { batches, fetch } = controlledFetch();
    const reads = new CoalescedReads(fetch, 2);
    const a = reads.read('a');
    await tick();
    const b = reads.read('b');
    await tick();
    const c = reads.read('c');
    const d = reads.read('d');
    await tick();
    assert.deepEqual(
      batches.map((batch) => batch.keys),
      [['a'], ['b']],
      'two on their way; the third batch waits',
    );
    batches[0]!.answer(new Map([['a', 'A']]));
    assert.equal(await a, 'A');
    await tick();
    assert.deepEqual(batches[2]!.keys, ['c', 'd'], 'sent once a query is free, with every read that waited');
    batches[1]!.answer(new Map([['b', 'B']]));
    batches[2]!.answer(new Map([['c', 'C']]));
    assert.deepEqual(await Promise.all([b, c, d]), ['B', 'C', undefined]);
  });
});
