/**
 * The producer side of `hookchain/bullmq`: a `BackgroundExecutor` that puts each run's background hook calls on a
 * BullMQ queue in Redis, for worker processes (`createBackgroundWorker`) to run. docs/scale-out.md is the guide.
 */
import { Job, Queue, QueueEvents, type BackoffOptions, type JobsOptions, type RedisOptions } from 'bullmq';
import { BackgroundQueueError } from '../background/errors.ts';
import type { BackgroundExecutor, BackgroundFailureReason, BackgroundHookOwner, BackgroundJob } from '../background/executor.ts';
import { HookchainConfigError } from '../errors.ts';
import { checkOptions, is } from '../options.ts';
import type { HookArgs, Logger } from '../types.ts';
import { BackgroundEnqueueError, BackgroundJobFailedError, backgroundJobId } from './errors.ts';
import { checkHookNames } from './names.ts';
import { jobArgs, type BackgroundJobData, type JobArgs } from './payload.ts';
import { DEFAULT_QUEUE, RULES, ThrottledLog } from './shared.ts';

/** Options of `new BullMQExecutor(options)`; only `connection` is required. */
export interface BullMQExecutorOptions {
  /** BullMQ's connection options: `{ host, port, … }` (ioredis options) or `{ url: 'redis://…' }`. Required. */
  connection: RedisOptions;
  /** The BullMQ queue (default `'hookchain-background'`); the workers must use the same name. No `:`. */
  queueName?: string;
  /** Attempts per job, the first included (default 3). A job that fails them all stays in BullMQ's failed set. */
  attempts?: number;
  /**
   * Wait before a retry: a number is the base of an exponential backoff in ms (1 s, 2 s, 4 s… for 1,000), or
   * BullMQ's `{ type: 'exponential' | 'fixed', delay, jitter? }`. Default `{ type: 'exponential', delay: 1000 }`.
   */
  backoff?: number | BackoffOptions;
  /**
   * The longest a run waits for Redis to acknowledge its jobs, in ms (default 1,000). Past it the run goes on; the
   * jobs are still tracked, and reported if Redis then refuses them. While Redis is unreachable the producer fails
   * fast instead (the run does not wait): see docs/scale-out.md, "Failure modes".
   */
  enqueueTimeoutMs?: number;
  /** Where Redis connection errors go, at most once per 30 s (default `console`). */
  logger?: Logger;
}

interface Tracked {
  readonly id: string;
  readonly job: BackgroundJob;
  /** Numbers jobs within this executor, for the reporter's `jobId`. */
  readonly seq: number;
  /** Redis has acknowledged the job (only then may the sweep ask for its state). */
  acked: boolean;
  started: boolean;
  ackedAt: number;
}

/** How often, in ms, jobs whose end no event reported are looked up in Redis (events missed across a reconnect). */
const SWEEP_MS = 2_000;
/** Completed jobs kept in Redis so that a duplicate enqueue stays a no-op: an hour, at most 100,000 jobs. */
const KEEP_COMPLETED = { age: 3_600, count: 100_000 };

const isBackoff = (v: unknown): string | undefined => {
  const expected = "a positive number of milliseconds, or { type: 'exponential' | 'fixed', delay: <ms>, jitter?: 0..1 }";
  if (typeof v === 'number') return Number.isSafeInteger(v) && v > 0 ? undefined : expected;
  if (v === null || typeof v !== 'object') return expected;
  const { type, delay, jitter, ...rest } = v as Record<string, unknown>;
  if (Object.keys(rest).length > 0 || (type !== 'exponential' && type !== 'fixed')) return expected;
  if (delay !== undefined && !(typeof delay === 'number' && Number.isSafeInteger(delay) && delay >= 0)) return expected;
  if (jitter !== undefined && !(typeof jitter === 'number' && jitter >= 0 && jitter <= 1)) return expected;
  return undefined;
};

const EXECUTOR_RULES = {
  ...RULES,
  attempts: is.positiveInt,
  backoff: isBackoff,
  enqueueTimeoutMs: is.timeoutMs,
};

/**
 * Runs background hooks on BullMQ (Redis) instead of in this process: pass it as the agent's `backgroundQueue`, and
 * run `createBackgroundWorker` in worker processes built with the same agents.
 *
 * A run that succeeds sends its background hook calls in one round trip (`addBulk`), each as
 * `{ agentId, hookName, phase, runId, args }` (the JSON part of the argument snapshot), under a deterministic job id
 * (`backgroundJobId(runId, phase, hookName)`): enqueuing the same call twice is a no-op. Delivery is at least once;
 * a failing job is retried with backoff, and one that fails every attempt stays in BullMQ's failed set and is
 * reported once through this agent's `background_hook_failed`. `drain()` waits for the jobs this process enqueued.
 * If Redis is unreachable, runs still succeed and their jobs are reported lost (reason `'rejected'`).
 *
 * The agent's background hook names must be unique across its pre- and post-hooks (checked when the agent is built).
 *
 * @example
 * import { Agent, hook } from 'hookchain';
 * import { BullMQExecutor } from 'hookchain/bullmq';
 *
 * const queue = new BullMQExecutor({ connection: { host: '127.0.0.1', port: 6379 }, attempts: 5, backoff: 2_000 });
 * const agent = new Agent({ name: 'support', model, postHooks: [hook({ runInBackground: true })(logAnalytics)], backgroundQueue: queue });
 * agent.on('background_hook_failed', ({ hookName, runId, error }) => alert(hookName, runId, error.message));
 * await agent.run('Hello');   // the hook runs on a worker: see createBackgroundWorker
 * await queue.close();        // on shutdown: waits for Redis to take the last jobs, then disconnects
 */
export class BullMQExecutor implements BackgroundExecutor {
  /** The BullMQ queue's name (default `'hookchain-background'`). */
  readonly queueName: string;
  /** Attempts per job, the first included (default 3). */
  readonly attempts: number;
  /** The retry backoff (default `{ type: 'exponential', delay: 1000 }`). */
  readonly backoff: BackoffOptions;
  /** The longest a run waits for Redis to acknowledge its jobs, in ms (default 1,000). */
  readonly enqueueTimeoutMs: number;
  /** The BullMQ `Queue` jobs are added to (for inspection: `getJobCounts()`, `getFailed()`…). */
  readonly queue: Queue;

  readonly #events: QueueEvents;
  readonly #pending = new Map<string, Tracked>();
  readonly #sending = new Set<Promise<void>>();
  readonly #log: ThrottledLog;
  #seq = 0;
  #closed = false;
  #sweep: NodeJS.Timeout | undefined;
  #sweeping = false;
  #idle: (() => void)[] = [];

  /**
   * Validates the options (a wrong one throws `HookchainConfigError`) and opens two Redis connections: one to add
   * jobs, one to follow their events.
   *
   * @param options The connection, and optionally the queue name, attempts, backoff and enqueue bound.
   */
  constructor(options: BullMQExecutorOptions) {
    const o = checkOptions<BullMQExecutorOptions>('new BullMQExecutor()', options, EXECUTOR_RULES, ['connection']);
    this.queueName = o.queueName ?? DEFAULT_QUEUE;
    this.attempts = o.attempts ?? 3;
    const backoff = o.backoff ?? 1_000;
    this.backoff = typeof backoff === 'number' ? { type: 'exponential', delay: backoff } : { ...backoff };
    this.enqueueTimeoutMs = o.enqueueTimeoutMs ?? 1_000;
    this.#log = new ThrottledLog(o.logger ?? console, `hookchain: BullMQExecutor (queue "${this.queueName}")`);
    const defaultJobOptions: JobsOptions = {
      attempts: this.attempts,
      backoff: this.backoff,
      removeOnComplete: KEEP_COMPLETED,
      removeOnFail: false,
    };
    // Fail fast while Redis is unreachable: the run must not wait for a reconnect (docs/scale-out.md).
    this.queue = new Queue(this.queueName, { connection: { enableOfflineQueue: false, ...o.connection! }, defaultJobOptions });
    this.queue.on('error', (error) => this.#log.warn('Redis connection error', error));
    const events = new QueueEvents(this.queueName, { connection: { ...o.connection! } });
    events.on('error', (error) => this.#log.warn('Redis connection error (events)', error));
    events.on('active', ({ jobId }) => this.#onActive(jobId));
    events.on('completed', ({ jobId, returnvalue }) => this.#onCompleted(jobId, returnvalue));
    events.on('failed', ({ jobId, failedReason }) => this.#onFailed(jobId, failedReason));
    this.#events = events;
  }

  /** Jobs this process enqueued that have not finished yet (waiting, running, or between retries). */
  get pending(): number {
    return this.#pending.size;
  }

  /** True once `close()` has been called: new jobs are refused (reported as `'rejected'`). */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Called by `new Agent()`: refuses an agent two of whose background hooks share a name (a worker finds a hook by
   * name), with a `HookchainConfigError` naming both and the fix.
   *
   * @param agent The agent being built with this executor.
   */
  attach(agent: BackgroundHookOwner): void {
    checkHookNames(agent);
  }

  /**
   * Enqueues one job (the same as `enqueueAll([job])`).
   *
   * @param job A background hook call, as the agent builds it.
   */
  enqueue(job: BackgroundJob): void | Promise<void> {
    return this.enqueueAll([job]);
  }

  /**
   * Sends a run's jobs in one round trip. The returned promise (never rejecting) resolves when Redis has them, or
   * after `enqueueTimeoutMs`; jobs Redis refuses are reported through their agent's `background_hook_failed`
   * (reason `'rejected'`, a `BackgroundEnqueueError`). A job already enqueued by this process is skipped.
   *
   * @param jobs The run's held jobs.
   */
  enqueueAll(jobs: readonly BackgroundJob[]): void | Promise<void> {
    const entries: { name: string; data: BackgroundJobData; opts: JobsOptions }[] = [];
    const tracked: Tracked[] = [];
    let lastArgs: HookArgs | undefined;
    let lastJson: JobArgs | undefined;
    for (const job of jobs) {
      if (this.#closed) {
        const error = new BackgroundQueueError('QUEUE_CLOSED', job, 'the BullMQExecutor is closed; stop taking runs before close()');
        this.#report(job, ++this.#seq, error, 'rejected');
        continue;
      }
      const args = job.args as HookArgs | undefined;
      if (args === undefined || args === null || (args.phase !== 'pre' && args.phase !== 'post') || typeof args.agent?.id !== 'string') {
        const error = new HookchainConfigError(
          'INVALID_JOB',
          `BullMQExecutor: job "${job.hookName}" of run ${job.runId} is not a hook call (it has no argument snapshot); only background hooks can be sent to workers`,
        );
        this.#report(job, ++this.#seq, error, 'rejected');
        continue;
      }
      const id = backgroundJobId(job.runId, args.phase, job.hookName);
      if (this.#pending.has(id)) continue; // already enqueued by this process: a no-op, as in Redis
      if (args !== lastArgs) {
        lastArgs = args;
        lastJson = jobArgs(args);
      }
      entries.push({
        name: job.hookName,
        data: { agentId: args.agent.id, hookName: job.hookName, phase: args.phase, runId: job.runId, args: lastJson! },
        opts: { jobId: id },
      });
      const t: Tracked = { id, job, seq: ++this.#seq, acked: false, started: false, ackedAt: 0 };
      this.#pending.set(id, t);
      tracked.push(t);
    }
    if (entries.length === 0) return;
    const sent = this.queue.addBulk(entries).then(
      () => {
        const now = Date.now();
        for (const t of tracked) {
          t.acked = true;
          t.ackedAt = now;
        }
      },
      (error: unknown) => {
        for (const t of tracked) {
          if (this.#pending.get(t.id) !== t) continue;
          this.#pending.delete(t.id);
          this.#report(t.job, t.seq, new BackgroundEnqueueError(t.job.hookName, t.job.runId, error), 'rejected');
        }
      },
    );
    this.#sending.add(sent);
    void sent.then(() => {
      this.#sending.delete(sent);
      this.#checkIdle();
    });
    this.#startSweep();
    return bounded(sent, this.enqueueTimeoutMs);
  }

  /**
   * Resolves when every job this process enqueued has finished on a worker (completed, or failed its last attempt)
   * or was refused by Redis. Never rejects. It waits for workers: with none running, it waits until one is.
   */
  drain(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /**
   * Refuses new jobs (reported as `'rejected'`), waits until Redis has acknowledged (or refused) the jobs already
   * sent, then closes both connections. Jobs in Redis stay there for the workers; call `drain()` first to wait for
   * them to finish. Pending `drain()` calls resolve.
   */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#sending]);
    clearInterval(this.#sweep);
    this.#sweep = undefined;
    await Promise.allSettled([this.#events.close(), this.queue.close()]);
    for (const resolve of this.#idle.splice(0)) resolve();
  }

  #onActive(jobId: string): void {
    const t = this.#pending.get(jobId);
    if (t === undefined || t.started) return;
    t.started = true;
    const report = t.job.report;
    if (report === undefined) return;
    try {
      if (report.wantsProgress === undefined || report.wantsProgress()) report.started(t.job, t.seq);
    } catch {
      // A reporter that throws is isolated.
    }
  }

  #onCompleted(jobId: string, returnvalue: unknown): void {
    const t = this.#finish(jobId);
    if (t === undefined) return;
    const report = t.job.report;
    if (report !== undefined) {
      try {
        if (report.wantsProgress === undefined || report.wantsProgress()) {
          const ms = (returnvalue as { durationMs?: unknown } | null)?.durationMs;
          report.completed(t.job, t.seq, typeof ms === 'number' ? ms : 0);
        }
      } catch {
        // A reporter that throws is isolated.
      }
    }
    this.#checkIdle();
  }

  #onFailed(jobId: string, failedReason: string | undefined): void {
    const t = this.#finish(jobId);
    if (t === undefined) return;
    const reason = failedReason ?? 'unknown error';
    const error = new BackgroundJobFailedError(t.job.hookName, t.job.runId, jobId, reason);
    this.#report(t.job, t.seq, error, /did not settle within \d+ ms/.test(reason) ? 'timeout' : 'error');
    this.#checkIdle();
  }

  #finish(jobId: string): Tracked | undefined {
    const t = this.#pending.get(jobId);
    // An event about the job proves Redis has it, even before addBulk's reply arrives.
    if (t === undefined) return undefined;
    this.#pending.delete(jobId);
    return t;
  }

  #report(job: BackgroundJob, seq: number, error: unknown, reason: BackgroundFailureReason): void {
    if (job.report === undefined) {
      this.#log.always(`background hook "${job.hookName}" of run ${job.runId} failed (${reason})`, error);
      return;
    }
    try {
      job.report.failed(job, seq, error, reason);
    } catch {
      // A reporter that throws is isolated.
    }
  }

  /**
   * Events can be missed (the events connection was down, or the stream was trimmed under load): every 2 s, jobs
   * acknowledged more than 2 s ago are looked up in Redis, so `drain()` and failure reports never depend on them.
   */
  #startSweep(): void {
    if (this.#sweep !== undefined) return;
    this.#sweep = setInterval(() => void this.#runSweep(), SWEEP_MS);
    this.#sweep.unref();
  }

  async #runSweep(): Promise<void> {
    if (this.#sweeping) return;
    if (this.#pending.size === 0) {
      clearInterval(this.#sweep);
      this.#sweep = undefined;
      return;
    }
    this.#sweeping = true;
    try {
      const before = Date.now() - SWEEP_MS;
      const due = [...this.#pending.values()].filter((t) => t.acked && t.ackedAt < before);
      for (let i = 0; i < due.length && !this.#closed; i += 500) {
        const chunk = due.slice(i, i + 500);
        const states = await Promise.all(chunk.map((t) => this.queue.getJobState(t.id)));
        for (let k = 0; k < chunk.length; k++) {
          const t = chunk[k]!;
          const state = states[k];
          if (state === 'completed') this.#onCompleted(t.id, undefined);
          else if (state === 'failed') {
            const job = await Job.fromId(this.queue, t.id);
            this.#onFailed(t.id, job?.failedReason);
          } else if (state === 'unknown') {
            this.#onFailed(
              t.id,
              'the job is no longer in Redis: it finished and was removed, or Redis lost it (run Redis with persistence: docs/scale-out.md)',
            );
          }
        }
      }
    } catch {
      // Redis is unreachable: the next sweep tries again.
    } finally {
      this.#sweeping = false;
    }
  }

  #isIdle(): boolean {
    return this.#pending.size === 0 && this.#sending.size === 0;
  }

  #checkIdle(): void {
    if (this.#idle.length === 0 || !this.#isIdle()) return;
    for (const resolve of this.#idle.splice(0)) resolve();
  }
}

/** `promise`, or nothing after `ms`: the run waits for Redis at most that long. */
function bounded(promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return Promise.race([promise, bound]).finally(() => clearTimeout(timer));
}
