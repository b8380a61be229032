/**
 * Sessions in PostgreSQL, for several processes (API servers behind a load balancer, workers) sharing them. The
 * same model as the SQLite store: one `sessions` row with a version and one `runs` row per run, appended; a save is
 * one transaction that locks the session row (`SELECT … FOR UPDATE`) and refuses a stale version. On top of that the
 * store locks a session across processes (`lock()`, a session-level advisory lock on a connection of its own), so
 * concurrent runs of one session queue instead of conflicting. While a run holds its session, its `get()` and
 * `save()` go through that connection: a run never waits for a second connection, so a full pool cannot deadlock.
 */
import { createRequire } from 'node:module';
import { HookchainConfigError, RunAbortedError } from '../errors.ts';
import { checkOptions, describe, is, type Rule } from '../options.ts';
import type { AgentSession, RunOutput } from '../types.ts';
import { RunCache } from './run-cache.ts';
import { SessionConflictError, SessionStoreError } from './errors.ts';
import { SessionLocks } from './lock.ts';
import { corrupt, epochMs, parseRun, parseState, toJson, type PgSessionRow } from './postgres-rows.ts';
import { SCHEMA_NAME, migrate } from './postgres-schema.ts';
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

/** A query result, as `pg` returns it. */
export interface PostgresQueryResult {
  /** The rows, one object per row keyed by column name. */
  rows: unknown[];
  /** Rows affected (or returned); null for commands that have no count. */
  rowCount: number | null;
}

/** What the store uses of a connection checked out of the pool (`pg`'s `PoolClient` has it). */
export interface PostgresPoolClient {
  /** Runs one statement with `$1…` parameters. */
  query(text: string, values?: unknown[]): Promise<PostgresQueryResult>;
  /** Gives the connection back to the pool; with an error (or true), closes it instead. */
  release(destroy?: Error | boolean): void;
  /** Connection errors while the store holds it (a server restart) arrive here instead of crashing the process. */
  on(event: 'error', listener: (error: Error) => void): unknown;
  /** Removes the listener `on()` added. */
  removeListener(event: 'error', listener: (error: Error) => void): unknown;
}

/** What the store uses of a connection pool: `pg`'s `Pool` (`import pg from 'pg'; new pg.Pool({ … })`) has it. */
export interface PostgresPool {
  /** Checks a connection out. */
  connect(): Promise<PostgresPoolClient>;
  /** Runs one statement on any connection. */
  query(text: string, values?: unknown[]): Promise<PostgresQueryResult>;
  /** Closes every connection. */
  end(): Promise<void>;
}

/** Options of `new PostgresSessionStore(options)`: exactly one of `connectionString` and `pool`. */
export interface PostgresSessionStoreOptions {
  /**
   * `postgres://user:password@host:port/database`: the store makes its own `pg` pool (package `pg`, installed beside
   * hookchain) and `close()` ends it.
   */
  connectionString?: string;
  /** A `pg` pool of yours; the store checks connections out of it and leaves it open at `close()`. */
  pool?: PostgresPool;
  /** The PostgreSQL schema that holds the tables (created when missing; default `hookchain`). */
  schema?: string;
  /** Sessions whose parsed runs stay in memory between runs (default 500; 0: none). */
  cacheSessions?: number;
}

const RULES = {
  connectionString: ((v) =>
    is.nonEmptyString(v) === undefined ? undefined : "a connection string such as 'postgres://user@127.0.0.1:5432/app'") as Rule,
  pool: ((v) =>
    v !== null &&
    typeof v === 'object' &&
    typeof (v as PostgresPool).connect === 'function' &&
    typeof (v as PostgresPool).query === 'function'
      ? undefined
      : "a pg Pool (import pg from 'pg'; new pg.Pool({ … }))") as Rule,
  schema: ((v) =>
    typeof v === 'string' && SCHEMA_NAME.test(v)
      ? undefined
      : 'a lowercase SQL identifier such as "hookchain" (letters, digits, _)') as Rule,
  cacheSessions: is.nonNegativeInt,
};

/** A session this store holds across processes: the connection holding the advisory lock, and its work queue. */
interface Held {
  client: PostgresPoolClient;
  /** The session's statements run one after another on the connection (a save's transaction is never interleaved). */
  queue: Promise<unknown>;
}

interface SessionRead extends PgSessionRow {
  from_seq: number;
  runs: string[];
}

/**
 * Sessions in PostgreSQL (package `pg`), shared by any number of processes: versioned saves refuse a stale session
 * (`SessionConflictError`), and runs of one session from several processes queue (a cross-process lock per
 * session) and all succeed. Runs are appended as rows; parsed runs are cached and revalidated on every `get`. The
 * tables are created (and migrated) on the first call. Every call is asynchronous. Call `close()` when done.
 *
 * @example
 * const store = new PostgresSessionStore({ connectionString: process.env.DATABASE_URL });
 * const agent = new Agent({ model, sessionStore: store, addHistoryToContext: true });
 * await agent.run('My order is 1234', { sessionId: 's1', userId: 'ada' });
 * await store.close();
 */
export class PostgresSessionStore implements SessionStore {
  /** The PostgreSQL schema holding the tables. */
  readonly schema: string;
  private pool: PostgresPool | undefined;
  private readonly ownsPool: boolean;
  private ready: Promise<void> | undefined;
  private readonly sessions: string;
  private readonly runs: string;
  private readonly cache: RunCache;
  /** The runs each session object had when get() (or save()) handed it over: what a save compares against. */
  private readonly loaded = new WeakMap<AgentSession, readonly RunOutput[]>();
  /** Sessions locked across processes by this store object. */
  private readonly held = new Map<string, Held>();
  /** `lock()` calls of this object queue here first, so one connection at most asks PostgreSQL for a session. */
  private readonly turns = new SessionLocks();

  /**
   * Checks the options; connects on the first call (a wrong address or password fails that call).
   *
   * @param options `connectionString` or `pool` (exactly one), `schema`, `cacheSessions`.
   */
  constructor(options: PostgresSessionStoreOptions) {
    const where = 'new PostgresSessionStore()';
    const checked = checkOptions<PostgresSessionStoreOptions>(where, options, RULES);
    const { connectionString, pool, schema = 'hookchain', cacheSessions = 500 } = checked;
    if ((connectionString === undefined) === (pool === undefined)) {
      throw new HookchainConfigError(
        'INVALID_OPTION',
        `${where}: pass exactly one of connectionString ('postgres://user@host:5432/db') and pool (a pg Pool), got ${
          connectionString === undefined ? 'neither' : 'both'
        }`,
      );
    }
    this.schema = schema;
    this.sessions = `"${schema}".sessions`;
    this.runs = `"${schema}".runs`;
    this.cache = new RunCache(cacheSessions);
    this.ownsPool = pool === undefined;
    this.pool = pool ?? createPool(connectionString!);
  }

  async get(sessionId: string): Promise<AgentSession | undefined> {
    checkSessionId(sessionId, 'PostgresSessionStore.get()');
    const cached = this.cache.get(sessionId);
    const last = cached?.runs.at(-1);
    // One statement, so one snapshot: the row and the runs after the ones cached (none when the cache is current).
    const { rows } = await this.on(sessionId, (c) =>
      c.query(
        `SELECT s.agent_id, s.user_id, s.state::text AS state, s.version, s.run_count, s.run_rewrites,
                s.created_at::text AS created_at, s.updated_at::text AS updated_at, k.from_seq,
                ARRAY(SELECT r.data::text FROM ${this.runs} r WHERE r.session_id = s.session_id AND r.seq >= k.from_seq ORDER BY r.seq) AS runs
           FROM ${this.sessions} s
          CROSS JOIN LATERAL (SELECT CASE
                 WHEN $3::integer > 0 AND s.run_rewrites = $2 AND $3 <= s.run_count
                  AND (SELECT r.run_id FROM ${this.runs} r WHERE r.session_id = s.session_id AND r.seq = $3 - 1) = $4 THEN $3
                 ELSE 0 END AS from_seq) k
          WHERE s.session_id = $1`,
        [sessionId, cached?.rewrites ?? 0, cached?.runs.length ?? 0, last?.runId ?? null],
      ),
    );
    const row = rows[0] as SessionRead | undefined;
    if (row === undefined) {
      this.cache.delete(sessionId);
      return undefined;
    }
    const from = row.from_seq;
    if (from + row.runs.length !== row.run_count) {
      throw corrupt(
        sessionId,
        `run list (${this.runs})`,
        `${from + row.runs.length} rows long where sessions.run_count says ${row.run_count}`,
      );
    }
    const fresh = row.runs.map((data, i) => parseRun(data, sessionId, this.runs, from + i));
    const kept: RunOutput[] = from === 0 ? fresh : cached!.runs.concat(fresh);
    const sessionState = parseState(row, sessionId, this.sessions);
    const createdAt = epochMs(row.created_at, sessionId, `${this.sessions}.created_at`);
    const updatedAt = epochMs(row.updated_at, sessionId, `${this.sessions}.updated_at`);
    // The cache moved to most recently used when it was read; it changes only if this read found something new.
    if (from === 0 || fresh.length > 0 || cached!.version !== row.version)
      this.cache.remember(sessionId, row.version, row.run_rewrites, kept);
    const session: AgentSession = {
      sessionId,
      agentId: row.agent_id,
      userId: row.user_id ?? undefined,
      sessionState,
      runs: kept.slice(),
      createdAt,
      updatedAt,
      version: row.version,
    };
    this.loaded.set(session, kept);
    return session;
  }

  async save(session: AgentSession): Promise<void> {
    this.open();
    checkSessionToSave(session, 'PostgresSessionStore');
    const id = session.sessionId;
    assertStorable(session.sessionState, 'sessionState', id);
    const state = toJson(session.sessionState, id, 'sessionState');
    const runs = session.runs;
    const read = session.version ?? 0;
    const loaded = this.loaded.get(session);
    const outcome = await this.on(id, (c) =>
      transaction(c, async () => {
        const head = (
          await c.query(`SELECT version, run_count, last_run_id, run_rewrites FROM ${this.sessions} WHERE session_id = $1 FOR UPDATE`, [id])
        ).rows[0] as { version: number; run_count: number; last_run_id: string | null; run_rewrites: number } | undefined;
        const version = nextSessionVersion(session, head?.version);
        // The stored runs are a prefix of ours (the usual case: the agent appended one): write only the rest.
        let from = head === undefined ? 0 : firstUnstoredRun(runs, head.run_count, head.last_run_id);
        // Runs of the prefix that are not the objects get() returned were replaced where they stand (a paused run,
        // resumed); a replacement with another runId is not a replacement, and the whole list is written again.
        let replaced = from === 0 ? [] : replacedRuns(runs, loaded, from);
        if (replaced === undefined) {
          from = 0;
          replaced = [];
        }
        checkNewRuns(session, from, 'PostgresSessionStore'); // before the first write: a refused save writes nothing
        for (const i of replaced) assertStorable(runs[i], `runs[${i}]`, id);
        const json = (i: number) => toJson(runs[i], id, `runs[${i}]`);
        const fresh = Array.from({ length: runs.length - from }, (_, k) => json(from + k));
        const rewritten = replaced.map(json);
        const last = runs.length === 0 ? null : runs[runs.length - 1]!.runId;
        const values = [
          id,
          session.agentId,
          session.userId ?? null,
          state,
          version,
          runs.length,
          last,
          session.createdAt,
          session.updatedAt,
        ];
        let rewrites = 0;
        if (head === undefined) {
          // Someone may create it between our SELECT and INSERT: then nothing is inserted, and that is a conflict.
          const inserted = await c.query(
            `INSERT INTO ${this.sessions} (session_id, agent_id, user_id, state, version, run_count, last_run_id, created_at, updated_at)
             VALUES ($1, $2, $3, $4::json, $5, $6, $7, $8, $9) ON CONFLICT (session_id) DO NOTHING`,
            values,
          );
          if (inserted.rowCount === 0) {
            const now = (await c.query(`SELECT version FROM ${this.sessions} WHERE session_id = $1`, [id])).rows[0] as
              { version: number } | undefined;
            throw new SessionConflictError(id, read, now?.version ?? 0);
          }
        } else {
          if (from === 0) await c.query(`DELETE FROM ${this.runs} WHERE session_id = $1`, [id]);
          rewrites = head.run_rewrites + (from === 0 || replaced.length > 0 ? 1 : 0);
          await c.query(
            `UPDATE ${this.sessions} SET agent_id = $2, user_id = $3, state = $4::json, version = $5, run_count = $6, last_run_id = $7,
                    created_at = $8, updated_at = $9, run_rewrites = $10 WHERE session_id = $1`,
            [...values, rewrites],
          );
        }
        if (replaced.length > 0) {
          await c.query(
            `UPDATE ${this.runs} r SET created_at = u.created_at, data = u.data::json
               FROM unnest($2::integer[], $3::bigint[], $4::text[]) AS u(seq, created_at, data)
              WHERE r.session_id = $1 AND r.seq = u.seq`,
            [id, replaced, replaced.map((i) => runs[i]!.createdAt), rewritten],
          );
        }
        if (fresh.length > 0) {
          const seqs = fresh.map((_, k) => from + k);
          await c.query(
            `INSERT INTO ${this.runs} (session_id, seq, run_id, created_at, data)
             SELECT $1, u.seq, u.run_id, u.created_at, u.data::json FROM unnest($2::integer[], $3::text[], $4::bigint[], $5::text[]) AS u(seq, run_id, created_at, data)`,
            [id, seqs, seqs.map((i) => runs[i]!.runId), seqs.map((i) => runs[i]!.createdAt), fresh],
          );
        }
        return { version, rewrites, from, replaced };
      }),
    );
    session.version = outcome.version;
    this.loaded.set(session, runs.slice());
    this.cache.saved(id, read, outcome.version, outcome.rewrites, runs, outcome.from, outcome.replaced);
  }

  /** Removes the session and its runs in one statement (the runs go with it); an unknown id does nothing. */
  async delete(sessionId: string): Promise<void> {
    checkSessionId(sessionId, 'PostgresSessionStore.delete()');
    this.cache.delete(sessionId);
    await this.on(sessionId, (c) => c.query(`DELETE FROM ${this.sessions} WHERE session_id = $1`, [sessionId]));
    this.cache.delete(sessionId);
  }

  async listSessions(options: ListSessionsOptions): Promise<SessionSummary[]> {
    const limit = checkListOptions(options, 'PostgresSessionStore');
    const agent = options.agentId === undefined ? '' : 'AND agent_id = $3';
    const { rows } = await this.on(undefined, (c) =>
      c.query(
        `SELECT session_id, agent_id, user_id, run_count, created_at::text AS created_at, updated_at::text AS updated_at
           FROM ${this.sessions} WHERE user_id = $1 ${agent} ORDER BY updated_at DESC, session_id LIMIT $2`,
        options.agentId === undefined ? [options.userId, limit] : [options.userId, limit, options.agentId],
      ),
    );
    return (
      rows as { session_id: string; agent_id: string; user_id: string | null; run_count: number; created_at: string; updated_at: string }[]
    ).map((r) => ({
      sessionId: r.session_id,
      agentId: r.agent_id,
      userId: r.user_id ?? undefined,
      runCount: r.run_count,
      createdAt: epochMs(r.created_at, r.session_id, `${this.sessions}.created_at`),
      updatedAt: epochMs(r.updated_at, r.session_id, `${this.sessions}.updated_at`),
    }));
  }

  /**
   * Holds the session across processes until the returned function is called (the agent does both around a run):
   * a session-level advisory lock on a connection of its own, which this session's `get()` and `save()` then use. A
   * process that dies lets its locks go with its connections. If `signal` aborts first, rejects with a
   * `RunAbortedError` and holds nothing.
   */
  async lock(sessionId: string, signal?: AbortSignal): Promise<() => Promise<void>> {
    checkSessionId(sessionId, 'PostgresSessionStore.lock()');
    await this.turns.acquire(sessionId, signal);
    let client: PostgresPoolClient | undefined;
    const onError = () => undefined; // the next statement on the connection fails, and the release closes it
    const key = `${this.schema}/${sessionId}`; // a schema name holds no '/'
    try {
      const pool = await this.connected();
      throwIfAborted(signal);
      client = await pool.connect();
      client.on('error', onError);
      const locked = client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [key]);
      if (signal !== undefined && (await raceSignal(locked, signal))) {
        // Closing the connection ends its wait (and the lock, should it get it) without stalling this run.
        void locked.catch(() => undefined);
        throw new RunAbortedError(signal.reason);
      }
      await locked;
    } catch (error) {
      if (client !== undefined) {
        client.removeListener('error', onError);
        client.release(true);
      }
      this.turns.release(sessionId);
      throw error;
    }
    const held: Held = { client, queue: Promise.resolve() };
    this.held.set(sessionId, held);
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      this.held.delete(sessionId);
      try {
        await held.queue;
        await held.client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [key]);
        held.client.removeListener('error', onError);
        held.client.release();
      } catch (error) {
        held.client.removeListener('error', onError);
        held.client.release(error instanceof Error ? error : true); // closed: PostgreSQL drops its locks with it
      } finally {
        this.turns.release(sessionId);
      }
    };
  }

  /**
   * Ends the pool the store made from `connectionString` (a pool you passed stays open). Later calls throw;
   * closing twice is fine.
   */
  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    this.cache.clear();
    if (pool !== undefined && this.ownsPool) await pool.end();
  }

  private open(): PostgresPool {
    if (this.pool === undefined) {
      throw new SessionStoreError(
        'STORE_CLOSED',
        `PostgresSessionStore: the store (schema "${this.schema}") was closed; create a new PostgresSessionStore to use it again`,
      );
    }
    return this.pool;
  }

  /** The pool, once the schema is migrated (on the first call; a failed attempt is tried again on the next). */
  private async connected(): Promise<PostgresPool> {
    const pool = this.open();
    this.ready ??= (async () => {
      const client = await pool.connect();
      try {
        await migrate(client, this.schema);
        client.release();
      } catch (error) {
        client.release(error instanceof SessionStoreError ? undefined : error instanceof Error ? error : true);
        throw error;
      }
    })().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    await this.ready;
    return pool;
  }

  /**
   * Runs `work` on the connection that holds the session when this store holds it (after the work queued on it),
   * else on a connection of the pool.
   */
  private async on<T>(sessionId: string | undefined, work: (client: PostgresPoolClient) => Promise<T>): Promise<T> {
    const pool = await this.connected();
    const held = sessionId === undefined ? undefined : this.held.get(sessionId);
    if (held !== undefined) {
      const done = held.queue.then(
        () => work(held.client),
        () => work(held.client),
      );
      held.queue = done.catch(() => undefined);
      return done;
    }
    const client = await pool.connect();
    try {
      const result = await work(client);
      client.release();
      return result;
    } catch (error) {
      // A broken connection is closed rather than handed to the next caller; a refused save leaves it fine.
      client.release(error instanceof SessionStoreError || isServerError(error) ? undefined : error instanceof Error ? error : true);
      throw error;
    }
  }
}

/** `pg` loaded on first use, so hookchain/postgres loads (for its types, or with a pool of yours) without it. */
function createPool(connectionString: string): PostgresPool {
  let pg: { Pool: new (config: { connectionString: string }) => PostgresPool & { on(event: 'error', fn: () => void): unknown } };
  try {
    pg = createRequire(import.meta.url)('pg') as typeof pg;
  } catch (error) {
    throw new HookchainConfigError(
      'INVALID_OPTION',
      `new PostgresSessionStore(): option "connectionString" needs the package pg (npm install pg), which could not be loaded (${error instanceof Error ? error.message : describe(error)})`,
      { cause: error },
    );
  }
  const pool = new pg.Pool({ connectionString });
  // An idle connection that breaks (a server restart) is dropped by the pool; without a listener it would crash us.
  pool.on('error', () => undefined);
  return pool;
}

/** Runs `work` between BEGIN and COMMIT; any failure rolls back (and a rollback that fails leaves the error as it is). */
async function transaction<T>(client: PostgresPoolClient, work: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await work();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** An error PostgreSQL answered with (it has a SQLSTATE): the connection itself is fine. */
function isServerError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof Error && typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new RunAbortedError(signal.reason);
}

/** Waits for `work`; true if `signal` aborted first (work keeps going, its result is the caller's to dispose of). */
function raceSignal(work: Promise<unknown>, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(true);
  return new Promise<boolean>((resolve, reject) => {
    const onAbort = () => resolve(true);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve(false);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error as Error);
      },
    );
  });
}
