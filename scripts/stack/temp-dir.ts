/**
 * Temporary folders for tests and benchmarks, removed when the test file's process exits (Node's test runner runs
 * each file in a process of its own), so a test run leaves nothing behind in the system temp folder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const made: string[] = [];
process.once('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A new empty folder under the system temp folder, named `<prefix><random>`. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}
