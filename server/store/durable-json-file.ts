/**
 * A lowdb adapter that makes each write durable: the JSON goes to a temporary file that is fsynced,
 * renamed over the data file, and the folder is fsynced, so a crash leaves either the old or the new
 * file, whole. (lowdb's own JSONFile renames without fsync; `JSONFilePreset` even keeps everything in
 * memory when NODE_ENV=test.) A data file that cannot be parsed is an error, never an empty store.
 */
import { readFile } from 'node:fs/promises';
import type { Adapter } from 'lowdb';
import { writeFileDurably } from '../fs/durable-write.ts';

export class DurableJsonFile<T> implements Adapter<T> {
  constructor(readonly file: string) {}

  async read(): Promise<T | null> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      throw new Error(`the data file ${this.file} is not valid JSON (${(error as Error).message}); it was left as it is`);
    }
  }

  async write(data: T): Promise<void> {
    await writeFileDurably(this.file, JSON.stringify(data));
  }
}
