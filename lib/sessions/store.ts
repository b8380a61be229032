/**
 * Where sessions live. A store may answer synchronously or with a promise; the agent awaits only promises, so an
 * in-memory store costs no extra microtask per run.
 */
import type { AgentSession } from '../types.ts';

export type MaybePromise<T> = T | Promise<T>;

export interface SessionStore {
  /** The session, or undefined when there is none. The returned object belongs to the caller: mutating it must not change the store. */
  get(sessionId: string): MaybePromise<AgentSession | undefined>;
  /** Insert or replace. The store must copy what it keeps: the caller goes on using its object. */
  save(session: AgentSession): MaybePromise<void>;
  delete(sessionId: string): MaybePromise<void>;
}

export function isSessionStore(value: unknown): value is SessionStore {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as SessionStore).get === 'function' &&
    typeof (value as SessionStore).save === 'function' &&
    typeof (value as SessionStore).delete === 'function'
  );
}
