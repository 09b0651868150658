import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseOracleEndReason, parseOracleState } from '../../protocol/index.ts';
import { TRANSCRIPT_LIMIT, upsertEntry } from '../../widget/conversation.ts';

describe('the transcript', () => {
  it("adds entries, replaces an entry by id where it stands, and marks the echo oracle's echoes", () => {
    let transcript = upsertEntry([], { id: 'a', speaker: 'you', text: 'Hello', final: true });
    transcript = upsertEntry(transcript, { id: 'b', speaker: 'oracle', text: 'You', final: false });
    transcript = upsertEntry(transcript, { id: 'c', speaker: 'oracle', text: '(echo)', final: true });
    transcript = upsertEntry(transcript, { id: 'b', speaker: 'oracle', text: 'You asked', final: true });
    assert.deepEqual(
      transcript.map((e) => [e.id, e.text, e.final]),
      [
        ['a', 'Hello', true],
        ['b', 'You asked', true],
        ['c', '(echo)', true],
      ],
    );
    assert.equal(transcript[2]!.echo, true);
    assert.equal(transcript[1]!.echo, undefined);
    assert.equal(upsertEntry([], { id: 'x', speaker: 'you', text: '(echo)', final: true })[0]!.echo, undefined, 'only the oracle echoes');
  });

  it('keeps the latest entries of a long call', () => {
    let transcript: ReturnType<typeof upsertEntry> = [];
    for (let i = 0; i < TRANSCRIPT_LIMIT + 5; i += 1) transcript = upsertEntry(transcript, { id: `s${i}`, speaker: 'you', text: `${i}`, final: true });
    assert.equal(transcript.length, TRANSCRIPT_LIMIT);
    assert.equal(transcript[0]!.id, 's5');
  });
});

describe('what the oracle says in the room', () => {
  it("reads the framework's states; its other states read as listening", () => {
    assert.equal(parseOracleState('thinking'), 'thinking');
    assert.equal(parseOracleState('initializing'), 'listening');
    assert.equal(parseOracleState(undefined), undefined);
    assert.equal(parseOracleEndReason('cannot-hear'), 'cannot-hear');
    assert.equal(parseOracleEndReason('anything'), undefined);
  });
});
