/**
 * Background jobs are held by the run until it ends (docs/background-hooks.md): a run that fails drops them, so a guardrail that
 * rejects also stops the analytics hook placed before it.
 */
import type { CompiledHook } from '../hooks/compile.ts';
import type { HookArgs } from '../types.ts';
import type { BackgroundJob, BackgroundReporter, JobSpanContext } from './executor.ts';
import { snapshotArgs } from './snapshot.ts';

type SpanContextLike = JobSpanContext;

/** One job per hook, sharing one frozen snapshot of the phase's arguments (frozen, so sharing is safe). */
export function backgroundJobs(
  hooks: readonly CompiledHook[],
  args: HookArgs<object, object>,
  runId: string,
  report: BackgroundReporter,
  spanContext?: SpanContextLike,
): BackgroundJob[] {
  const snapshot = snapshotArgs(args);
  return hooks.map((hook) => new HookJob(hook, snapshot, runId, report, spanContext));
}

/** A class rather than a literal plus closure: one allocation per held job, and `run` lives on the prototype. */
class HookJob implements BackgroundJob {
  readonly hookName: string;
  readonly runId: string;
  readonly timeoutMs: number | undefined;
  readonly report: BackgroundReporter;
  private readonly hook: CompiledHook;
  readonly args: HookArgs<object, object>;
  /** The traced run's root span, which the job's span links to (undefined when the run was not traced). */
  readonly spanContext: SpanContextLike | undefined;

  constructor(
    hook: CompiledHook,
    args: HookArgs<object, object>,
    runId: string,
    report: BackgroundReporter,
    spanContext: SpanContextLike | undefined,
  ) {
    this.hookName = hook.name;
    this.runId = runId;
    this.timeoutMs = hook.timeoutMs;
    this.report = report;
    this.hook = hook;
    this.args = args;
    this.spanContext = spanContext;
  }

  run(): unknown {
    return this.hook.call!(this.args);
  }
}
