/** SqliteSessionStore beyond the shared contract: the file itself, restarts, append-only saves, other processes. */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Agent, HookchainConfigError, SqliteSessionStore, type PreHookArgs } from 'hookchain';
import { SessionConflictError } from 'hookchain/sessions';
import { OfflineModel } from 'hookchain/testing';
import { run, session } from './contract.ts';
import { deferred, sqliteStore, tempDbPath } from './helpers.ts';

const execFileAsync = promisify(execFile);
const CHILD = join(import.meta.dirname, 'fixtures', 'child-run.ts');

type ChildResult = { sent: { role: string; content: string }[]; outcomes: string[] };
const NODE_ARGS = ['--conditions=hookchain-source', '--disable-warning=ExperimentalWarning', CHILD];
const ROOT = join(import.meta.dirname, '..', '..');

/** Runs fixtures/child-run.ts in a new Node process against `path`. */
async function child(path: string, sessionId: string, input: string): Promise<ChildResult> {
  const { stdout } = await execFileAsync(process.execPath, [...NODE_ARGS, path, sessionId, input], { cwd: ROOT });
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

/** Starts `count` children that each run `runs` runs on one session, all released at the same moment. */
async function racingChildren(count: number, path: string, sessionId: string, runs: number, delayMs: number): Promise<ChildResult[]> {
  const children = Array.from({ length: count }, (_, i) =>
    spawn(process.execPath, [...NODE_ARGS, path, sessionId, `p${i}`, String(runs), String(delayMs), 'barrier'], { cwd: ROOT }),
  );
  const outputs = children.map((c) => {
    let out = '';
    c.stdout.on('data', (chunk: Buffer) => void (out += chunk));
    const ready = new Promise<void>((resolve) => c.stdout.on('data', () => out.includes('ready') && resolve()));
    const done = new Promise<ChildResult>((resolve, reject) =>
      c.on('exit', (code) =>
        code === 0 ? resolve(JSON.parse(out.trim().split('\n').at(-1)!)) : reject(new Error(`child exited with ${code}`)),
      ),
    );
    return { ready, done };
  });
  await Promise.all(outputs.map((o) => o.ready));
  for (const c of children) c.stdin.write('go\n');
  return Promise.all(outputs.map((o) => o.done));
}

function raw(path: string): DatabaseSync {
  return new DatabaseSync(path);
}

describe('SqliteSessionStore: a run replaced in place', () => {
  it('is seen by another store on the same file whose cache holds the older runs', () => {
    const path = tempDbPath();
    const a = new SqliteSessionStore({ path });
    const b = new SqliteSessionStore({ path });
    a.save(session('s1', { runs: [run('r0', 'a'), run('paused', 'waiting')] }));
    expect(b.get('s1')!.runs.map((r) => r.content)).toEqual(['a', 'waiting']); // b caches them
    const s = a.get('s1')!;
    s.runs[1] = run('paused', 'resumed');
    s.runs.push(run('r2', 'c'));
    a.save(s);
    expect(b.get('s1')!.runs.map((r) => r.content)).toEqual(['a', 'resumed', 'c']);
    a.close();
    b.close();
  });

  it('migrates a schema-1 file, keeping its sessions', () => {
    const path = tempDbPath();
    const store = new SqliteSessionStore({ path });
    store.save(session('old', { runs: [run('r0', 'kept')] }));
    store.close();
    const db = new DatabaseSync(path);
    db.exec('ALTER TABLE sessions DROP COLUMN run_rewrites; PRAGMA user_version = 1;');
    db.close();
    const reopened = new SqliteSessionStore({ path });
    expect(reopened.get('old')!.runs.map((r) => r.content)).toEqual(['kept']);
    const s = reopened.get('old')!;
    s.runs[0] = run('r0', 'replaced');
    reopened.save(s);
    expect(new SqliteSessionStore({ path }).get('old')!.runs.map((r) => r.content)).toEqual(['replaced']);
    reopened.close();
  });
});

describe('SqliteSessionStore: the file', () => {
  it('is one WAL-mode file marked as ours, at the current schema version, creating missing directories', () => {
    const path = join(tempDbPath(), 'nested', 'dir', 'sessions.db');
    sqliteStore(path).save(session('s1'));
    const db = raw(path);
    expect(db.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
    expect(db.prepare('PRAGMA application_id').get()).toEqual({ application_id: 0x686b6368 });
    expect(db.prepare('PRAGMA user_version').get()).toEqual({ user_version: 2 });
    expect(
      db
        .prepare('SELECT name FROM sqlite_master WHERE type = ? ORDER BY name')
        .all('table')
        .map((r) => r.name),
    ).toEqual(['runs', 'sessions']);
    db.close();
  });

  it('keeps state and runs as JSON columns, one row per run', () => {
    const path = tempDbPath();
    const store = sqliteStore(path);
    store.save(session('s1', { state: { cart: ['book'] }, runs: [run('r1', 'one'), run('r2', 'two')] }));
    const db = raw(path);
    expect(db.prepare("SELECT json_extract(state, '$.cart[0]') AS item, run_count FROM sessions").get()).toEqual({
      item: 'book',
      run_count: 2,
    });
    expect(db.prepare("SELECT seq, run_id, json_extract(data, '$.content') AS content FROM runs ORDER BY seq").all()).toEqual([
      { seq: 0, run_id: 'r1', content: 'one' },
      { seq: 1, run_id: 'r2', content: 'two' },
    ]);
    db.close();
  });

  it('appends only the new run on save: stored run rows are never rewritten', () => {
    const path = tempDbPath();
    const store = sqliteStore(path);
    store.save(session('s1', { runs: [run('r0', 'zero')] }));
    const db = raw(path);
    // A marker written behind the store's back: a rewrite of the runs would erase it.
    db.exec(`UPDATE runs SET data = json_set(data, '$.marker', 'untouched') WHERE seq = 0`);
    for (let i = 1; i <= 3; i++) {
      const s = store.get('s1')!;
      s.runs.push(run(`r${i}`, `n${i}`));
      store.save(s);
    }
    expect(db.prepare("SELECT json_extract(data, '$.marker') AS m FROM runs WHERE seq = 0").get()).toEqual({ m: 'untouched' });
    expect(db.prepare('SELECT count(*) AS n FROM runs').get()).toEqual({ n: 4 });
    db.close();
  });

  it('survives a process restart: a child process continues the session another one started', async () => {
    const path = tempDbPath();
    const first = await child(path, 'conv-1', 'my order #123 is late');
    expect(first.outcomes).toEqual(['completed']);
    const second = await child(path, 'conv-1', 'any news?');
    // The second process's model got the first process's turn as history.
    expect(second.sent.map((m) => `${m.role}: ${m.content}`)).toEqual([
      'user: my order #123 is late 0',
      'assistant: answer to my order #123 is late 0',
      'user: any news? 0',
    ]);
    const stored = sqliteStore(path).get('conv-1')!;
    expect(stored.sessionState).toEqual({ count: 2 });
    expect(stored.runs.map((r) => r.status)).toEqual(['completed', 'completed']);
    expect(stored.version).toBe(2);
  });

  it('two processes on one session never lose an update: a stale save fails with SESSION_CONFLICT instead', async () => {
    const path = tempDbPath();
    sqliteStore(path).save(session('shared', { agentId: 'support' }));
    const results = await racingChildren(2, path, 'shared', 30, 3);
    const outcomes = results.flatMap((r) => r.outcomes);
    expect(outcomes.every((o) => o === 'completed' || o === 'SESSION_CONFLICT')).toBe(true);
    const completed = outcomes.filter((o) => o === 'completed').length;
    expect(completed).toBeLessThan(60); // the runs did overlap, and the version check caught it
    const stored = new SqliteSessionStore({ path });
    const s = stored.get('shared')!;
    stored.close();
    // Every completed run is stored and counted; no conflicting run overwrote another's state or runs.
    expect(s.runs).toHaveLength(completed);
    expect((s.sessionState as { count: number }).count).toBe(completed);
    expect(completed).toBeGreaterThan(0);
  });

  it("sees another store object's writes to the same file, reading only the runs it does not hold yet", () => {
    const path = tempDbPath();
    const a = sqliteStore(path);
    const b = sqliteStore(path);
    a.save(session('s1', { runs: [run('r0', 'zero')] }));
    expect(a.get('s1')!.runs).toHaveLength(1); // now cached in a
    const viaB = b.get('s1')!;
    // Spoil the stored r0: a reader that re-parsed the runs it already holds would now fail.
    const db = raw(path);
    db.exec("UPDATE runs SET data = 'spoiled' WHERE seq = 0");
    db.close();
    viaB.runs.push(run('r1', 'one'), run('r2', 'two'));
    viaB.sessionState = { by: 'b' };
    b.save(viaB);
    const seen = a.get('s1')!;
    expect(seen.runs.map((r) => r.runId)).toEqual(['r0', 'r1', 'r2']);
    expect(seen).toMatchObject({ sessionState: { by: 'b' }, version: 2 });
  });

  it('reloads in full when another store object replaced the runs it had cached', () => {
    const path = tempDbPath();
    const a = sqliteStore(path);
    const b = sqliteStore(path);
    a.save(session('s1', { runs: [run('r0', 'zero'), run('r1', 'one')] }));
    for (const replacement of [['x0'], ['y0', 'y1', 'y2']]) {
      a.get('s1'); // cached in a
      const viaB = b.get('s1')!;
      viaB.runs = replacement.map((id) => run(id, id));
      b.save(viaB);
      expect(a.get('s1')!.runs.map((r) => r.runId)).toEqual(replacement);
    }
  });

  it('a run whose session another store object saved meanwhile fails with SessionConflictError and overwrites nothing', async () => {
    const path = tempDbPath();
    const gate = deferred();
    const entered = deferred();
    const slow = new Agent({
      name: 'support',
      model: new OfflineModel({ reply: 'slow' }),
      sessionStore: sqliteStore(path),
      preHooks: [
        async ({ sessionState }: PreHookArgs) => (((sessionState as { by?: string }).by = 'slow'), entered.resolve(), await gate.promise),
      ],
    });
    const fast = new Agent({
      name: 'support',
      model: new OfflineModel({ reply: 'fast' }),
      sessionStore: sqliteStore(path),
      preHooks: [({ sessionState }: PreHookArgs) => void ((sessionState as { by?: string }).by = 'fast')],
    });
    const pending = slow.run('first', { sessionId: 's' });
    await entered.promise;
    await fast.run('second', { sessionId: 's' });
    gate.resolve();
    const error = await pending.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SessionConflictError);
    expect(error).toMatchObject({ sessionId: 's', path, runOutput: { status: 'error', content: undefined } });
    const stored = sqliteStore(path).get('s')!;
    expect(stored.sessionState).toEqual({ by: 'fast' });
    expect(stored.runs.map((r) => r.content)).toEqual(['fast']);
  });

  it('validates its options', () => {
    expect(() => new SqliteSessionStore({} as never)).toThrow(/option "path" is required; it must be a file path/);
    expect(() => new SqliteSessionStore({ path: 'x.db', cache: 1 } as never)).toThrow(HookchainConfigError);
    expect(() => new SqliteSessionStore({ path: tempDbPath(), busyTimeoutMs: -1 })).toThrow(
      /option "busyTimeoutMs" must be 0 \(do not wait\) or a whole number of milliseconds/,
    );
  });

  it('refuses use after close with a clear error', () => {
    const store = new SqliteSessionStore({ path: tempDbPath() });
    store.close();
    store.close();
    expect(() => store.get('s')).toThrow(expect.objectContaining({ code: 'STORE_CLOSED' }));
  });

  it('does not load node:sqlite until a SqliteSessionStore is built (memory-store users never load it)', async () => {
    const script =
      "import('hookchain').then(async (h) => { const before = process.moduleLoadList.some((m) => m.includes('sqlite')); new h.SqliteSessionStore({ path: ':memory:' }); console.log(JSON.stringify([before, process.moduleLoadList.some((m) => m.includes('sqlite'))])); })";
    const { stdout } = await execFileAsync(
      process.execPath,
      ['--conditions=hookchain-source', '--disable-warning=ExperimentalWarning', '--input-type=module', '-e', script],
      { cwd: join(import.meta.dirname, '..', '..') },
    );
    expect(JSON.parse(stdout)).toEqual([false, true]);
  });

  it('leaves no file behind for an in-memory database', () => {
    const store = sqliteStore(':memory:');
    store.save(session('s1'));
    expect(store.get('s1')!.version).toBe(1);
    expect(existsSync(':memory:')).toBe(false);
  });
});
