/** What the human-approval specs share: temporary SQLite files, a rejection's error, and the stored view of a run. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { SqliteSessionStore, type RunOutput, type SessionStore } from 'hookchain';

const dirs: string[] = [];
const stores: SqliteSessionStore[] = [];

afterAll(() => {
  for (const store of stores) store.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary directory, removed after the spec file. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hookchain-hitl-'));
  dirs.push(dir);
  return dir;
}

/** A SQLite store on `path` (a new file by default); closed after the spec file. */
export function sqliteStore(path = join(tempDir(), 'sessions.db')): SqliteSessionStore {
  const store = new SqliteSessionStore({ path });
  stores.push(store);
  return store;
}

/** What `promise` rejected with; fails the test when it fulfilled. */
export async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string; runOutput?: RunOutput }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string; runOutput?: RunOutput };
  }
  throw new Error('expected the promise to reject, but it fulfilled');
}

/** The stored records of `runId` in session `sessionId` (a run has exactly one when all is well). */
export async function storedRuns(store: SessionStore, sessionId: string, runId: string): Promise<RunOutput[]> {
  const session = await store.get(sessionId);
  return (session?.runs ?? []).filter((r) => r.runId === runId);
}
