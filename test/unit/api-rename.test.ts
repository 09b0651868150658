/**
 * A type-level test of the API contract: a field renamed in an answer schema (`protocol/api/schemas.ts`)
 * must break the compile of every part that produces or reads that answer, so no renamed field can
 * slip through to the slow end-to-end tests.
 *
 * How it proves it: it copies `protocol/`, `server/`, `widget/` and `agent/` into a temporary folder
 * (with the project's compiler settings and `node_modules`), checks that the copy type-checks, then,
 * one case at a time, renames one field in the copy's schemas and runs the type checker again. Each
 * case names the parts that must now fail (an error in a file of that folder) — for the oracle's DID,
 * carried by the oracle, call and key answers, the server, the element's client and the agent's client
 * alike.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { tempDir } from '../../scripts/stack/temp-dir.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SCHEMAS = 'protocol/api/schemas.ts';
const PARTS = ['protocol', 'server', 'widget', 'agent'] as const;
type Part = (typeof PARTS)[number];

const run = promisify(execFile);

/** A copy of the four parts that type-checks on its own; `check()` answers the parts with errors. */
function copyOfTheTree(): { schemas: string; check: () => Promise<{ parts: Set<Part>; output: string }> } {
  const dir = tempDir('oracle-call-rename-');
  for (const part of PARTS) cpSync(path.join(ROOT, part), path.join(dir, part), { recursive: true });
  symlinkSync(realpathSync(path.join(ROOT, 'node_modules')), path.join(dir, 'node_modules'), 'dir');
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
  // Each part is checked with its own settings (the part's tsconfig.json extends these).
  for (const config of ['tsconfig.base.json', 'tsconfig.browser.json', 'tsconfig.node.json']) cpSync(path.join(ROOT, config), path.join(dir, config));
  const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
  return {
    schemas: path.join(dir, SCHEMAS),
    async check() {
      const outputs = await Promise.all(
        PARTS.map((part) =>
          run(process.execPath, [tsc, '-p', path.join(dir, part), '--pretty', 'false'], { cwd: dir }).then(
            ({ stdout }) => stdout,
            (error: { stdout?: string }) => error.stdout ?? String(error),
          ),
        ),
      );
      const output = outputs.join('\n');
      const parts = new Set<Part>();
      for (const line of output.split('\n')) {
        const part = PARTS.find((p) => line.startsWith(`${p}/`));
        if (part && line.includes('error TS')) parts.add(part);
      }
      return { parts, output };
    },
  };
}

/** Renames: the text in the schemas file, what it becomes, and the parts that must no longer compile. */
const CASES: { name: string; from: string; to: string; breaks: Part[] }[] = [
  {
    name: 'oracleDid (the oracle, call and key answers)',
    from: 'const oracleFields = { oracleDid: z.string().check(z.minLength(1)) };',
    to: 'const oracleFields = { oracleId: z.string().check(z.minLength(1)) };',
    breaks: ['server', 'widget', 'agent'],
  },
  {
    name: 'userId of the key answer',
    from: '  userId: apiCall.shape.userId,\n});\nexport type KeyAnswer',
    to: '  matrixUserId: apiCall.shape.userId,\n});\nexport type KeyAnswer',
    breaks: ['server', 'agent'],
  },
  {
    name: 'livekit.token of the sync answer',
    from: 'livekit: z.object({ url: z.string().check(z.minLength(1)), token: z.string().check(z.minLength(1)) }),',
    to: 'livekit: z.object({ url: z.string().check(z.minLength(1)), jwt: z.string().check(z.minLength(1)) }),',
    breaks: ['server', 'widget'],
  },
  {
    name: 'token of the session answer',
    from: 'export const sessionAnswer = z.object({\n  token:',
    to: 'export const sessionAnswer = z.object({\n  sessionToken:',
    breaks: ['server', 'widget'],
  },
];

describe('a field renamed in an answer schema breaks every side that uses it (type-level)', () => {
  it('the copy of the tree type-checks as it is, and each rename fails where it must', { timeout: 240_000 }, async () => {
    const tree = copyOfTheTree();
    const original = readFileSync(tree.schemas, 'utf8');
    const clean = await tree.check();
    assert.equal(clean.parts.size, 0, `the unchanged copy type-checks:\n${clean.output}`);
    for (const c of CASES) {
      assert.ok(original.includes(c.from), `${c.name}: the schemas file still has ${JSON.stringify(c.from)}`);
      writeFileSync(tree.schemas, original.replace(c.from, c.to));
      const { parts, output } = await tree.check();
      for (const part of c.breaks) assert.ok(parts.has(part), `${c.name}: ${part}/ must fail to compile; the errors were:\n${output}`);
    }
    writeFileSync(tree.schemas, original);
  });
});
