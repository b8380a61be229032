/**
 * Where sessions live. A store may answer synchronously or with a promise; the agent awaits only promises, so an
 * in-memory store costs no extra microtask per run. The full contract, for anyone writing a store, is in
 * docs/sessions.md ("Writing a store"); spec/sessions/contract.ts checks it.
 */
import { HookchainConfigError } from '../errors.ts';
import { checkOptions, describe, is, isPlainObject } from '../options.ts';
import type { AgentSession, RunOutput } from '../types.ts';
import { SessionConflictError } from './errors.ts';
import { assertStorable } from './storable.ts';

/** A value, or a promise of it: a store may answer synchronously (no microtask) or asynchronously. */
export type MaybePromise<T> = T | Promise<T>;

/** One line of `listSessions()`: what a session picker needs, without the runs. */
export interface SessionSummary {
  /** The session's id. */
  sessionId: string;
  /** The agent that owns it. */
  agentId: string;
  /** Its user; undefined when it has none. */
  userId: string | undefined;
  /** How many runs it holds. */
  runCount: number;
  /** When it was started, in epoch milliseconds. */
  createdAt: number;
  /** When it was last saved, in epoch milliseconds. */
  updatedAt: number;
}

/** What `listSessions()` selects: one user's sessions, optionally of one agent. */
export interface ListSessionsOptions {
  /** Whose sessions; required (sessions without a user are not listed). */
  userId: string;
  /** Only this agent's sessions. */
  agentId?: string;
  /** Most summaries returned, most recently updated first (default 100). */
  limit?: number;
}

/**
 * Where an agent keeps its sessions (`AgentOptions.sessionStore`). `MemorySessionStore` is the default,
 * `SqliteSessionStore` keeps them in a file; implement this for another database (docs/sessions.md, "Writing a
 * store"). Every method may answer synchronously or with a promise.
 */
export interface SessionStore {
  /**
   * The session with its `version` set, or undefined when there is none. The returned object belongs to the caller:
   * mutating it must not change the store.
   */
  get(sessionId: string): MaybePromise<AgentSession | undefined>;
  /**
   * Writes the session if nobody saved it since it was read: the stored version must equal `session.version`
   * (absent: 0), or the store holds no such session. Otherwise it throws `SessionConflictError` and writes nothing.
   * On success it sets `session.version` to the new version. The store copies what it keeps. Runs are records,
   * with one exception: a paused run's record is replaced where it stands (same position, same `runId`, another
   * object) when it is resumed and when it ends. A store may assume that a run it stored is unchanged when the
   * session holds the very object its `get()` returned there, and must write it again otherwise.
   */
  save(session: AgentSession): MaybePromise<void>;
  /** Removes the session and its runs; deleting an unknown id does nothing. */
  delete(sessionId: string): MaybePromise<void>;
  /** A user's sessions, most recently updated first. */
  listSessions(options: ListSessionsOptions): MaybePromise<SessionSummary[]>;
  /**
   * Optional, for a store that several processes share: holds the session across all of them, so that their runs
   * of one session queue instead of failing with `SessionConflictError`. The agent calls it once it has the
   * session's turn in this process (so at most one call per store object and session is pending), before `get()`,
   * and calls the function it resolves to after the save, on every path; the next run here waits for that
   * function's promise. While held, another process's `lock()` of the session waits; a process that dies lets its
   * locks go. If `signal` aborts while it waits, it rejects with a `RunAbortedError` and holds nothing. A store
   * without it is locked in this process only (the memory store; the SQLite store, whose other processes get
   * `SessionConflictError`).
   */
  lock?(sessionId: string, signal?: AbortSignal): Promise<() => MaybePromise<void>>;
}

export function isSessionStore(value: unknown): value is SessionStore {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as SessionStore).get === 'function' &&
    typeof (value as SessionStore).save === 'function' &&
    typeof (value as SessionStore).delete === 'function' &&
    typeof (value as SessionStore).listSessions === 'function'
  );
}

/**
 * The optimistic-concurrency rule every store applies inside its write: returns the version to store, or throws
 * when someone saved in between. `stored` is the stored session's version, undefined when there is none (never
 * saved, deleted or evicted meanwhile: the save stores it again).
 */
export function nextSessionVersion(session: AgentSession, stored: number | undefined, path?: string): number {
  const expected = session.version ?? 0;
  if (stored !== undefined && stored !== expected) throw new SessionConflictError(session.sessionId, expected, stored, path);
  return expected + 1;
}

const LIST_RULES = { userId: is.nonEmptyString, agentId: is.nonEmptyString, limit: is.positiveInt };

/** Validates `listSessions()` options the same way in every store; returns the limit. */
export function checkListOptions(options: ListSessionsOptions, where: string): number {
  return checkOptions<ListSessionsOptions>(`${where}.listSessions()`, options, LIST_RULES, ['userId']).limit ?? 100;
}

/** A session id as every store takes it: `get`, `save` and `delete` refuse anything else the same way. */
export function checkSessionId(sessionId: unknown, call: string): void {
  if (typeof sessionId !== 'string' || sessionId === '') {
    throw new HookchainConfigError('INVALID_SESSION', `${call}: sessionId must be a non-empty string, got ${describe(sessionId)}`);
  }
}

/**
 * The shape `save()` needs, checked before anything is written so that a wrong field fails the same way in every
 * store (SQLite would otherwise fail with a raw constraint error, and the memory store not at all).
 */
export function checkSessionToSave(session: AgentSession, where: string): void {
  const call = `${where}.save(session)`;
  if (session === null || typeof session !== 'object' || Array.isArray(session)) {
    throw new HookchainConfigError(
      'INVALID_SESSION',
      `${call}: session must be an AgentSession object { sessionId, agentId, sessionState, runs, … }, got ${describe(session)}`,
    );
  }
  checkSessionId(session.sessionId, call);
  const problem = (key: string, expected: string): never => {
    throw new HookchainConfigError(
      'INVALID_SESSION',
      `${call}: session "${session.sessionId}": ${key} must be ${expected}, got ${describe((session as unknown as Record<string, unknown>)[key])}`,
    );
  };
  if (typeof session.agentId !== 'string' || session.agentId === '') problem('agentId', 'a non-empty string');
  if (session.userId !== undefined && typeof session.userId !== 'string') problem('userId', 'a string or undefined');
  if (!Number.isSafeInteger(session.createdAt)) problem('createdAt', 'epoch milliseconds (an integer)');
  if (!Number.isSafeInteger(session.updatedAt)) problem('updatedAt', 'epoch milliseconds (an integer)');
  if (session.version !== undefined && !(Number.isSafeInteger(session.version) && session.version >= 0))
    problem('version', 'the version get() returned, or undefined for a new session');
  if (!isPlainObject(session.sessionState)) problem('sessionState', 'a plain object');
  if (!Array.isArray(session.runs)) problem('runs', 'an array of RunOutput');
}

/**
 * Checks the runs a save is about to write (`runs[from..]`; the ones before are stored already, and checking them
 * again would make every save cost grow with the history).
 */
export function checkNewRuns(session: AgentSession, from: number, where: string): void {
  const { runs, sessionId } = session;
  for (let i = from; i < runs.length; i++) {
    const run = runs[i] as unknown;
    if (
      run === null ||
      typeof run !== 'object' ||
      typeof (run as RunOutput).runId !== 'string' ||
      !Number.isSafeInteger((run as RunOutput).createdAt)
    ) {
      throw new HookchainConfigError(
        'INVALID_SESSION',
        `${where}.save(session): session "${sessionId}": runs[${i}] must be a RunOutput (with a string runId and an integer createdAt), got ${describe(run)}`,
      );
    }
    assertStorable(run, `runs[${i}]`, sessionId);
  }
}

/**
 * Where the runs not yet stored begin. Runs are records: when the stored ones are a prefix of `runs` (the same
 * count, ending with the same runId) only the rest are new; otherwise the whole list replaces them (0).
 */
export function firstUnstoredRun(runs: readonly RunOutput[], storedCount: number, storedLastRunId: string | null | undefined): number {
  return storedCount <= runs.length && (storedCount === 0 || runs[storedCount - 1]?.runId === storedLastRunId) ? storedCount : 0;
}

/**
 * For stores that append runs: the positions below `from` (the stored prefix) whose run is not the object `get()`
 * returned there, so it was replaced in place (a paused run, resumed) and must be written again. Undefined when one
 * of them has another runId: the list was rewritten, not a record replaced, so write it all. `loaded` is the runs
 * array as `get()` handed it out (undefined when unknown: nothing is taken as replaced).
 */
export function replacedRuns(runs: readonly RunOutput[], loaded: readonly RunOutput[] | undefined, from: number): number[] | undefined {
  if (loaded === undefined) return [];
  const replaced: number[] = [];
  for (let i = 0; i < from; i++) {
    const was = loaded[i];
    if (runs[i] === was) continue;
    if (was === undefined || runs[i]!.runId !== was.runId) return undefined;
    replaced.push(i);
  }
  return replaced;
}
