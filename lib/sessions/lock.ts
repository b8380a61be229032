/**
 * One run at a time per session, in this process: a run holds its session from load to save, so two concurrent runs
 * on one session id never both start from the same stored version. Locks belong to the store (every agent sharing a
 * store shares them). An entry exists only while its session is held, so idle sessions cost nothing; an uncontended
 * acquire is one Map lookup and insert, with no promise.
 *
 * A store shared by several processes may also hold the session across them (`SessionStore.lock`, e.g. a PostgreSQL
 * advisory lock): it is taken after the turn in this process and let go before the next run here gets its turn, so
 * each process asks the database for a session at most once at a time.
 */
import { RunAbortedError } from '../errors.ts';
import type { MaybePromise, SessionStore } from './store.ts';

interface Waiter {
  resolve: () => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

export class SessionLocks {
  /** Held sessions; the value is the queue of waiting runs, null while nobody waits. */
  private readonly held = new Map<string, Waiter[] | null>();
  /** What lets the store's cross-process lock go, for each session held through it. */
  private readonly across = new Map<string, () => MaybePromise<void>>();

  private readonly store: SessionStore | undefined;

  /** @param store Whose `lock()` (when it has one) is taken too, after the turn in this process. */
  constructor(store?: SessionStore) {
    this.store = store;
  }

  /** Sessions held right now (for tests: 0 once every run has settled). */
  get size(): number {
    return this.held.size;
  }

  /**
   * Takes the session: returns undefined when it was free, else a promise that resolves when it is this caller's
   * turn (first come, first served), or rejects with an AbortError if `signal` aborts first. With a store that
   * locks across processes, always a promise: it resolves once the store's lock is held too.
   */
  acquire(sessionId: string, signal?: AbortSignal): Promise<void> | undefined {
    const turn = this.turn(sessionId, signal);
    const store = this.store;
    if (store?.lock === undefined) return turn;
    const lockAcross = (): Promise<void> => {
      let locked: Promise<() => MaybePromise<void>>;
      try {
        locked = Promise.resolve(store.lock!(sessionId, signal));
      } catch (error) {
        locked = Promise.reject(error as Error);
      }
      return locked.then(
        (unlock) => void this.across.set(sessionId, unlock),
        (error: unknown) => {
          this.pass(sessionId);
          throw error;
        },
      );
    };
    return turn === undefined ? lockAcross() : turn.then(lockAcross);
  }

  /**
   * Lets the session go: first the store's cross-process lock (if held), then the next waiter here gets its turn.
   * Call exactly once per successful acquire.
   */
  release(sessionId: string): void {
    const unlock = this.across.get(sessionId);
    if (unlock === undefined) return this.pass(sessionId);
    this.across.delete(sessionId);
    let done: MaybePromise<void>;
    try {
      done = unlock();
    } catch {
      done = undefined; // the store lets its lock go however its release ends (a PostgreSQL client is closed)
    }
    if (done instanceof Promise)
      void done.then(
        () => this.pass(sessionId),
        () => this.pass(sessionId),
      );
    else this.pass(sessionId);
  }

  /** The turn in this process: undefined when the session was free, else a promise of it. */
  private turn(sessionId: string, signal: AbortSignal | undefined): Promise<void> | undefined {
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

  /** Hands the session to the next waiter in this process, or frees it. */
  private pass(sessionId: string): void {
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
  if (locks === undefined) byStore.set(store, (locks = new SessionLocks(store)));
  return locks;
}
