/**
 * Background jobs are held on the run context until the run ends (DESIGN §4): a run that fails drops them, so a
 * guardrail that rejects also stops the analytics hook placed before it.
 */
import type { RunContextImpl } from '../context.ts';
import type { CompiledHook } from '../hooks/compile.ts';
import type { HookArgs } from '../types.ts';
import type { BackgroundJob, BackgroundReporter } from './executor.ts';
import { snapshotArgs } from './snapshot.ts';

export function holdBackgroundJobs(ctx: RunContextImpl, hooks: readonly CompiledHook[], phase: 'pre' | 'post'): void {
  // One snapshot per phase, shared by that phase's background hooks: it is frozen, so sharing is safe.
  const args = snapshotArgs(phase === 'pre' ? ctx.preArgs() : ctx.postArgs());
  const report = ctx.agent.backgroundReporter;
  for (const hook of hooks) ctx.holdJob(new HookJob(hook, args, ctx.runId, report));
}

/** A class rather than a literal plus closure: one allocation per held job, and `run` lives on the prototype. */
class HookJob implements BackgroundJob {
  readonly hookName: string;
  readonly runId: string;
  readonly timeoutMs: number | undefined;
  readonly report: BackgroundReporter;
  private readonly hook: CompiledHook;
  readonly args: HookArgs;

  constructor(hook: CompiledHook, args: HookArgs, runId: string, report: BackgroundReporter) {
    this.hookName = hook.name;
    this.runId = runId;
    this.timeoutMs = hook.timeoutMs;
    this.report = report;
    this.hook = hook;
    this.args = args;
  }

  run(): unknown {
    return this.hook.call!(this.args);
  }
}
