/** Data the store cannot trust: a clear SessionStoreError naming the file or session and the fix, and nothing overwritten. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { Agent, SqliteSessionStore } from 'hookchain';
import { SessionStoreError } from 'hookchain/sessions';
import { OfflineModel } from 'hookchain/testing';
import { capture, run, session } from './contract.ts';
import { sqliteStore, tempDbPath } from './helpers.ts';

const agent = (store: SqliteSessionStore, name = 'support') =>
  new Agent({ name, model: new OfflineModel({ reply: 'ok' }), sessionStore: store });

describe('SqliteSessionStore: a file that is not ours', () => {
  it.each([
    ['random bytes', () => Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251))],
    ['a text file', () => Buffer.from('name,email\nada,ada@example.com\n')],
  ])('refuses %s with CORRUPT_DATABASE and leaves it byte for byte', (_what, bytes) => {
    const path = tempDbPath();
    writeFileSync(path, bytes());
    const before = readFileSync(path);
    const error = captureSync(() => new SqliteSessionStore({ path }));
    expect(error).toBeInstanceOf(SessionStoreError);
    expect(error).toMatchObject({ code: 'CORRUPT_DATABASE', path });
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toMatch(/Move it aside|restore a backup/);
    expect(readFileSync(path).equals(before)).toBe(true);
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  it("refuses another application's SQLite database with FOREIGN_DATABASE, naming its tables, and changes nothing", () => {
    const path = tempDbPath('app.db');
    const db = new DatabaseSync(path);
    db.exec("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT); INSERT INTO users (email) VALUES ('ada@example.com')");
    db.close();
    const before = readFileSync(path);
    const error = captureSync(() => new SqliteSessionStore({ path }));
    expect(error).toMatchObject({ code: 'FOREIGN_DATABASE', path });
    expect((error as Error).message).toContain('tables: users');
    expect(readFileSync(path).equals(before)).toBe(true);
    const check = new DatabaseSync(path);
    expect(check.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'delete' }); // not switched to WAL
    check.close();
  });

  it('refuses a session file from a newer hookchain with NEWER_SCHEMA', () => {
    const path = tempDbPath();
    new SqliteSessionStore({ path }).close();
    const db = new DatabaseSync(path);
    db.exec('PRAGMA user_version = 99');
    db.close();
    const error = captureSync(() => new SqliteSessionStore({ path }));
    expect(error).toMatchObject({ code: 'NEWER_SCHEMA' });
    expect((error as Error).message).toMatch(/schema version 99.*Upgrade hookchain/);
  });

  it('reports a damaged page found later as CORRUPT_DATABASE, not as a raw SQLite error', () => {
    const path = tempDbPath();
    const store = new SqliteSessionStore({ path, cacheSessions: 0 });
    const runs = Array.from({ length: 200 }, (_, i) => run(`r${i}`, 'x'.repeat(200)));
    store.save(session('big', { runs }));
    store.close();
    // Checkpoint the WAL into the main file, then overwrite the runs table's pages (page 1 is the header: kept).
    const db = new DatabaseSync(path);
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    db.close();
    const bytes = readFileSync(path);
    bytes.fill(0xa5, 4096 * 2);
    writeFileSync(path, bytes);
    const error = captureSync(() => new SqliteSessionStore({ path, cacheSessions: 0 }).get('big'));
    expect(error).toMatchObject({ code: 'CORRUPT_DATABASE', path });
  });
});

describe('SqliteSessionStore: a row that does not parse', () => {
  function storeWith(corruption: string): { store: SqliteSessionStore; path: string } {
    const path = tempDbPath();
    const store = sqliteStore(path, { cacheSessions: 0 });
    store.save(session('s1', { state: { n: 1 }, runs: [run('r0', 'zero'), run('r1', 'one')] }));
    const db = new DatabaseSync(path);
    db.exec(corruption);
    db.close();
    return { store, path };
  }

  it.each([
    ['state that is not JSON', 'UPDATE sessions SET state = \'{"n": 1,\'', /sessionState \(sessions\.state\) is not valid JSON/],
    ['state that is not an object', "UPDATE sessions SET state = '[1, 2]'", /sessionState \(sessions\.state\) is not a JSON object/],
    ['a run that is not JSON', "UPDATE runs SET data = 'garbage' WHERE seq = 1", /run 1 \(runs\.data\) is not valid JSON/],
    ['a run of the wrong shape', 'UPDATE runs SET data = \'{"hello": 1}\' WHERE seq = 0', /run 0 \(runs\.data\) is not a RunOutput/],
    ['a missing run row', 'DELETE FROM runs WHERE seq = 0', /1 rows long where sessions\.run_count says 2/],
  ])(
    '%s: CORRUPT_ROW naming the session, the file and the fix; the run fails before any hook and nothing is written',
    async (_what, sql, message) => {
      const { store, path } = storeWith(sql);
      const dump = () => {
        const db = new DatabaseSync(path);
        const rows = JSON.stringify([db.prepare('SELECT * FROM sessions').all(), db.prepare('SELECT * FROM runs').all()]);
        db.close();
        return rows;
      };
      const before = dump();
      const error = captureSync(() => store.get('s1'));
      expect(error).toMatchObject({ code: 'CORRUPT_ROW', sessionId: 's1', path });
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toContain('store.delete("s1")');
      let hookRan = false;
      const a = new Agent({
        name: 'support',
        model: new OfflineModel({ reply: 'ok' }),
        sessionStore: store,
        preHooks: [() => void (hookRan = true)],
      });
      await expect(a.run('hi', { sessionId: 's1' })).rejects.toMatchObject({ code: 'CORRUPT_ROW' });
      expect(hookRan).toBe(false);
      expect(dump()).toBe(before);
      // The fix the message gives works.
      store.delete('s1');
      await expect(a.run('hi', { sessionId: 's1' })).resolves.toMatchObject({ status: 'completed' });
    },
  );
});

describe('sessions that cannot be used as they are', () => {
  it('a session of another agent: the run fails naming both agents, and the session is not touched', async () => {
    const store = sqliteStore();
    await agent(store, 'support').run('hello', { sessionId: 's1' });
    const before = store.get('s1')!;
    const error = await capture(() => agent(store, 'billing').run('hi', { sessionId: 's1' }));
    expect(error).toMatchObject({ code: 'SESSION_AGENT_MISMATCH' });
    expect((error as Error).message).toMatch(/session "s1" belongs to agent "support", not "billing"/);
    expect(store.get('s1')).toEqual(before);
  });

  it('state that cannot be written as JSON fails the run with UNSERIALIZABLE and keeps the stored session', async () => {
    const store = sqliteStore();
    const a = new Agent({
      name: 'support',
      model: new OfflineModel({ reply: 'ok' }),
      sessionStore: store,
      preHooks: [({ sessionState }: { sessionState: object }) => void ((sessionState as { big?: bigint }).big = 1n)],
      logger: { debug() {}, warn() {} },
    });
    store.save(session('s1', { state: { n: 1 } }));
    const error = await capture(() => a.run('hi', { sessionId: 's1' }));
    expect(error).toMatchObject({ code: 'UNSERIALIZABLE', sessionId: 's1' });
    expect(error).toMatchObject({ jsonPath: 'sessionState.big' });
    expect((error as Error).message).toMatch(/sessionState\.big cannot be stored as JSON: it is a BigInt.*Keep only JSON data/);
    expect(store.get('s1')).toMatchObject({ sessionState: { n: 1 }, runs: [], version: 1 });
  });
});

function captureSync(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}
