/**
 * Errors the background queue reports through `background_hook_failed` (never throws at the run that flushed).
 * Each message names the job and the knob that fixes it.
 */
import { HookchainError, brand } from '../errors.ts';
import type { BackgroundJob } from './executor.ts';

export type BackgroundQueueErrorCode = 'QUEUE_FULL' | 'QUEUE_CLOSED' | 'DROPPED_OLDEST';

export class BackgroundQueueError extends HookchainError {
  declare readonly code: BackgroundQueueErrorCode;
  readonly hookName: string;
  readonly runId: string;
  constructor(code: BackgroundQueueErrorCode, job: BackgroundJob, message: string) {
    super(code, `background hook "${job.hookName}" of run ${job.runId}: ${message}`);
    this.hookName = job.hookName;
    this.runId = job.runId;
  }
}
brand(BackgroundQueueError);

/** The job's promise did not settle in time. Its slot is freed; the work itself cannot be cancelled. */
export class BackgroundTimeoutError extends HookchainError {
  readonly hookName: string;
  readonly runId: string;
  readonly timeoutMs: number;
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
