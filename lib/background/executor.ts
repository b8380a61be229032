/**
 * The seam between the run engine and whatever runs background hooks. `DrainQueue` is the in-process
 * implementation; a distributed queue can replace it by implementing this interface.
 */

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
