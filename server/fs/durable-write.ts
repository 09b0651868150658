/**
 * Replaces a file so that a crash leaves either the old or the new content, whole: the data goes to a
 * temporary file that is fsynced, renamed over the target, and the folder is fsynced.
 */
import { open, rename } from 'node:fs/promises';
import path from 'node:path';

export async function writeFileDurably(file: string, data: string | Uint8Array): Promise<void> {
  const tempFile = path.join(path.dirname(file), `.${path.basename(file)}.tmp`);
  const handle = await open(tempFile, 'w', 0o600);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tempFile, file);
  const dir = await open(path.dirname(file), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
