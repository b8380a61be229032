/**
 * Opening the session database: refuse a file that is not ours before writing a byte to it, then WAL mode, then
 * the schema migrations. A hookchain file is marked with `PRAGMA application_id`; `PRAGMA user_version` is its
 * schema version, raised one migration at a time, each in its own transaction.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type * as NodeSqlite from 'node:sqlite';
import type { DatabaseSync } from 'node:sqlite';
import { SessionStoreError } from './errors.ts';

/** 'hkch' in ASCII: marks the file as a hookchain session store. */
export const APPLICATION_ID = 0x686b6368;

/** MIGRATIONS[i] takes the schema from version i to i + 1. Append only; never edit a shipped migration. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE sessions (
     session_id  TEXT PRIMARY KEY,
     agent_id    TEXT NOT NULL,
     user_id     TEXT,
     state       TEXT NOT NULL,              -- JSON: sessionState
     version     INTEGER NOT NULL,           -- optimistic concurrency: +1 per save
     run_count   INTEGER NOT NULL,           -- rows in runs for this session
     last_run_id TEXT,                       -- runId of the newest stored run: lets save() append instead of rewrite
     created_at  INTEGER NOT NULL,
     updated_at  INTEGER NOT NULL
   ) STRICT;
   CREATE INDEX sessions_by_user ON sessions (user_id, agent_id, updated_at DESC);
   CREATE TABLE runs (
     session_id TEXT NOT NULL,
     seq        INTEGER NOT NULL,            -- position in session.runs, from 0
     run_id     TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     data       TEXT NOT NULL,               -- JSON: the frozen RunOutput
     PRIMARY KEY (session_id, seq)
   ) STRICT, WITHOUT ROWID;
   PRAGMA application_id = ${APPLICATION_ID};`,
  // A paused run's record is replaced where it stands when it is resumed (and again when it ends). Other processes
  // keep parsed runs between reads; this count tells them a stored run changed in place, so they read them again.
  `ALTER TABLE sessions ADD COLUMN run_rewrites INTEGER NOT NULL DEFAULT 0;`,
];
export const SCHEMA_VERSION = MIGRATIONS.length;

type Sqlite = typeof NodeSqlite;
let sqlite: Sqlite | undefined;

/**
 * node:sqlite, loaded on first use so that users of the memory store never load it. Node prints its one-line
 * ExperimentalWarning then; we leave that to the application (`--disable-warning=ExperimentalWarning`), whose call it is.
 */
function loadSqlite(): Sqlite {
  return (sqlite ??= process.getBuiltinModule('node:sqlite'));
}

export function openDatabase(path: string, busyTimeoutMs: number): DatabaseSync {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  let db: DatabaseSync;
  try {
    db = new (loadSqlite().DatabaseSync)(path);
  } catch (error) {
    throw new SessionStoreError(
      'CANNOT_OPEN',
      `SqliteSessionStore: cannot open "${path}" (${messageOf(error)}); pass a path to a file in a writable directory`,
      { path, cause: error },
    );
  }
  try {
    db.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
    const from = checkOwnership(db, path);
    if (path !== ':memory:') db.exec('PRAGMA journal_mode = WAL');
    // NORMAL is durable across a crash of the process in WAL mode; a power loss may drop the last commits.
    db.exec('PRAGMA synchronous = NORMAL');
    if (from < SCHEMA_VERSION) migrate(db);
    return db;
  } catch (error) {
    db.close();
    throw storeError(error, path);
  }
}

/** Reads only: throws for a file that is not a hookchain store (or is newer than us); returns its schema version. */
function checkOwnership(db: DatabaseSync, path: string): number {
  const appId = pragma(db, 'application_id');
  const version = pragma(db, 'user_version');
  if (appId === APPLICATION_ID) {
    if (version > SCHEMA_VERSION) {
      throw new SessionStoreError(
        'NEWER_SCHEMA',
        `SqliteSessionStore: "${path}" has session schema version ${version}, written by a newer hookchain; this one knows up to ${SCHEMA_VERSION}. Upgrade hookchain; the file was not changed`,
        { path },
      );
    }
    return version;
  }
  const tables = (
    db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]
  ).map((r) => r.name);
  if (appId === 0 && tables.length === 0) return 0; // a new or empty file: ours to set up
  throw new SessionStoreError(
    'FOREIGN_DATABASE',
    `SqliteSessionStore: "${path}" is a SQLite database of another application (application_id ${appId}, tables: ${tables.join(', ') || 'none'}), ` +
      'not a hookchain session store. Pass a path of its own (e.g. .hookchain/sessions.db); the file was not changed',
    { path },
  );
}

function migrate(db: DatabaseSync): void {
  for (;;) {
    db.exec('BEGIN IMMEDIATE');
    try {
      // Read again under the write lock: another process may have migrated since we looked.
      const version = pragma(db, 'user_version');
      if (version >= SCHEMA_VERSION) {
        db.exec('COMMIT');
        return;
      }
      db.exec(MIGRATIONS[version]!);
      db.exec(`PRAGMA user_version = ${version + 1}`);
      db.exec('COMMIT');
    } catch (error) {
      db.exec('ROLLBACK');
      throw error;
    }
  }
}

function pragma(db: DatabaseSync, name: 'application_id' | 'user_version'): number {
  const row = db.prepare(`PRAGMA ${name}`).get() as Record<string, number>;
  return row[name]!;
}

/** SQLite's verdict on a damaged or non-database file becomes a SessionStoreError that says so; others pass through. */
export function storeError(error: unknown, path: string): unknown {
  if (error instanceof SessionStoreError) return error;
  const code = (error as { errcode?: number }).errcode;
  // 11 SQLITE_CORRUPT, 26 SQLITE_NOTADB (errcode carries extended codes in its high bits).
  if (code !== undefined && ((code & 0xff) === 11 || (code & 0xff) === 26)) {
    return new SessionStoreError(
      'CORRUPT_DATABASE',
      `SqliteSessionStore: "${path}" is not a usable SQLite database (${messageOf(error)}). Move it aside and start with a new file, or restore a backup; hookchain did not change it`,
      { path, cause: error },
    );
  }
  return error;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
