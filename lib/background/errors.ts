/**
 * Errors the background queue reports through `background_hook_failed` (never throws at the run that flushed).
 * Each message names the job and the knob that fixes it.
 */
import { HookchainError, brand } from '../errors.ts';
import type { BackgroundJob } from './executor.ts';

/** Why the queue refused or evicted a job: full under `'reject'`, closed, or evicted under `'drop-oldest'`. */
export type BackgroundQueueErrorCode = 'QUEUE_FULL' | 'QUEUE_CLOSED' | 'DROPPED_OLDEST';

/**
 * The queue refused a job (full under `overflow: 'reject'`, or closed) or evicted it (`'drop-oldest'`). Reported
 * through `background_hook_failed` with reason `'rejected'` or `'dropped'`; never thrown at the run.
 */
export class BackgroundQueueError extends HookchainError {
  declare readonly code: BackgroundQueueErrorCode;
  /** The job's hook. */
  readonly hookName: string;
  /** The run that produced the job. */
  readonly runId: string;
  /**
   * Built by the queue that refused or dropped the job.
   *
   * @param code `'QUEUE_FULL'`, `'QUEUE_CLOSED'` or `'DROPPED_OLDEST'`.
   * @param job The job concerned.
   * @param message What happened and which option to change.
   */
  constructor(code: BackgroundQueueErrorCode, job: BackgroundJob, message: string) {
    super(code, `background hook "${job.hookName}" of run ${job.runId}: ${message}`);
    this.hookName = job.hookName;
    this.runId = job.runId;
  }
}
brand(BackgroundQueueError);

/** The job's promise did not settle in time. Its slot is freed; the work itself cannot be cancelled. */
export class BackgroundTimeoutError extends HookchainError {
  /** The job's hook. */
  readonly hookName: string;
  /** The run that produced the job. */
  readonly runId: string;
  /** The bound it exceeded, in milliseconds. */
  readonly timeoutMs: number;
  /**
   * Built by the queue when a job's promise outlives its bound.
   *
   * @param job The job that timed out.
   * @param timeoutMs The bound it exceeded, in milliseconds.
   */
  constructor(job: BackgroundJob, timeoutMs: number) {
    super(
      'BACKGROUND_TIMEOUT',
      `background hook "${job.hookName}" of run ${job.runId} did not settle within ${timeoutMs} ms; its slot was freed ` +
        "(raise hook({ timeoutMs }) or the queue's timeoutMs, or make the hook faster)",
    );
    this.hookName = job.hookName;
    this.runId = job.runId;
    this.timeoutMs = timeoutMs;
  }
}
brand(BackgroundTimeoutError);
