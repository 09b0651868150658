import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import type { Log } from '../../agent/oracle-brain.ts';
import { privateLogger, withoutPii } from '../../agent/private-logs.ts';

function capture(keepAtDebug: boolean) {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  const logger = privateLogger(pino({ level: 'trace' }, stream) as unknown as Log, keepAtDebug);
  return { logger, lines };
}

describe("conversation text stays out of the agent's logs", () => {
  it('drops every lk.pii.* field, keeping the rest of the record', () => {
    assert.deepEqual(withoutPii({ 'lk.pii.message': 'hello', speech_id: 'x' }), { speech_id: 'x', redacted: 'conversation text' });
    const clean = { a: 1 };
    assert.equal(withoutPii(clean), clean);
    assert.equal(withoutPii('just a message'), 'just a message');
  });

  it('by default, at every level and in child loggers (as the framework makes them)', () => {
    const { logger, lines } = capture(false);
    logger.info({ 'lk.pii.new_transcript': 'my secret words' }, 'starting preemptive generation');
    logger.child({ speech: 1 }).debug({ 'lk.pii.user_transcript': 'my secret words' }, 'received user transcript');
    logger.child({}).child({}).error({ 'lk.pii.error': 'my secret words', code: 3 }, 'failed');
    assert.equal(lines.length, 3);
    assert.ok(!JSON.stringify(lines).includes('my secret words'));
    assert.equal(lines[2]!.code, 3);
    assert.equal(lines[1]!.speech, 1);
  });

  it('with AGENT_LOG_CONVERSATION=true: kept in debug and trace records, never above', () => {
    const { logger, lines } = capture(true);
    logger.child({}).debug({ 'lk.pii.user_transcript': 'words at debug' }, 'x');
    logger.trace({ 'lk.pii.user_transcript': 'words at trace' }, 'x');
    logger.info({ 'lk.pii.message': 'words at info' }, 'x');
    logger.warn({ 'lk.pii.message': 'words at warn' }, 'x');
    const text = JSON.stringify(lines);
    assert.ok(text.includes('words at debug') && text.includes('words at trace'));
    assert.ok(!text.includes('words at info') && !text.includes('words at warn'));
  });
});
