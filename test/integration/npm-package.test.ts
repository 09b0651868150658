/**
 * The package as another project gets it: `npm pack` of the real build, unpacked into a consumer's
 * node_modules. The consumer's TypeScript (strict, no project settings of ours) types the element from
 * the package's declarations, and the consumer's own Vite build bundles `import 'oracle-call'` with
 * the element's lazy chunks and its E2EE worker, so the worker comes from the site's own origin.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildPages } from '../../scripts/services/demo-server.ts';
import { PROJECT_ROOT } from '../../scripts/services/paths.ts';

// Inside the project (git-ignored), so the consumer resolves the package's own dependencies (lit,
// livekit-client) from the project's node_modules, as an installed package would from the site's.
const CONSUMER = path.join(PROJECT_ROOT, '.cache', `npm-package-consumer-${process.pid}`);
const BIN = path.join(PROJECT_ROOT, 'node_modules', '.bin');

describe('the npm package', () => {
  let files: string[];
  before(async () => {
    await buildPages({ reuse: true });
    execFileSync(path.join(BIN, 'tsc'), ['-p', 'tsconfig.types.json'], { cwd: PROJECT_ROOT });
    mkdirSync(path.join(CONSUMER, 'node_modules'), { recursive: true });
    const [packed] = JSON.parse(
      execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', CONSUMER], { cwd: PROJECT_ROOT, encoding: 'utf8' }),
    ) as { filename: string; files: { path: string }[] }[];
    files = packed!.files.map((file) => file.path);
    mkdirSync(path.join(CONSUMER, 'node_modules/oracle-call'));
    execFileSync('tar', ['-xzf', path.join(CONSUMER, packed!.filename), '-C', path.join(CONSUMER, 'node_modules/oracle-call'), '--strip-components=1']);
  });
  after(() => rmSync(CONSUMER, { recursive: true, force: true }));

  it('holds the element, its chunks, the worker, the widget page, the types and the backend, but no demo wasm or source maps', () => {
    for (const wanted of [
      'dist/oracle-call.js',
      'dist/integrity.json',
      'dist/widget/page/index.html',
      'dist/types/widget/bundle-entry.d.ts',
      'server/main.ts',
      'bin/oracle-call.js',
    ]) {
      assert.ok(files.includes(wanted), wanted);
    }
    assert.ok(
      files.some((file) => /^dist\/oracle-call-[\w-]{10}\.js$/.test(file)),
      'the content-hashed entry',
    );
    assert.ok(
      files.some((file) => /^dist\/assets\/livekit-client\.e2ee\.worker-.*\.js$/.test(file)),
      'the E2EE worker',
    );
    assert.deepEqual(
      files.filter((file) => /\.(map|wasm)$/.test(file) || file.startsWith('test/') || file.startsWith('dist/demo/')),
      [],
    );
  });

  it("types the element for a consumer's strict TypeScript", () => {
    writeFileSync(
      path.join(CONSUMER, 'main.ts'),
      [
        "import { CallErrorReason, OracleCall } from 'oracle-call';",
        "import type { OracleCallStateDetail } from 'oracle-call';",
        "const element: OracleCall = document.createElement('oracle-call');",
        "element.setAttribute('backend-url', 'https://oracle.example');",
        "element.addEventListener('oracle-call-state', (event) => console.log((event as CustomEvent<OracleCallStateDetail>).detail));",
        'console.log(element instanceof OracleCall, CallErrorReason.OracleBusy);',
        '',
      ].join('\n'),
    );
    writeFileSync(
      path.join(CONSUMER, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'ESNext',
          moduleResolution: 'bundler',
          strict: true,
          lib: ['ES2023', 'DOM', 'DOM.Iterable'],
          noEmit: true,
          types: [],
        },
        files: ['main.ts'],
      }),
    );
    execFileSync(path.join(BIN, 'tsc'), ['-p', 'tsconfig.json'], { cwd: CONSUMER, encoding: 'utf8' });
    // The check has teeth: a wrong use of the element's types fails.
    writeFileSync(path.join(CONSUMER, 'wrong.ts'), "import { OracleCall } from 'oracle-call';\nconst wrong: OracleCall = document.createElement('div');\n");
    writeFileSync(path.join(CONSUMER, 'tsconfig.wrong.json'), readFileSync(path.join(CONSUMER, 'tsconfig.json'), 'utf8').replace('main.ts', 'wrong.ts'));
    assert.throws(() => execFileSync(path.join(BIN, 'tsc'), ['-p', 'tsconfig.wrong.json'], { cwd: CONSUMER, encoding: 'utf8', stdio: 'pipe' }));
  });

  it("bundles with the consumer's Vite: the element, its lazy chunks and its E2EE worker on the site's own origin", async () => {
    writeFileSync(path.join(CONSUMER, 'index.html'), '<!doctype html><oracle-call></oracle-call><script type="module" src="./main.ts"></script>\n');
    const { build } = await import('vite');
    await build({ root: CONSUMER, logLevel: 'silent', configFile: false, build: { outDir: path.join(CONSUMER, 'out'), emptyOutDir: true } });
    const assets = readdirSync(path.join(CONSUMER, 'out/assets'));
    assert.ok(
      assets.some((file) => /e2ee\.worker.*\.js$/.test(file)),
      `the worker is one of the site's files (${assets.join(', ')})`,
    );
    const code = assets.filter((file) => file.endsWith('.js')).map((file) => readFileSync(path.join(CONSUMER, 'out/assets', file), 'utf8'));
    assert.ok(
      code.some((text) => /customElements\.define\(["'`]oracle-call["'`]/.test(text)),
      'the element is defined',
    );
    assert.ok(assets.filter((file) => file.endsWith('.js')).length >= 3, 'LiveKit and the call stay lazy chunks');
  });
});
