/**
 * Background jobs are held on the run context until the run ends (DESIGN §4): a run that fails drops them, so a
 * guardrail that rejects also stops the analytics hook placed before it.
 */
import type { RunContextImpl } from '../context.ts';
import type { CompiledHook } from '../hooks/compile.ts';
import { snapshotArgs } from './snapshot.ts';

export function holdBackgroundJobs(ctx: RunContextImpl, hooks: readonly CompiledHook[], phase: 'pre' | 'post'): void {
  // One snapshot per phase, shared by that phase's background hooks: it is frozen, so sharing is safe.
  const args = snapshotArgs(phase === 'pre' ? ctx.preArgs() : ctx.postArgs());
  for (const hook of hooks) {
    const call = hook.call!;
    ctx.holdJob({
      hookName: hook.name,
      runId: ctx.runId,
      timeoutMs: hook.timeoutMs,
      run: () => call(args),
      report: ctx.agent.backgroundReporter,
    });
  }
}
