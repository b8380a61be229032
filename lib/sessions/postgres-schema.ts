/**
 * The PostgreSQL schema of `PostgresSessionStore`: its own schema (default `hookchain`) holding `sessions`, `runs`
 * and `schema_version`, whose one row is the number of migrations applied. Migrations run on the store's first call,
 * all in one transaction behind an advisory lock, so processes starting together migrate once. A
 * schema whose `sessions` or `runs` table is not ours, or whose version is newer than this hookchain knows, is
 * refused before anything is written.
 *
 * The JSON columns are `json`, not `jsonb`: `json` keeps the text as written, so a state reads back with its keys in
 * their order (as the memory and SQLite stores return it), and a string holding U+0000 is stored (jsonb refuses it).
 * Both are queried with the same operators (`state->>'cart'`).
 */
import { SessionStoreError } from './errors.ts';

/** What the store needs of a `pg` client (a `PoolClient` has it). */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[]; rowCount: number | null }>;
}

/** MIGRATIONS[i] takes the schema from version i to i + 1; `S` is the quoted schema name. Append only. */
const MIGRATIONS: readonly ((s: string) => string)[] = [
  (S) => `
    CREATE TABLE ${S}.sessions (
      session_id   text PRIMARY KEY,
      agent_id     text NOT NULL,
      user_id      text,
      state        json NOT NULL,             -- sessionState
      version      integer NOT NULL,          -- optimistic concurrency: +1 per save
      run_count    integer NOT NULL,          -- rows in runs for this session
      last_run_id  text,                      -- runId of the newest stored run: lets save() append instead of rewrite
      run_rewrites integer NOT NULL DEFAULT 0, -- +1 when a stored run is replaced in place or the runs rewritten
      created_at   bigint NOT NULL,           -- epoch milliseconds
      updated_at   bigint NOT NULL
    );
    CREATE INDEX sessions_by_user ON ${S}.sessions (user_id, agent_id, updated_at DESC);
    CREATE TABLE ${S}.runs (
      session_id text NOT NULL REFERENCES ${S}.sessions (session_id) ON DELETE CASCADE,
      seq        integer NOT NULL,            -- position in session.runs, from 0
      run_id     text NOT NULL,
      created_at bigint NOT NULL,
      data       json NOT NULL,               -- the frozen RunOutput
      PRIMARY KEY (session_id, seq)
    );`,
];
export const SCHEMA_VERSION = MIGRATIONS.length;

/** A schema name the store accepts: a lowercase SQL identifier, so it needs no quoting rules beyond double quotes. */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Brings `schema` to the current version (creating it when missing); throws before writing for one not ours. */
export async function migrate(client: Queryable, schema: string): Promise<void> {
  const S = `"${schema}"`;
  if ((await inspect(client, schema)) === SCHEMA_VERSION) return;
  // One migrator at a time for this schema, across processes. Taken before BEGIN: a transaction that starts after
  // another's commit sees its tables (PostgreSQL refreshes its catalog caches at transaction start).
  const key = `hookchain migrate/${schema}`;
  await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [key]);
  try {
    await client.query('BEGIN');
    try {
      let version = await inspect(client, schema); // again: another process may have migrated meanwhile
      if (version < SCHEMA_VERSION) {
        const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
        if (exists.rowCount === 0) await client.query(`CREATE SCHEMA ${S}`);
        if (version === -1) {
          await client.query(`CREATE TABLE ${S}.schema_version (version integer NOT NULL, migrated_at timestamptz NOT NULL DEFAULT now())`);
          await client.query(`INSERT INTO ${S}.schema_version (version) VALUES (0)`);
          version = 0;
        }
        for (; version < SCHEMA_VERSION; version++) await client.query(MIGRATIONS[version]!(S));
        await client.query(`UPDATE ${S}.schema_version SET version = $1, migrated_at = now()`, [SCHEMA_VERSION]);
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [key]).catch(() => undefined);
  }
}

/** The schema's version: -1 when it holds no hookchain tables at all. Throws for a foreign or newer schema. */
async function inspect(client: Queryable, schema: string): Promise<number> {
  const S = `"${schema}"`;
  const { rows } = (await client.query(
    `SELECT to_regclass($1 || '.schema_version') IS NOT NULL AS versioned,
            array_remove(ARRAY[
              CASE WHEN to_regclass($1 || '.sessions') IS NOT NULL THEN 'sessions' END,
              CASE WHEN to_regclass($1 || '.runs') IS NOT NULL THEN 'runs' END], NULL) AS tables`,
    [S],
  )) as { rows: { versioned: boolean; tables: string[] }[] };
  const { versioned, tables } = rows[0]!;
  if (!versioned) {
    if (tables.length === 0) return -1;
    throw new SessionStoreError(
      'FOREIGN_DATABASE',
      `PostgresSessionStore: schema "${schema}" holds ${tables.map((t) => `a table "${t}"`).join(' and ')} that is not a hookchain session store (no ${S}.schema_version). ` +
        'Pass a schema of its own (option schema, default "hookchain"); nothing was changed',
    );
  }
  const found = (await client.query(`SELECT version FROM ${S}.schema_version`)) as { rows: { version: number }[] };
  const version = found.rows[0]?.version ?? 0;
  if (version > SCHEMA_VERSION) {
    throw new SessionStoreError(
      'NEWER_SCHEMA',
      `PostgresSessionStore: schema "${schema}" has session schema version ${version}, written by a newer hookchain; this one knows up to ${SCHEMA_VERSION}. Upgrade hookchain; nothing was changed`,
    );
  }
  return version;
}
