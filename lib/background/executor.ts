/**
 * The seam between the run engine and whatever runs background hooks. `DrainQueue` is the in-process
 * implementation; a distributed queue can replace it by implementing this interface.
 */
import type { HookArgs } from '../types.ts';

/** One unit of background work handed to an executor: usually a background hook call of one run. */
export interface BackgroundJob {
  /** The hook's name, for events and errors. */
  readonly hookName: string;
  /** The run that produced the job. */
  readonly runId: string;
  /** Does the work; its arguments were snapshotted (cloned and frozen) when its phase ended. */
  readonly run: () => unknown;
  /**
   * The frozen argument snapshot `run` calls the hook with, for executors that ship work elsewhere (serialise its
   * run data; `agent` and `dependencies` in it are live services). Absent on jobs that are not hook calls.
   */
  readonly args?: unknown;
  /** Bound on this job; falls back to the executor's default. */
  readonly timeoutMs?: number | undefined;
  /** Where the job's lifecycle events go (the agent re-emits them). */
  readonly report?: BackgroundReporter | undefined;
  /**
   * Set when the run that produced the job was traced: its root span's context (`traceId`, `spanId`,
   * `traceFlags`), which the job's span links to. An executor that ships jobs elsewhere may carry it along.
   */
  readonly spanContext?: JobSpanContext | undefined;
}

/** The identity of a traced run's root span (an OpenTelemetry `SpanContext`), which its background jobs link to. */
export interface JobSpanContext {
  /** The trace's id: 32 lowercase hex characters. */
  readonly traceId: string;
  /** The span's id: 16 lowercase hex characters. */
  readonly spanId: string;
  /** The W3C trace flags (1: sampled). */
  readonly traceFlags: number;
}

/**
 * Why a job failed: it threw or rejected (`error`), outran its timeout (`timeout`), was refused because the queue
 * was full or closed (`rejected`), or was pushed out by a newer job under `overflow: 'drop-oldest'` (`dropped`).
 */
export type BackgroundFailureReason = 'error' | 'timeout' | 'rejected' | 'dropped';

/** Called by the executor; a reporter that throws is isolated (it can neither fail the job nor the queue). */
export interface BackgroundReporter {
  /** The job got a slot and is starting. `jobId` numbers jobs within the executor. */
  started(job: BackgroundJob, jobId: number): void;
  /** The job finished without error after `durationMs` milliseconds. */
  completed(job: BackgroundJob, jobId: number, durationMs: number): void;
  /** The job failed, timed out, or was refused or dropped; `error` says what happened. Always called. */
  failed(job: BackgroundJob, jobId: number, error: unknown, reason: BackgroundFailureReason): void;
  /**
   * Optional: false when nobody would see `started`/`completed` now, so the executor may skip those calls and the
   * clock reads behind `durationMs`. `failed` is always called.
   */
  wantsProgress?(): boolean;
}

/** A background hook of an agent, as `Agent.backgroundHooks` lists it for executors that run hooks elsewhere. */
export interface BackgroundHookRef {
  /** `'pre'` or `'post'`: the phase whose arguments the hook receives. */
  readonly phase: 'pre' | 'post';
  /** The hook's name: the function's name or `hook({ name })`. */
  readonly name: string;
  /** Its `hook({ timeoutMs })`, if it has one. */
  readonly timeoutMs: number | undefined;
  /** Calls the hook with its arguments (a frozen snapshot, or arguments rebuilt in another process). */
  readonly run: (args: HookArgs) => unknown;
}

/** What an executor's `attach` is told about the agent that uses it. */
export interface BackgroundHookOwner {
  /** The agent's `id`. */
  readonly id: string;
  /** The agent's `name`. */
  readonly name: string;
  /** The agent's background hooks, pre-hooks first, in declared order. */
  readonly backgroundHooks: readonly BackgroundHookRef[];
}

/**
 * Where an agent's background hooks run (`AgentOptions.backgroundQueue`). `DrainQueue` is the built-in; implement
 * this to run them elsewhere (a distributed queue, a worker pool).
 */
export interface BackgroundExecutor {
  /**
   * Accept a job. May return a promise to apply backpressure (the flushing run waits for room); that promise never
   * rejects: a refused job is reported through `failed(..., 'rejected')`. Must never run the job synchronously: the
   * caller gets its result first.
   */
  enqueue(job: BackgroundJob): void | Promise<void>;
  /**
   * Optional: accept all the jobs of one run at once. When present, a run that succeeds hands its held jobs (its
   * background pre-hooks' and post-hooks', in that order) to this method in one call instead of calling `enqueue`
   * per job, so that a remote executor can send them in one round trip (`hookchain/bullmq` uses one `addBulk`).
   * Same rules as `enqueue`: may return a promise for backpressure, which never rejects; never runs a job
   * synchronously; a refused job is reported through its `report.failed`.
   */
  enqueueAll?(jobs: readonly BackgroundJob[]): void | Promise<void>;
  /**
   * Optional: called once by `new Agent()` with the agent that uses this executor, before the constructor returns,
   * so that the executor can refuse a configuration it cannot run by throwing a `HookchainConfigError` (the
   * constructor lets it through). `hookchain/bullmq` checks here that the agent's background hook names are unique.
   */
  attach?(agent: BackgroundHookOwner): void;
  /** Resolves when nothing is queued or running. */
  drain(): Promise<void>;
  /** Stop accepting jobs, drain, resolve. */
  close(): Promise<void>;
}

export function isBackgroundExecutor(value: unknown): value is BackgroundExecutor {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as BackgroundExecutor).enqueue === 'function' &&
    typeof (value as BackgroundExecutor).drain === 'function' &&
    typeof (value as BackgroundExecutor).close === 'function'
  );
}
