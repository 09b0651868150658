import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import * as z from '../../protocol/schema.ts';

const ENGLISH = 'Invalid input: expected string, received number';

/** The message of a refusal in a fresh process that has imported `module` (zod's messages are global). */
function refusalAfterImporting(module: string): string {
  const script = `await import(${JSON.stringify(new URL(module, import.meta.url).href)});
const z = await import(${JSON.stringify(new URL('../../protocol/schema.ts', import.meta.url).href)});
process.stdout.write(z.string().safeParse(42).error.issues[0].message);`;
  return execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
}

describe("zod's messages for the protocol's schemas", () => {
  it('are not loaded by the protocol itself (the element leaves them out)', () => {
    assert.equal(z.string().safeParse(42).error?.issues[0]?.message, 'Invalid input');
  });

  it("are English on the server (an API client's refusal) and in the agent's key hand-off", () => {
    assert.equal(refusalAfterImporting('../../server/app.ts'), ENGLISH);
    assert.equal(refusalAfterImporting('../../agent/key-handoff.ts'), ENGLISH);
  });
});
