/**
 * Sessions in one SQLite file (Node's built-in node:sqlite: nothing to compile or download). Runs live in their own
 * table, one row each, so a save appends the new run instead of rewriting the history; parsed runs are cached
 * between runs and revalidated against the stored version on every `get`, so another process's writes are seen.
 * Every call is synchronous: the agent pays no microtask for it, but a query blocks the event loop while it runs.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { MAX_TIMEOUT_MS, checkOptions, is, type Rule } from '../options.ts';
import type { AgentSession, RunOutput } from '../types.ts';
import { RunCache, type CachedRuns } from './run-cache.ts';
import { SessionStoreError } from './errors.ts';
import { corrupt, parseRun, parseState, toJson, type SessionRow } from './sqlite-rows.ts';
import { openDatabase, storeError } from './sqlite-schema.ts';
import { assertStorable } from './storable.ts';
import {
  checkListOptions,
  checkNewRuns,
  checkSessionId,
  checkSessionToSave,
  firstUnstoredRun,
  replacedRuns,
  nextSessionVersion,
  type ListSessionsOptions,
  type SessionStore,
  type SessionSummary,
} from './store.ts';

/** Options of `new SqliteSessionStore(options)`; `path` is required. */
export interface SqliteSessionStoreOptions {
  /** The database file, created (with its directory) when missing; ':memory:' for a private in-memory database. */
  path: string;
  /** How long a write waits for another process's write lock before failing (default 5,000 ms; the wait blocks). */
  busyTimeoutMs?: number;
  /** Sessions whose parsed runs stay in memory between runs (default 500; 0: none). */
  cacheSessions?: number;
}

const RULES = {
  path: ((v) => (is.nonEmptyString(v) === undefined ? undefined : "a file path such as '.hookchain/sessions.db' (or ':memory:')")) as Rule,
  // SQLite stores it in a C int: past 2³¹−1 it wraps and the wait is lost. 0 means do not wait at all.
  busyTimeoutMs: ((v) =>
    v === 0 || is.timeoutMs(v) === undefined
      ? undefined
      : `0 (do not wait) or a whole number of milliseconds from 1 to ${MAX_TIMEOUT_MS}`) as Rule,
  cacheSessions: is.nonNegativeInt,
};

/**
 * Sessions in one SQLite file, through Node's built-in `node:sqlite` (nothing to compile or download): they
 * survive a restart, and several processes may share the file (a conflicting save throws `SessionConflictError`).
 * Each run is appended as a row; parsed runs are cached and revalidated on every `get`. Every call is synchronous
 * and blocks the event loop while it runs. Call `close()` when done.
 *
 * @example
 * const store = new SqliteSessionStore({ path: '.hookchain/sessions.db' }); // file and directory created if missing
 * const agent = new Agent({ model, sessionStore: store, addHistoryToContext: true });
 * await agent.run('My order is 1234', { sessionId: 's1', userId: 'ada' });
 * store.close();
 */
export class SqliteSessionStore implements SessionStore {
  /** The database file (or `':memory:'`). */
  readonly path: string;
  private db: DatabaseSync | undefined;
  private sql: Statements | undefined;
  private readonly cache: RunCache;
  /** The runs each session object had when get() (or save()) handed it over: what a save compares against. */
  private readonly loaded = new WeakMap<AgentSession, readonly RunOutput[]>();

  /**
   * Opens (or creates) the database now: a bad path, a damaged or foreign file or a newer schema throws a
   * `SessionStoreError` here, not at the first run.
   *
   * @param options `path` (required), `busyTimeoutMs`, `cacheSessions`.
   */
  constructor(options: SqliteSessionStoreOptions) {
    const {
      path,
      busyTimeoutMs = 5_000,
      cacheSessions = 500,
    } = checkOptions<SqliteSessionStoreOptions>('new SqliteSessionStore()', options, RULES, ['path']);
    this.path = path!;
    this.cache = new RunCache(cacheSessions);
    this.db = openDatabase(this.path, busyTimeoutMs);
    this.sql = statements(this.db);
  }

  get(sessionId: string): AgentSession | undefined {
    checkSessionId(sessionId, 'SqliteSessionStore.get()');
    const sql = this.open();
    try {
      let row = sql.session.get(sessionId) as SessionRow | undefined;
      if (row === undefined) return undefined;
      let runs: RunOutput[];
      const cached = this.cache.get(sessionId);
      let loaded: readonly RunOutput[];
      if (cached !== undefined && cached.version === row.version) {
        runs = cached.runs.slice();
        loaded = cached.runs;
      } else {
        // Row and runs from one snapshot, so a concurrent writer cannot give us a mix.
        const read = this.transaction(false, () => {
          const again = sql.session.get(sessionId) as SessionRow | undefined;
          return again === undefined ? undefined : { row: again, runs: this.readRuns(sql, sessionId, again, cached) };
        });
        if (read === undefined) return undefined;
        row = read.row;
        runs = read.runs;
        loaded = runs.slice();
        this.cache.remember(sessionId, row.version, row.run_rewrites, loaded);
      }
      const { agent_id, user_id, version, created_at, updated_at } = row;
      const sessionState = parseState(row, sessionId, this.path);
      const session: AgentSession = {
        sessionId,
        agentId: agent_id,
        userId: user_id ?? undefined,
        sessionState,
        runs,
        createdAt: created_at,
        updatedAt: updated_at,
        version,
      };
      this.loaded.set(session, loaded);
      return session;
    } catch (error) {
      throw storeError(error, this.path);
    }
  }

  save(session: AgentSession): void {
    const sql = this.open();
    checkSessionToSave(session, 'SqliteSessionStore');
    const id = session.sessionId;
    assertStorable(session.sessionState, 'sessionState', id);
    const state = toJson(session.sessionState, id, this.path, 'sessionState');
    const runs = session.runs;
    const read = session.version ?? 0;
    let version = 0;
    let from = 0; // runs[from..] are written; the ones before are already stored
    let replaced: number[] | undefined = [];
    let rewrites = 0;
    try {
      this.transaction(true, () => {
        const head = sql.head.get(id) as
          { version: number; run_count: number; last_run_id: string | null; run_rewrites: number } | undefined;
        version = nextSessionVersion(session, head?.version, this.path);
        // The stored runs are a prefix of ours (the usual case: the agent appended one): write only the rest.
        from = head === undefined ? 0 : firstUnstoredRun(runs, head.run_count, head.last_run_id);
        // Runs of the prefix that are not the objects get() returned were replaced where they stand (a paused run,
        // resumed); a replacement with another runId is not a replacement, and the whole list is written again.
        replaced = from === 0 ? [] : replacedRuns(runs, this.loaded.get(session), from);
        if (replaced === undefined) from = 0;
        checkNewRuns(session, from, 'SqliteSessionStore'); // before the first write: a refused save writes nothing
        for (const i of replaced ?? []) assertStorable(runs[i], `runs[${i}]`, id);
        const last = runs.length === 0 ? null : runs[runs.length - 1]!.runId;
        const values = [
          session.agentId,
          session.userId ?? null,
          state,
          version,
          runs.length,
          last,
          session.createdAt,
          session.updatedAt,
        ] as const;
        if (head === undefined) {
          sql.deleteRuns.run(id);
          sql.insertSession.run(id, ...values);
        } else {
          if (from === 0) sql.deleteRuns.run(id);
          rewrites = head.run_rewrites + (from === 0 || replaced!.length > 0 ? 1 : 0);
          sql.updateSession.run(...values, rewrites, id);
        }
        for (const i of replaced ?? []) {
          const run = runs[i]!;
          sql.updateRun.run(run.createdAt, toJson(run, id, this.path, `runs[${i}]`), id, i);
        }
        for (let i = from; i < runs.length; i++) {
          const run = runs[i]!;
          sql.insertRun.run(id, i, run.runId, run.createdAt, toJson(run, id, this.path, `runs[${i}]`));
        }
      });
    } catch (error) {
      throw storeError(error, this.path);
    }
    session.version = version;
    this.loaded.set(session, runs.slice());
    this.cache.saved(id, read, version, rewrites, runs, from, replaced ?? []);
  }

  /** Removes the session and its runs in one transaction; an unknown id does nothing. */
  delete(sessionId: string): void {
    checkSessionId(sessionId, 'SqliteSessionStore.delete()');
    const sql = this.open();
    try {
      this.transaction(true, () => {
        sql.deleteRuns.run(sessionId);
        sql.deleteSession.run(sessionId);
      });
    } catch (error) {
      throw storeError(error, this.path);
    }
    this.cache.delete(sessionId);
  }

  listSessions(options: ListSessionsOptions): SessionSummary[] {
    const limit = checkListOptions(options, 'SqliteSessionStore');
    const sql = this.open();
    try {
      const rows = (
        options.agentId === undefined
          ? sql.listByUser.all(options.userId, limit)
          : sql.listByUserAgent.all(options.userId, options.agentId, limit)
      ) as {
        session_id: string;
        agent_id: string;
        user_id: string | null;
        run_count: number;
        created_at: number;
        updated_at: number;
      }[];
      return rows.map((r) => ({
        sessionId: r.session_id,
        agentId: r.agent_id,
        userId: r.user_id ?? undefined,
        runCount: r.run_count,
        createdAt: r.created_at,
        updatedAt: r.updated_at,
      }));
    } catch (error) {
      throw storeError(error, this.path);
    }
  }

  /** Closes the file. Later calls throw; closing twice is fine. */
  close(): void {
    this.db?.close();
    this.db = undefined;
    this.sql = undefined;
    this.cache.clear();
  }

  private open(): Statements {
    if (this.sql === undefined) {
      throw new SessionStoreError(
        'STORE_CLOSED',
        `SqliteSessionStore: "${this.path}" was closed; create a new SqliteSessionStore to use it again`,
        { path: this.path },
      );
    }
    return this.sql;
  }

  /**
   * The session's runs. When the cache holds an older version whose newest run is still stored at the same place
   * (another process appended), only the runs after it are read and parsed.
   */
  private readRuns(sql: Statements, sessionId: string, row: SessionRow, cached: CachedRuns | undefined): RunOutput[] {
    let kept: readonly RunOutput[] = [];
    if (cached !== undefined && cached.rewrites === row.run_rewrites && cached.runs.length > 0 && cached.runs.length <= row.run_count) {
      const at = sql.runIdAt.get(sessionId, cached.runs.length - 1) as { run_id: string } | undefined;
      if (at?.run_id === cached.runs.at(-1)!.runId) kept = cached.runs;
    }
    const from = kept.length;
    const rows = sql.runsFrom.all(sessionId, from) as { data: string }[];
    if (from + rows.length !== row.run_count) {
      throw corrupt(
        sessionId,
        this.path,
        'run list (runs)',
        `${from + rows.length} rows long where sessions.run_count says ${row.run_count}`,
      );
    }
    const fresh = rows.map((r, i) => parseRun(r.data, sessionId, this.path, from + i));
    return from === 0 ? fresh : kept.concat(fresh);
  }

  private transaction<T>(write: boolean, work: () => T): T {
    const sql = this.sql!;
    (write ? sql.beginWrite : sql.begin).run();
    try {
      const result = work();
      sql.commit.run();
      return result;
    } catch (error) {
      try {
        sql.rollback.run();
      } catch {
        // Already ended (a failed COMMIT rolls back by itself); the original error is the one to report.
      }
      throw error;
    }
  }
}

type Statements = ReturnType<typeof statements>;

function statements(db: DatabaseSync) {
  const q = (text: string): StatementSync => db.prepare(text);
  const summary = 'SELECT session_id, agent_id, user_id, run_count, created_at, updated_at FROM sessions';
  return {
    begin: q('BEGIN'),
    beginWrite: q('BEGIN IMMEDIATE'), // takes the write lock before reading the version: check and write are one step
    commit: q('COMMIT'),
    rollback: q('ROLLBACK'),
    session: q(
      'SELECT agent_id, user_id, state, version, run_count, run_rewrites, created_at, updated_at FROM sessions WHERE session_id = ?',
    ),
    runsFrom: q('SELECT data FROM runs WHERE session_id = ? AND seq >= ? ORDER BY seq'),
    runIdAt: q('SELECT run_id FROM runs WHERE session_id = ? AND seq = ?'),
    head: q('SELECT version, run_count, last_run_id, run_rewrites FROM sessions WHERE session_id = ?'),
    insertSession: q(
      'INSERT INTO sessions (session_id, agent_id, user_id, state, version, run_count, last_run_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    updateSession: q(
      'UPDATE sessions SET agent_id = ?, user_id = ?, state = ?, version = ?, run_count = ?, last_run_id = ?, created_at = ?, updated_at = ?, run_rewrites = ? WHERE session_id = ?',
    ),
    insertRun: q('INSERT INTO runs (session_id, seq, run_id, created_at, data) VALUES (?, ?, ?, ?, ?)'),
    updateRun: q('UPDATE runs SET created_at = ?, data = ? WHERE session_id = ? AND seq = ?'),
    deleteRuns: q('DELETE FROM runs WHERE session_id = ?'),
    deleteSession: q('DELETE FROM sessions WHERE session_id = ?'),
    listByUser: q(`${summary} WHERE user_id = ? ORDER BY updated_at DESC, session_id LIMIT ?`),
    listByUserAgent: q(`${summary} WHERE user_id = ? AND agent_id = ? ORDER BY updated_at DESC, session_id LIMIT ?`),
  };
}
