/**
 * `hookchain/bullmq`: background hooks across processes on BullMQ (Redis). The API processes pass a
 * `BullMQExecutor` as their agents' `backgroundQueue`; worker processes run `createBackgroundWorker` with the same
 * agents. Needs `bullmq` and `ioredis` installed beside hookchain; the root package never loads this module.
 */
export { BullMQExecutor, type BullMQExecutorOptions } from './executor.ts';
export { createBackgroundWorker, type BackgroundWorker, type BackgroundWorkerOptions } from './worker.ts';
export { BackgroundEnqueueError, BackgroundJobFailedError, backgroundJobId } from './errors.ts';
export type { BackgroundJobData, BackgroundWorkerAgent, JobArgs, SessionSummary } from './payload.ts';
