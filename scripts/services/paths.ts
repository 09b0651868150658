/** Where the project's scripts install services: a git-ignored cache folder, `ORACLE_CALL_CACHE` to move it. */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function cacheDir(...parts: string[]): string {
  const root = process.env.ORACLE_CALL_CACHE ?? path.join(PROJECT_ROOT, '.cache');
  const dir = path.join(path.resolve(root), ...parts);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Prints one progress line for a long step, so a person knows what is happening. */
export function progress(service: string, message: string): void {
  process.stderr.write(`[${service}] ${message}\n`);
}
