/**
 * One run at a time per session, in this process: a run holds its session from load to save, so two concurrent runs
 * on one session id never both start from the same stored version. Locks belong to the store (every agent sharing a
 * store shares them). An entry exists only while its session is held, so idle sessions cost nothing; an uncontended
 * acquire is one Map lookup and insert, with no promise.
 */
import { RunAbortedError } from '../errors.ts';
import type { SessionStore } from './store.ts';

interface Waiter {
  resolve: () => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

export class SessionLocks {
  /** Held sessions; the value is the queue of waiting runs, null while nobody waits. */
  private readonly held = new Map<string, Waiter[] | null>();

  /** Sessions held right now (for tests: 0 once every run has settled). */
  get size(): number {
    return this.held.size;
  }

  /**
   * Takes the session: returns undefined when it was free, else a promise that resolves when it is this caller's
   * turn (first come, first served), or rejects with an AbortError if `signal` aborts first.
   */
  acquire(sessionId: string, signal?: AbortSignal): Promise<void> | undefined {
    const queue = this.held.get(sessionId);
    if (queue === undefined) {
      this.held.set(sessionId, null);
      return undefined;
    }
    if (signal?.aborted) return Promise.reject(new RunAbortedError(signal.reason));
    const waiters = queue ?? [];
    if (queue === null) this.held.set(sessionId, waiters);
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, signal, onAbort: undefined };
      if (signal !== undefined) {
        waiter.onAbort = () => {
          const at = waiters.indexOf(waiter);
          if (at !== -1) waiters.splice(at, 1);
          reject(new RunAbortedError(signal.reason));
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      waiters.push(waiter);
    });
  }

  /** Hands the session to the next waiter, or frees it. Call exactly once per successful acquire. */
  release(sessionId: string): void {
    const queue = this.held.get(sessionId);
    const next = queue?.shift();
    if (next === undefined) {
      this.held.delete(sessionId);
      return;
    }
    if (next.onAbort !== undefined) next.signal!.removeEventListener('abort', next.onAbort);
    next.resolve();
  }
}

const byStore = new WeakMap<SessionStore, SessionLocks>();

export function sessionLocks(store: SessionStore): SessionLocks {
  let locks = byStore.get(store);
  if (locks === undefined) byStore.set(store, (locks = new SessionLocks()));
  return locks;
}
