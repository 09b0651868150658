/**
 * The PostgreSQL schema, as numbered SQL files in `migrations/`, applied at start. Several backends may
 * start at once: an advisory lock lets one of them migrate while the others wait, then find nothing left
 * to do. Each file runs in a transaction of its own with its row in `oracle_call_migrations`, so a file
 * is applied whole or not at all.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type pg from 'pg';

/** The advisory lock key of this project's migrations ("oracle" in ASCII). */
const MIGRATION_LOCK = '122511179129957';

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

/** The migration files, oldest first: `NNN-name.sql`. */
export function migrations(): Migration[] {
  return readdirSync(MIGRATIONS_DIR)
    .map((file) => /^(\d+)-([a-z0-9-]+)\.sql$/.exec(file))
    .filter((match): match is RegExpExecArray => match !== null)
    .map(([file, version, name]) => ({ version: Number(version), name: name!, sql: readFileSync(new URL(file!, MIGRATIONS_DIR), 'utf8') }))
    .sort((a, b) => a.version - b.version);
}

/**
 * Applies the migrations the database has not seen, on one connection (without a statement timeout:
 * waiting for another backend's migration, or a long one, is expected). Resolves with those applied.
 */
export async function migrate(client: pg.ClientBase, all: readonly Migration[] = migrations()): Promise<Migration[]> {
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
  try {
    await client.query(
      'CREATE TABLE IF NOT EXISTS oracle_call_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())',
    );
    const { rows } = await client.query<{ version: number }>('SELECT version FROM oracle_call_migrations');
    const done = new Set(rows.map((row) => row.version));
    const applied: Migration[] = [];
    for (const migration of all) {
      if (done.has(migration.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(migration.sql);
        await client.query('INSERT INTO oracle_call_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw new Error(`the database migration ${migration.version}-${migration.name} failed: ${(error as Error).message}`);
      }
      applied.push(migration);
    }
    return applied;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {});
  }
}
