/**
 * Sessions in a Map, least recently used evicted past `maxSessions` so a long-lived process that runs without
 * session ids cannot grow without bound.
 */
import { checkOptions, is } from '../options.ts';
import type { AgentSession } from '../types.ts';
import { copyStoredData, storableCopy } from './storable.ts';
import {
  checkListOptions,
  checkNewRuns,
  checkSessionId,
  checkSessionToSave,
  firstUnstoredRun,
  nextSessionVersion,
  type ListSessionsOptions,
  type SessionStore,
  type SessionSummary,
} from './store.ts';

/** Options of `new MemorySessionStore(options)`. */
export interface MemorySessionStoreOptions {
  /** Most sessions kept; the least recently used goes first (default 10,000). */
  maxSessions?: number;
}

/**
 * Sessions in a `Map` in this process: the default store. It keeps what a JSON store would read back (so switching
 * to `SqliteSessionStore` changes nothing) and evicts the least recently used session past `maxSessions`.
 * Everything is lost on restart. Synchronous: no microtask per run.
 *
 * @example
 * const store = new MemorySessionStore({ maxSessions: 50_000 });
 * const agent = new Agent({ model, sessionStore: store });
 * await agent.run('Hi, I am Ada', { sessionId: 's1', userId: 'ada' });
 * store.listSessions({ userId: 'ada' }); // [{ sessionId: 's1', runCount: 1, … }]
 */
export class MemorySessionStore implements SessionStore {
  private readonly sessions = new Map<string, AgentSession>();
  /** Most sessions kept (default 10,000); past it the least recently used (by `get`/`save`) is evicted. */
  readonly maxSessions: number;

  /**
   * Validates the options at once.
   *
   * @param options `maxSessions` (default 10,000).
   */
  constructor(options?: MemorySessionStoreOptions) {
    const { maxSessions = 10_000 } = checkOptions<MemorySessionStoreOptions>('new MemorySessionStore()', options, {
      maxSessions: is.positiveInt,
    });
    this.maxSessions = maxSessions;
  }

  /** Sessions kept now. */
  get size(): number {
    return this.sessions.size;
  }

  get(sessionId: string): AgentSession | undefined {
    checkSessionId(sessionId, 'MemorySessionStore.get()');
    const stored = this.sessions.get(sessionId);
    if (stored === undefined) return undefined;
    this.sessions.delete(sessionId);
    this.sessions.set(sessionId, stored);
    return copy(stored);
  }

  /** Keeps what a JSON store would read back (see storable.ts), so switching to SQLite changes nothing. */
  save(session: AgentSession): void {
    checkSessionToSave(session, 'MemorySessionStore');
    const stored = this.sessions.get(session.sessionId);
    checkNewRuns(
      session,
      stored === undefined ? 0 : firstUnstoredRun(session.runs, stored.runs.length, stored.runs.at(-1)?.runId),
      'MemorySessionStore',
    );
    const sessionState = storableCopy(session.sessionState, 'sessionState', session.sessionId);
    const version = nextSessionVersion(session, stored?.version);
    const kept: AgentSession = { ...session, sessionState, runs: session.runs.slice(), version };
    this.sessions.delete(session.sessionId);
    this.sessions.set(session.sessionId, kept);
    session.version = version;
    if (this.sessions.size > this.maxSessions) {
      this.sessions.delete(this.sessions.keys().next().value!);
    }
  }

  /** Removes the session; an unknown id does nothing. */
  delete(sessionId: string): void {
    checkSessionId(sessionId, 'MemorySessionStore.delete()');
    this.sessions.delete(sessionId);
  }

  /** A scan of every kept session (at most `maxSessions`); listing does not count as use for eviction. */
  listSessions(options: ListSessionsOptions): SessionSummary[] {
    const limit = checkListOptions(options, 'MemorySessionStore');
    const found: SessionSummary[] = [];
    for (const s of this.sessions.values()) {
      if (s.userId !== options.userId || (options.agentId !== undefined && s.agentId !== options.agentId)) continue;
      found.push({
        sessionId: s.sessionId,
        agentId: s.agentId,
        userId: s.userId,
        runCount: s.runs.length,
        createdAt: s.createdAt,
        updatedAt: s.updatedAt,
      });
    }
    found.sort(byRecency);
    return found.length > limit ? found.slice(0, limit) : found;
  }
}

/** Most recently updated first; ties by id so the order is stable across stores. */
function byRecency(a: SessionSummary, b: SessionSummary): number {
  return b.updatedAt - a.updatedAt || (a.sessionId < b.sessionId ? -1 : a.sessionId > b.sessionId ? 1 : 0);
}

// Finished runs are frozen by the agent, so only the list and the mutable state need copying. The kept state is
// JSON data only (save made it so); rfdc would turn a "__proto__" key into a prototype, so it is not used here.
function copy(session: AgentSession): AgentSession {
  return { ...session, sessionState: copyStoredData(session.sessionState), runs: session.runs.slice() };
}
