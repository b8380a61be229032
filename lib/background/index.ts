/** `hookchain/background`: the queue, its errors, and the types for writing another executor. */
export { DrainQueue, type BackgroundEvents, type BackgroundStats, type DrainQueueOptions, type OverflowPolicy } from './drain-queue.ts';
export { BackgroundQueueError, BackgroundTimeoutError, type BackgroundQueueErrorCode } from './errors.ts';
export type {
  BackgroundExecutor,
  BackgroundFailureReason,
  BackgroundHookOwner,
  BackgroundHookRef,
  BackgroundJob,
  BackgroundReporter,
  JobSpanContext,
} from './executor.ts';
export { frozenCopy } from './snapshot.ts';
