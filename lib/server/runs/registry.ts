/**
 * What one server knows of its runs, in memory and bounded: the recent runs by id (to poll a background run and to
 * scope it to its user), each streamed run's last events (for `Last-Event-ID` replay, live subscribers included),
 * the sessions with a run in progress (`busySession: 'reject'`) and the count of runs at once (`maxConcurrentRuns`).
 */

/** One SSE frame of a run: its id (1, 2, …), event name and JSON data. */
export interface Frame {
  readonly id: number;
  readonly event: string;
  readonly data: string;
}

/** A recent run of this server. */
export interface RunRecord {
  readonly runId: string;
  readonly agentId: string;
  readonly sessionId: string;
  readonly userId: string | undefined;
  running: boolean;
  /** The last frames (streamed and background runs only), oldest first; at most `MAX_FRAMES`. */
  frames: Frame[] | undefined;
  /** Called with each new frame, then with undefined when the run has ended. */
  readonly listeners: Set<(frame: Frame | undefined) => void>;
}

/** Frames kept per run: a reconnecting client older than that gets what is left. */
const MAX_FRAMES = 1024;
/** Ended runs kept for polling and replay; the oldest ended run goes first. */
const MAX_RUNS = 2048;

export class RunRegistry {
  readonly #runs = new Map<string, RunRecord>();
  readonly #busy = new Map<string, number>();
  #active = 0;

  /** Runs in progress right now. */
  get active(): number {
    return this.#active;
  }

  /** Takes a run slot; false when `max` runs are in progress. */
  tryAcquire(max: number): boolean {
    if (this.#active >= max) return false;
    this.#active++;
    return true;
  }

  /** Gives a slot back. */
  release(): void {
    this.#active--;
  }

  /** True when this server has a run of this agent's session in progress. */
  isBusy(agentId: string, sessionId: string): boolean {
    return this.#busy.has(`${agentId}\0${sessionId}`);
  }

  /** Marks the session busy until the returned function is called. */
  markBusy(agentId: string, sessionId: string): () => void {
    const key = `${agentId}\0${sessionId}`;
    this.#busy.set(key, (this.#busy.get(key) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const n = this.#busy.get(key)! - 1;
      if (n === 0) this.#busy.delete(key);
      else this.#busy.set(key, n);
    };
  }

  /** Records a run that has started; `buffered` keeps its frames for replay. */
  add(record: Omit<RunRecord, 'running' | 'frames' | 'listeners'>, buffered: boolean): RunRecord {
    const full: RunRecord = { ...record, running: true, frames: buffered ? [] : undefined, listeners: new Set() };
    this.#runs.delete(record.runId);
    this.#runs.set(record.runId, full);
    if (this.#runs.size > MAX_RUNS) {
      for (const [id, r] of this.#runs) {
        if (!r.running) {
          this.#runs.delete(id);
          break;
        }
      }
    }
    return full;
  }

  /** The recent run of that id, if this server still remembers it. */
  get(runId: string): RunRecord | undefined {
    return this.#runs.get(runId);
  }

  /** Appends a frame and hands it to the live listeners. */
  push(record: RunRecord, frame: Frame): void {
    const frames = record.frames;
    if (frames !== undefined) {
      frames.push(frame);
      if (frames.length > MAX_FRAMES) frames.splice(0, frames.length - MAX_FRAMES);
    }
    for (const listener of record.listeners) listener(frame);
  }

  /** Marks the run ended and tells its listeners. */
  end(record: RunRecord): void {
    record.running = false;
    for (const listener of record.listeners) listener(undefined);
    record.listeners.clear();
  }
}
