/**
 * What `hookchain/bullmq` reports through `background_hook_failed` on the producing agent. Neither is ever thrown at
 * a run: a run whose jobs could not be enqueued still succeeds, and the loss is reported.
 */
import { HookchainError, brand } from '../errors.ts';

/**
 * Redis did not take a run's jobs: it was unreachable (the producer fails fast while disconnected) or refused the
 * write. Reported with reason `'rejected'`; the run itself succeeded. `cause` is the Redis client's error.
 */
export class BackgroundEnqueueError extends HookchainError {
  /** The job's hook. */
  readonly hookName: string;
  /** The run that produced the job. */
  readonly runId: string;

  /**
   * Built by `BullMQExecutor` when `addBulk` fails.
   *
   * @param hookName The job's hook.
   * @param runId The run that produced the job.
   * @param cause The Redis client's error.
   */
  constructor(hookName: string, runId: string, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(
      'BACKGROUND_ENQUEUE_FAILED',
      `background hook "${hookName}" of run ${runId} was not enqueued: Redis did not take it (${why}); the run succeeded ` +
        'without it. Check that Redis is reachable (docs/scale-out.md, "Failure modes")',
      { cause },
    );
    this.hookName = hookName;
    this.runId = runId;
  }
}
brand(BackgroundEnqueueError);

/**
 * A job that a worker ran and that failed on every attempt (or was lost): it stays in BullMQ's failed set. Reported
 * once, on the producing agent, with the worker's error message.
 */
export class BackgroundJobFailedError extends HookchainError {
  /** The job's hook. */
  readonly hookName: string;
  /** The run that produced the job. */
  readonly runId: string;
  /** The BullMQ job id (see `backgroundJobId`). */
  readonly jobId: string;

  /**
   * Built by `BullMQExecutor` from BullMQ's `failed` event.
   *
   * @param hookName The job's hook.
   * @param runId The run that produced the job.
   * @param jobId The BullMQ job id.
   * @param reason The worker's error message (BullMQ's `failedReason`).
   */
  constructor(hookName: string, runId: string, jobId: string, reason: string) {
    super('BACKGROUND_JOB_FAILED', `background hook "${hookName}" of run ${runId} failed on a worker (job ${jobId}): ${reason}`);
    this.hookName = hookName;
    this.runId = runId;
    this.jobId = jobId;
  }
}
brand(BackgroundJobFailedError);

/**
 * The deterministic BullMQ job id of a background hook call: the run id, the phase and the hook name, each
 * percent-encoded (so `:`, which BullMQ refuses in custom ids, and the `|` separator cannot appear inside a part).
 * Enqueuing the same hook call twice gives one job.
 *
 * @param runId The run's id.
 * @param phase `'pre'` or `'post'`.
 * @param hookName The hook's name.
 * @example
 * backgroundJobId('run_1', 'post', 'audit'); // 'run_1|post|audit'
 */
export function backgroundJobId(runId: string, phase: 'pre' | 'post', hookName: string): string {
  return `${encodeURIComponent(runId)}|${phase}|${encodeURIComponent(hookName)}`;
}
