/**
 * The in-process background executor. Jobs wait in a ring buffer and start from one `setImmediate` per batch, so
 * whoever enqueued them (the run that just succeeded) gets its result before any of them starts; after that, a
 * finished job starts the next ready one directly, without another macrotask.
 *
 * Nothing here can surface as an unhandled rejection: every job outcome, reporter and listener is caught, and
 * every failure is counted and reported (`report.failed`, `background_hook_failed`, or a console warning when
 * nobody listens), so no job is ever lost silently.
 */
import { HookchainConfigError, errorSummary } from '../errors.ts';
import { SafeEmitter } from '../events/emitter.ts';
import type { AgentEvents } from '../events/types.ts';
import { BackgroundQueueError, BackgroundTimeoutError } from './errors.ts';
import type { BackgroundExecutor, BackgroundFailureReason, BackgroundJob } from './executor.ts';
import { checkOptions, describe, is, type Rule } from '../options.ts';
import { Ring } from './ring.ts';

/** What a full `DrainQueue` does with a new job; see `DrainQueueOptions.overflow`. */
export type OverflowPolicy = 'wait' | 'reject' | 'drop-oldest';

/** Options of `new DrainQueue(options)`, all optional. */
export interface DrainQueueOptions {
  /** Jobs holding a slot at once (default 64: background hooks are mostly I/O, so a slot is mostly waiting). */
  concurrency?: number;
  /** Jobs waiting for a slot before `overflow` applies (default 10,000). */
  maxQueued?: number;
  /**
   * What a full queue does with a new job (default `'wait'`): `'wait'` makes `enqueue` return a promise that
   * resolves once the job is in (backpressure on the run that flushes); `'reject'` refuses the new job;
   * `'drop-oldest'` evicts the oldest waiting job. Refused and evicted jobs are reported and counted.
   */
  overflow?: OverflowPolicy;
  /**
   * Default bound on an async job, in ms: 1 to 2³¹−1 (default 30,000), or `Infinity` for none. A job's own
   * `timeoutMs` wins.
   */
  timeoutMs?: number;
}

/** The events a `DrainQueue` emits itself: the agent's three background events, same payloads. */
export type BackgroundEvents = Pick<AgentEvents, 'background_hook_started' | 'background_hook_completed' | 'background_hook_failed'>;

/** Counters of a `DrainQueue` since it was built (`queue.stats`); each only grows. */
export interface BackgroundStats {
  /** Jobs taken into the queue (refused ones excluded). */
  accepted: number;
  /** Jobs that got a slot and began. */
  started: number;
  /** Jobs that finished without error. */
  completed: number;
  /** Threw or rejected. */
  failed: number;
  /** Async jobs that did not settle within their `timeoutMs`. */
  timedOut: number;
  /** Refused: queue full under `'reject'`, or closed. */
  rejected: number;
  /** Evicted under `'drop-oldest'`. */
  dropped: number;
  /** `setImmediate` turns taken: one per batch of enqueues, however large. */
  batches: number;
}

interface Waiter {
  job: BackgroundJob;
  resolve: () => void;
}

const POLICIES: readonly OverflowPolicy[] = ['wait', 'reject', 'drop-oldest'];

/**
 * A job bound: a delay Node's timers honour (past 2³¹−1 ms Node fires after 1 ms, timing every job out at once), or
 * `Infinity`, which sets no timer at all.
 */
const timeout: Rule = (v) =>
  v === Infinity || is.timeoutMs(v) === undefined ? undefined : `${is.timeoutMs(0)}, or Infinity for no timeout`;

const RULES = { concurrency: is.positiveInt, maxQueued: is.positiveInt, overflow: is.oneOf(...POLICIES), timeoutMs: timeout };

/**
 * The in-process queue that runs background hooks after their run has succeeded: at most `concurrency` at once,
 * at most `maxQueued` waiting (then `overflow` applies), each bounded by `timeoutMs`. Jobs start on a
 * `setImmediate`, so the caller has its result first. No job is ever lost silently: every failure is counted and
 * reported (`background_hook_failed` on the agent and on the queue; with no listener, a warning to the agent's
 * `logger`), and none becomes an unhandled rejection. Each agent gets its own unless given one; share one between
 * agents to share the limits.
 *
 * @example
 * const queue = new DrainQueue({ concurrency: 8, maxQueued: 1_000, overflow: 'reject', timeoutMs: 5_000 });
 * const agent = new Agent({ model, postHooks: [hook({ runInBackground: true })(logAnalytics)], backgroundQueue: queue });
 * process.on('SIGTERM', async () => {
 *   await queue.close(); // refuse new jobs, finish the accepted ones
 *   process.exit(0);
 * });
 */
export class DrainQueue extends SafeEmitter<BackgroundEvents> implements BackgroundExecutor {
  /** Jobs that may hold a slot at once (default 64). */
  readonly concurrency: number;
  /** Jobs that may wait for a slot before `overflow` applies (default 10,000). */
  readonly maxQueued: number;
  /** What a full queue does with a new job (default `'wait'`). */
  readonly overflow: OverflowPolicy;
  /** Default bound on an async job, in milliseconds (default 30,000; `Infinity`: none). A job's own `timeoutMs` wins. */
  readonly timeoutMs: number;

  private readonly queue = new Ring<BackgroundJob>();
  private readonly waiters = new Ring<Waiter>();
  private running = 0;
  // Positions in the stream of queued jobs: those before `readyEnd` were queued before the last tick and may start.
  private pushedSeq = 0;
  private shiftedSeq = 0;
  private readyEnd = 0;
  private scheduled = false;
  private isClosed = false;
  private lastJobId = 0;
  private drainPromise: Promise<void> | undefined;
  private resolveDrain: (() => void) | undefined;
  private readonly counts: BackgroundStats = {
    accepted: 0,
    started: 0,
    completed: 0,
    failed: 0,
    timedOut: 0,
    rejected: 0,
    dropped: 0,
    batches: 0,
  };

  /**
   * Validates the options at once (a wrong one throws `HookchainConfigError`).
   *
   * @param options Limits and overflow policy; all optional.
   */
  constructor(options?: DrainQueueOptions) {
    super();
    const {
      concurrency = 64,
      maxQueued = 10_000,
      overflow = 'wait',
      timeoutMs = 30_000,
    } = checkOptions<DrainQueueOptions>('new DrainQueue()', options, RULES);
    this.concurrency = concurrency;
    this.maxQueued = maxQueued;
    this.overflow = overflow;
    this.timeoutMs = timeoutMs;
  }

  /** Jobs waiting for a slot. */
  get size(): number {
    return this.queue.length;
  }

  /** Jobs holding a slot (started, not yet settled or timed out). */
  get pending(): number {
    return this.running;
  }

  /** Enqueue calls blocked by a full queue under `overflow: 'wait'`. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** True once `close()` has been called: new jobs are refused (reported as `'rejected'`). */
  get closed(): boolean {
    return this.isClosed;
  }

  /** A copy of the counters, taken now. */
  get stats(): Readonly<BackgroundStats> {
    return { ...this.counts };
  }

  enqueue(job: BackgroundJob): void | Promise<void> {
    if (!isValidJob(job)) throw invalidJob(job);
    if (this.isClosed) {
      this.refuse(job, 'QUEUE_CLOSED', 'the queue is closed; stop taking runs before close(), or give the agent a new queue');
      return;
    }
    if (this.queue.length < this.maxQueued && this.waiters.length === 0) {
      this.accept(job);
      return;
    }
    return this.overflowed(job);
  }

  /** Resolves when nothing is queued, waiting or running (at once if that is already so). Never rejects. */
  drain(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    this.drainPromise ??= new Promise<void>((resolve) => {
      this.resolveDrain = resolve;
    });
    return this.drainPromise;
  }

  /** Refuses new jobs from now on (reported as `'rejected'`), then drains what was already accepted. */
  close(): Promise<void> {
    this.isClosed = true;
    return this.drain();
  }

  private accept(job: BackgroundJob): void {
    this.queue.push(job);
    this.pushedSeq++;
    this.counts.accepted++;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.onTick);
    }
  }

  private overflowed(job: BackgroundJob): void | Promise<void> {
    if (this.overflow === 'wait') return new Promise<void>((resolve) => this.waiters.push({ job, resolve }));
    const room = `(maxQueued ${this.maxQueued}, overflow '${this.overflow}'); raise maxQueued or concurrency, or use overflow 'wait' for backpressure`;
    if (this.overflow === 'reject') {
      this.refuse(job, 'QUEUE_FULL', `refused: the queue is full ${room}`);
      return;
    }
    const oldest = this.queue.shift()!;
    this.shiftedSeq++;
    this.counts.dropped++;
    this.reportFailure(
      oldest,
      ++this.lastJobId,
      new BackgroundQueueError('DROPPED_OLDEST', oldest, `dropped for a newer job: the queue is full ${room}`),
      'dropped',
    );
    this.accept(job);
  }

  private refuse(job: BackgroundJob, code: 'QUEUE_FULL' | 'QUEUE_CLOSED', message: string): void {
    this.counts.rejected++;
    this.reportFailure(job, ++this.lastJobId, new BackgroundQueueError(code, job, message), 'rejected');
  }

  private readonly onTick = (): void => {
    this.scheduled = false;
    this.counts.batches++;
    this.readyEnd = this.pushedSeq;
    this.pump();
  };

  /** Starts ready jobs while slots are free; sync jobs finish inside the loop, so they cost no extra tick. */
  private pump(): void {
    while (this.running < this.concurrency && this.shiftedSeq < this.readyEnd) {
      const job = this.queue.shift()!;
      this.shiftedSeq++;
      if (this.waiters.length > 0) {
        const waiter = this.waiters.shift()!;
        this.accept(waiter.job);
        waiter.resolve();
      }
      this.start(job);
    }
    if (this.resolveDrain !== undefined && this.isIdle()) {
      const resolve = this.resolveDrain;
      this.resolveDrain = undefined;
      this.drainPromise = undefined;
      resolve();
    }
  }

  private start(job: BackgroundJob): void {
    const jobId = ++this.lastJobId;
    this.running++;
    this.counts.started++;
    const report = job.report;
    let tell = false;
    if (report !== undefined) {
      try {
        tell = report.wantsProgress === undefined || report.wantsProgress() !== false;
        if (tell) report.started(job, jobId);
      } catch (error) {
        this.reporterThrew(error);
      }
    }
    if (this.hasListeners('background_hook_started')) {
      this.emit('background_hook_started', { runId: job.runId, hookName: job.hookName, jobId });
    }
    // Clock reads cost as much as a no-op job: take them only when someone will see `durationMs`.
    const startedAt = tell || this.hasListeners('background_hook_completed') ? performance.now() : -1;
    let result: unknown;
    let async: boolean;
    try {
      result = job.run();
      // Reading `then` can throw (a hostile getter); that counts as the job failing.
      async =
        result !== null &&
        (typeof result === 'object' || typeof result === 'function') &&
        typeof (result as PromiseLike<unknown>).then === 'function';
    } catch (error) {
      this.running--;
      this.counts.failed++;
      this.reportFailure(job, jobId, error, 'error');
      return;
    }
    if (async) {
      this.track(job, jobId, result as PromiseLike<unknown>, startedAt, tell);
      return;
    }
    this.running--;
    this.completed(job, jobId, startedAt, tell);
  }

  private track(job: BackgroundJob, jobId: number, thenable: PromiseLike<unknown>, startedAt: number, tell: boolean): void {
    const timeoutMs = job.timeoutMs ?? this.timeoutMs;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    if (timeoutMs !== Infinity) {
      timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        this.running--;
        this.counts.timedOut++;
        this.reportFailure(job, jobId, new BackgroundTimeoutError(job, timeoutMs), 'timeout');
        this.pump();
      }, timeoutMs);
    }
    // A foreign thenable could call back synchronously and re-enter pump(); adopting it defers to a microtask.
    const promise = thenable instanceof Promise ? thenable : Promise.resolve(thenable);
    // Both handlers are always attached, so even a rejection after the timeout fired is handled (and ignored).
    promise.then(
      () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.running--;
        this.completed(job, jobId, startedAt, tell);
        this.pump();
      },
      (error: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.running--;
        this.counts.failed++;
        this.reportFailure(job, jobId, error, 'error');
        this.pump();
      },
    );
  }

  private completed(job: BackgroundJob, jobId: number, startedAt: number, tell: boolean): void {
    this.counts.completed++;
    const listening = this.hasListeners('background_hook_completed');
    if (!tell && !listening) return;
    // A listener added while the job ran finds no start time; it gets 0 rather than a made-up duration.
    const durationMs = startedAt < 0 ? 0 : performance.now() - startedAt;
    if (tell) {
      try {
        job.report!.completed(job, jobId, durationMs);
      } catch (error) {
        this.reporterThrew(error);
      }
    }
    if (listening) this.emit('background_hook_completed', { runId: job.runId, hookName: job.hookName, jobId, durationMs });
  }

  private reportFailure(job: BackgroundJob, jobId: number, error: unknown, reason: BackgroundFailureReason): void {
    let observed = false;
    if (job.report !== undefined) {
      observed = true;
      try {
        job.report.failed(job, jobId, error, reason);
      } catch (reporterError) {
        this.reporterThrew(reporterError);
      }
    }
    if (this.hasListeners('background_hook_failed')) {
      observed = true;
      this.emit('background_hook_failed', { runId: job.runId, hookName: job.hookName, jobId, error: errorSummary(error), reason });
    }
    if (!observed) {
      console.warn(
        `hookchain: background hook "${job.hookName}" of run ${job.runId} failed (${reason}); listen to background_hook_failed to handle it.`,
        error,
      );
    }
  }

  private reporterThrew(error: unknown): void {
    try {
      this.onListenerError(error, 'background job reporter');
    } catch {
      // The error hook itself failed; the queue must go on regardless.
    }
  }

  private isIdle(): boolean {
    return this.running === 0 && this.queue.length === 0 && this.waiters.length === 0;
  }
}

const isReporter = is.withMethods('a reporter with started(), completed() and failed()', 'started', 'completed', 'failed');

/** The fast check, on every enqueue: typeof tests only, no allocation. */
function isValidJob(job: BackgroundJob): boolean {
  return (
    job !== null &&
    typeof job === 'object' &&
    typeof job.hookName === 'string' &&
    typeof job.runId === 'string' &&
    typeof job.run === 'function' &&
    (job.timeoutMs === undefined || timeout(job.timeoutMs) === undefined) &&
    (job.report === undefined || isReporter(job.report) === undefined)
  );
}

/** What is wrong with a job isValidJob refused, naming the field and what it must be. */
function invalidJob(job: unknown): HookchainConfigError {
  const call = 'DrainQueue.enqueue(job)';
  if (job === null || typeof job !== 'object') {
    return new HookchainConfigError('INVALID_JOB', `${call}: job must be an object { hookName, runId, run() }, got ${describe(job)}`);
  }
  const fields = job as Record<string, unknown>;
  const rules: [string, Rule, boolean][] = [
    ['hookName', is.string, true],
    ['runId', is.string, true],
    ['run', is.function, true],
    ['timeoutMs', timeout, false],
    ['report', isReporter, false],
  ];
  for (const [key, rule, required] of rules) {
    const value = fields[key];
    const expected = value === undefined && !required ? undefined : rule(value);
    if (expected !== undefined)
      return new HookchainConfigError(
        'INVALID_JOB',
        `${call}: job "${String(fields.hookName)}": "${key}" must be ${expected}, got ${describe(value)}`,
      );
  }
  return new HookchainConfigError('INVALID_JOB', `${call}: job "${String(fields.hookName)}" is not a valid job`);
}
