/**
 * `npm test` starts here: prints the Node that runs the project and fails when it is not the one the
 * project pins. The runtime is the `node` dev dependency (the registry's `node` package): npm puts
 * `node_modules/.bin` first in every script's PATH, so `tsx`, `wtr`, `vite`, `node --test` and the
 * processes they start run on it whatever Node the machine has (its own only runs npm itself).
 */
import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { devDependencies: Record<string, string> };
const pinned = pkg.devDependencies.node;

console.log(`[runtime] Node ${process.version} (${process.execPath})`);
if (process.version !== `v${pinned}`) {
  console.error(`[runtime] the project runs on Node ${pinned} (the "node" dev dependency); run it through npm (npm test, npm start) or npx after npm ci`);
  process.exit(1);
}
