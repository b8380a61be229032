/**
 * Sessions in a Map, least recently used evicted past `maxSessions` so a long-lived process that runs without
 * session ids cannot grow without bound.
 */
import { clone } from '../clone.ts';
import { HookchainConfigError } from '../errors.ts';
import type { AgentSession } from '../types.ts';
import { checkListOptions, nextSessionVersion, type ListSessionsOptions, type SessionStore, type SessionSummary } from './store.ts';

export interface MemorySessionStoreOptions {
  /** Most sessions kept; the least recently used goes first (default 10,000). */
  maxSessions?: number;
}

export class MemorySessionStore implements SessionStore {
  private readonly sessions = new Map<string, AgentSession>();
  readonly maxSessions: number;

  constructor(options: MemorySessionStoreOptions = {}) {
    const { maxSessions = 10_000 } = options;
    if (!Number.isInteger(maxSessions) || maxSessions < 1) {
      throw new HookchainConfigError('INVALID_OPTION', `MemorySessionStore: "maxSessions" must be a positive integer, got ${String(maxSessions)}`);
    }
    this.maxSessions = maxSessions;
  }

  get size(): number {
    return this.sessions.size;
  }

  get(sessionId: string): AgentSession | undefined {
    const stored = this.sessions.get(sessionId);
    if (stored === undefined) return undefined;
    this.sessions.delete(sessionId);
    this.sessions.set(sessionId, stored);
    return copy(stored);
  }

  save(session: AgentSession): void {
    const version = nextSessionVersion(session, this.sessions.get(session.sessionId)?.version);
    const kept = copy(session);
    kept.version = version;
    this.sessions.delete(session.sessionId);
    this.sessions.set(session.sessionId, kept);
    session.version = version;
    if (this.sessions.size > this.maxSessions) {
      this.sessions.delete(this.sessions.keys().next().value!);
    }
  }

  delete(sessionId: string): void {
    this.sessions.delete(sessionId);
  }

  /** A scan of every kept session (at most `maxSessions`); listing does not count as use for eviction. */
  listSessions(options: ListSessionsOptions): SessionSummary[] {
    const limit = checkListOptions(options, 'MemorySessionStore');
    const found: SessionSummary[] = [];
    for (const s of this.sessions.values()) {
      if (s.userId !== options.userId || (options.agentId !== undefined && s.agentId !== options.agentId)) continue;
      found.push({ sessionId: s.sessionId, agentId: s.agentId, userId: s.userId, runCount: s.runs.length, createdAt: s.createdAt, updatedAt: s.updatedAt });
    }
    found.sort(byRecency);
    return found.length > limit ? found.slice(0, limit) : found;
  }
}

/** Most recently updated first; ties by id so the order is stable across stores. */
function byRecency(a: SessionSummary, b: SessionSummary): number {
  return b.updatedAt - a.updatedAt || (a.sessionId < b.sessionId ? -1 : a.sessionId > b.sessionId ? 1 : 0);
}

// Finished runs are frozen by the agent, so only the list and the mutable state need copying.
function copy(session: AgentSession): AgentSession {
  return { ...session, sessionState: clone(session.sessionState), runs: session.runs.slice() };
}
