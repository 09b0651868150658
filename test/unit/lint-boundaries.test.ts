/**
 * The lint step of `npm test` (`npm run lint`, Biome with biome.jsonc) keeps the parts apart: files
 * that import across a boundary are linted in a scratch copy of the project's layout, with the
 * project's own configuration and the lint script's own command, and must fail it; allowed imports pass.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../scripts/services/paths.ts';
import { tempDir } from '../../scripts/stack/temp-dir.ts';

const run = promisify(execFile);

interface Finding {
  readonly file: string;
  readonly rule: string;
}

/** Lints `files` (path → source) laid out as in the project; answers the exit code and the errors by file. */
async function lint(files: Record<string, string>): Promise<{ code: number; findings: Finding[]; output: string }> {
  const root = tempDir('oracle-call-lint-');
  await copyFile(path.join(PROJECT_ROOT, 'biome.jsonc'), path.join(root, 'biome.jsonc'));
  await writeFile(path.join(root, '.gitignore'), 'node_modules/\n');
  for (const [file, source] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await writeFile(path.join(root, file), source);
  }
  const pkg = JSON.parse(await readFile(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const [command, ...args] = pkg.scripts.lint!.split(' ');
  assert.equal(command, 'biome');
  const biome = path.join(PROJECT_ROOT, 'node_modules/.bin/biome');
  const { code, stdout, stderr } = await run(biome, [...args, '--reporter=json', '--max-diagnostics=none'], { cwd: root }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
  const report = JSON.parse(stdout) as { diagnostics: { category: string; severity: string; location: { path: string } }[] };
  const findings = report.diagnostics.filter((d) => d.severity === 'error').map((d) => ({ file: d.location.path, rule: d.category }));
  return { code, findings, output: stdout + stderr };
}

const uses = (specifier: string) => `import { thing } from '${specifier}';\nexport const used = thing;\n`;

describe('the lint step keeps the parts apart', () => {
  const refused: Record<string, [string, string]> = {
    'server/a.ts': ['../widget/state.ts', 'lint/style/noRestrictedImports'],
    'server/routes/a.ts': ['../../widget/backend-client.ts', 'lint/style/noRestrictedImports'],
    'server/b.ts': ['../agent/config.ts', 'lint/style/noRestrictedImports'],
    'server/c.ts': ['../test/helpers/backend.ts', 'lint/style/noRestrictedImports'],
    'widget/a.ts': ['../server/errors.ts', 'lint/style/noRestrictedImports'],
    'widget/page/a.ts': ['../../agent/brain.ts', 'lint/style/noRestrictedImports'],
    'widget/b.ts': ['node:fs', 'lint/correctness/noNodejsModules'],
    'agent/a.ts': ['../server/config.ts', 'lint/style/noRestrictedImports'],
    'agent/brains/a.ts': ['../../widget/state.ts', 'lint/style/noRestrictedImports'],
    'protocol/a.ts': ['../server/config.ts', 'lint/style/noRestrictedImports'],
    'protocol/b.ts': ['../widget/state.ts', 'lint/style/noRestrictedImports'],
    'protocol/c.ts': ['../test/helpers/wait.ts', 'lint/style/noRestrictedImports'],
    'protocol/d.ts': ['node:crypto', 'lint/correctness/noNodejsModules'],
    'demo/a.ts': ['../server/app.ts', 'lint/style/noRestrictedImports'],
    'demo/b.ts': ['node:path', 'lint/correctness/noNodejsModules'],
  };
  const refusedRun = lint(Object.fromEntries(Object.entries(refused).map(([file, [specifier]]) => [file, uses(specifier)])));

  it('fails the lint step when one part imports another', async () => {
    const { code, output } = await refusedRun;
    assert.notEqual(code, 0, output);
  });

  for (const [file, [specifier, rule]] of Object.entries(refused)) {
    it(`refuses ${file} importing ${specifier}`, async () => {
      const { findings, output } = await refusedRun;
      assert.deepEqual(
        findings.filter((f) => f.file === file),
        [{ file, rule }],
        output,
      );
    });
  }

  it('refuses a type-only import, a re-export and a dynamic import across a boundary alike', async () => {
    const { code, findings, output } = await lint({
      'server/a.ts': "import type { Thing } from '../widget/state.ts';\nexport type Used = Thing;\n",
      'server/b.ts': "export { thing } from '../agent/config.ts';\n",
      'widget/c.ts': "export const later = () => import('../server/app.ts');\n",
    });
    assert.notEqual(code, 0, output);
    assert.deepEqual(
      findings.map((f) => f.rule),
      Array(3).fill('lint/style/noRestrictedImports'),
      output,
    );
  });

  it('passes what the parts may import: protocol/ everywhere, the element in demo/, Node in server/ and agent/, packages', async () => {
    const { code, findings, output } = await lint({
      'server/x.ts': uses('../protocol/index.ts'),
      'server/routes/x.ts': `${uses('../../protocol/call-id.ts')}import { readFile } from 'node:fs/promises';\nexport const read = readFile;\n`,
      'server/matrix/x.ts': uses('./client.ts'),
      'widget/x.ts': `${uses('../protocol/index.ts')}import { LitElement } from 'lit';\nexport const base = LitElement;\n`,
      'widget/page/x.ts': uses('../oracle-call.ts'),
      'agent/brains/x.ts': uses('../../protocol/ecies.ts'),
      'demo/x.ts': uses('../widget/index.ts'),
      'protocol/x.ts': uses('./call-id.ts'),
      'test/x.ts': uses('../server/app.ts'),
      'bench/x.ts': uses('../widget/state.ts'),
    });
    assert.equal(code, 0, output);
    assert.deepEqual(findings, []);
  });
});
