/** Shared fixtures for the background specs: jobs, a recording reporter, and an unhandled-rejection trap. */
import { afterEach, beforeEach, expect } from 'vitest';
import type { BackgroundFailureReason, BackgroundJob, BackgroundReporter } from '../../lib/background/executor.ts';

export interface Recorded {
  started: number[];
  completed: number[];
  failed: { jobId: number; hookName: string; reason: BackgroundFailureReason; error: unknown }[];
}

/** A reporter whose calls land in plain arrays the test can inspect. */
export function recordingReporter(): { report: BackgroundReporter; rec: Recorded } {
  const rec: Recorded = { started: [], completed: [], failed: [] };
  const report: BackgroundReporter = {
    started: (_job, jobId) => void rec.started.push(jobId),
    completed: (_job, jobId) => void rec.completed.push(jobId),
    failed: (job, jobId, error, reason) => void rec.failed.push({ jobId, hookName: job.hookName, reason, error }),
  };
  return { report, rec };
}

export function job(hookName: string, run: () => unknown, extra: Partial<BackgroundJob> = {}): BackgroundJob {
  return { hookName, runId: 'run-1', run, ...extra };
}

export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every pending setImmediate (and the microtasks between) run. */
export function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Fails the current test if anything became an unhandled rejection while it ran. */
export function trapUnhandledRejections(): { readonly seen: unknown[] } {
  const seen: unknown[] = [];
  const onRejection = (reason: unknown) => void seen.push(reason);
  beforeEach(() => {
    seen.length = 0;
    process.on('unhandledRejection', onRejection);
  });
  afterEach(async () => {
    // Node reports unhandled rejections after the microtask queue drains; give it two turns.
    await turn();
    await turn();
    process.off('unhandledRejection', onRejection);
    expect(seen).toEqual([]);
  });
  return { seen };
}
