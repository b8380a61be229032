/** Temporary database files for the session specs, removed after each file's tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { SqliteSessionStore } from 'hookchain';

const dirs: string[] = [];
const stores: SqliteSessionStore[] = [];

afterAll(() => {
  for (const store of stores) store.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A path in a fresh temporary directory (the file does not exist yet). */
export function tempDbPath(name = 'sessions.db'): string {
  const dir = mkdtempSync(join(tmpdir(), 'hookchain-sessions-'));
  dirs.push(dir);
  return join(dir, name);
}

/** A store on a new file; closed after the spec file. */
export function sqliteStore(path = tempDbPath(), options: { cacheSessions?: number } = {}): SqliteSessionStore {
  const store = new SqliteSessionStore({ path, ...options });
  stores.push(store);
  return store;
}

export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
