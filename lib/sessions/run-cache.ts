/**
 * The parsed runs a database-backed store keeps between reads (SQLite, PostgreSQL): per session, the runs at a stored
 * version and `run_rewrites` count, least recently used evicted past `max` sessions. Runs are frozen records, so they
 * are shared; the arrays are never changed in place, because a session handed out by `get()` compares its runs
 * against the very array it was given (a replaced run is found by identity).
 */
import type { RunOutput } from '../types.ts';

export interface CachedRuns {
  readonly version: number;
  /** `run_rewrites` when the runs were read: a stored run replaced since makes the cached ones stale. */
  readonly rewrites: number;
  readonly runs: readonly RunOutput[];
}

export class RunCache {
  readonly #entries = new Map<string, CachedRuns>();
  readonly #max: number;

  /** @param max Sessions kept; 0 keeps none. */
  constructor(max: number) {
    this.#max = max;
  }

  /** The cached runs of a session, marked most recently used. */
  get(id: string): CachedRuns | undefined {
    const cached = this.#entries.get(id);
    if (cached !== undefined) {
      this.#entries.delete(id);
      this.#entries.set(id, cached);
    }
    return cached;
  }

  remember(id: string, version: number, rewrites: number, runs: readonly RunOutput[]): void {
    if (this.#max === 0) return;
    this.#entries.delete(id);
    this.#entries.set(id, { version, rewrites, runs });
    if (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value!);
  }

  /**
   * Keeps the cache equal to what a save just wrote: runs `from` on were appended and the positions in `replaced`
   * rewritten. Kept only when the cache held the version the save started from; otherwise forgotten.
   */
  saved(
    id: string,
    read: number,
    version: number,
    rewrites: number,
    runs: readonly RunOutput[],
    from: number,
    replaced: readonly number[],
  ): void {
    if (this.#max === 0) return;
    // Only frozen runs are shared: the caller could still edit any other object it passed in.
    for (let i = from; i < runs.length; i++) if (!Object.isFrozen(runs[i])) return void this.#entries.delete(id);
    for (const i of replaced) if (!Object.isFrozen(runs[i])) return void this.#entries.delete(id);
    if (from === 0) return this.remember(id, version, rewrites, runs.slice());
    const cached = this.#entries.get(id);
    if (cached === undefined || cached.version !== read || cached.runs.length !== from) return void this.#entries.delete(id);
    const next = cached.runs.slice();
    for (const i of replaced) next[i] = runs[i]!;
    for (let i = from; i < runs.length; i++) next.push(runs[i]!);
    this.remember(id, version, rewrites, next);
  }

  delete(id: string): void {
    this.#entries.delete(id);
  }

  clear(): void {
    this.#entries.clear();
  }
}
