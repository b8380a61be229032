/**
 * Where sessions live. A store may answer synchronously or with a promise; the agent awaits only promises, so an
 * in-memory store costs no extra microtask per run. The full contract, for anyone writing a store, is in
 * docs/sessions.md ("Writing a store"); spec/sessions/contract.ts checks it.
 */
import { HookchainConfigError } from '../errors.ts';
import { describe } from '../options.ts';
import type { AgentSession } from '../types.ts';
import { SessionConflictError } from './errors.ts';

export type MaybePromise<T> = T | Promise<T>;

/** One line of `listSessions()`: what a session picker needs, without the runs. */
export interface SessionSummary {
  sessionId: string;
  agentId: string;
  userId: string | undefined;
  runCount: number;
  createdAt: number;
  updatedAt: number;
}

export interface ListSessionsOptions {
  userId: string;
  /** Only this agent's sessions. */
  agentId?: string;
  /** Most summaries returned, most recently updated first (default 100). */
  limit?: number;
}

export interface SessionStore {
  /**
   * The session with its `version` set, or undefined when there is none. The returned object belongs to the caller:
   * mutating it must not change the store.
   */
  get(sessionId: string): MaybePromise<AgentSession | undefined>;
  /**
   * Writes the session if nobody saved it since it was read: the stored version must equal `session.version`
   * (absent: 0), or the store holds no such session. Otherwise it throws `SessionConflictError` and writes nothing.
   * On success it sets `session.version` to the new version. The store copies what it keeps. Runs are records: a
   * run already stored at the same position with the same `runId` may be assumed unchanged.
   */
  save(session: AgentSession): MaybePromise<void>;
  delete(sessionId: string): MaybePromise<void>;
  /** A user's sessions, most recently updated first. */
  listSessions(options: ListSessionsOptions): MaybePromise<SessionSummary[]>;
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

/** Validates `listSessions()` options the same way in every store; returns the limit. */
export function checkListOptions(options: ListSessionsOptions, where: string): number {
  if (options === null || typeof options !== 'object') {
    throw new HookchainConfigError('INVALID_OPTION', `${where}.listSessions(): pass { userId }, got ${describe(options)}`);
  }
  const { userId, agentId, limit = 100 } = options;
  if (typeof userId !== 'string' || userId === '') {
    throw new HookchainConfigError('INVALID_OPTION', `${where}.listSessions(): "userId" must be a non-empty string, got ${describe(userId)}`);
  }
  if (agentId !== undefined && (typeof agentId !== 'string' || agentId === '')) {
    throw new HookchainConfigError('INVALID_OPTION', `${where}.listSessions(): "agentId" must be a non-empty string, got ${describe(agentId)}`);
  }
  if (!Number.isInteger(limit) || limit < 1) {
    throw new HookchainConfigError('INVALID_OPTION', `${where}.listSessions(): "limit" must be a positive integer, got ${describe(limit)}`);
  }
  return limit;
}
