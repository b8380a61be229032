/**
 * The release buffer (docs/streaming.md). Streamed text passes every chunk check in declared order before it may leave;
 * each check may rewrite its pending text and hold back a tail, which is presented again with the next delta.
 * Work per delta is the delta plus what the checks hold, so total work stays linear in the output.
 */
import type { ChunkCheckArgs, ChunkCheckResult } from '../guardrails/base.ts';
import type { CompiledHook } from '../hooks/compile.ts';
import { failClosed, isThenable, withTimeout, type HookRun } from '../hooks/run-hook.ts';

interface Stage {
  readonly hook: CompiledHook;
  /** Text this check held back, first in line for its next call. */
  pending: string;
  /** The last `chunkLookBehind` characters this check released. */
  window: string;
  /**
   * The check's argument object, refilled for each call: a stage is called again only after its previous call
   * settled, so no check can see it change under it, and the chunk loop allocates nothing per check.
   */
  readonly args: { text: string; released: string; final: boolean; runContext: ChunkCheckArgs['runContext'] };
  /** Copied off the compiled hook so the chunk loop reads one object. */
  readonly check: NonNullable<CompiledHook['chunk']>;
  readonly lookBehind: number;
}

export class ReleasePipeline {
  private readonly stages: Stage[];
  private readonly run: HookRun;

  constructor(hooks: readonly CompiledHook[], run: HookRun, runContext: ChunkCheckArgs['runContext']) {
    this.stages = hooks.map((hook) => ({
      hook,
      pending: '',
      window: '',
      args: { text: '', released: '', final: false, runContext },
      check: hook.chunk!,
      lookBehind: hook.chunkLookBehind,
    }));
    this.run = run;
  }

  /** Feeds `delta` through every stage; resolves (or returns, when all checks are sync) with the cleared text. */
  push(delta: string, final: boolean): string | Promise<string> {
    return this.from(0, delta, final);
  }

  private from(index: number, text: string, final: boolean): string | Promise<string> {
    const stages = this.stages;
    for (let i = index; i < stages.length; i++) {
      const stage = stages[i]!;
      if (text === '' && !final) return '';
      const held = stage.pending;
      const input = held === '' ? text : held + text;
      if (input === '') continue;
      const args = stage.args;
      args.text = input;
      args.released = stage.window;
      args.final = final;
      let verdict: ChunkCheckResult | void | Promise<ChunkCheckResult | void>;
      try {
        verdict = stage.check(args);
      } catch (error) {
        verdict = this.failed(stage.hook, error);
      }
      if (verdict === undefined && held === '' && stage.lookBehind === 0) {
        text = input; // released unchanged: the common case of a check that found nothing
        continue;
      }
      if (isThenable(verdict)) {
        return this.settleAsync(stage, verdict).then((v) => this.from(i + 1, this.settle(stage, input, v, final), final));
      }
      text = this.settle(stage, input, verdict, final);
    }
    return text;
  }

  private settleAsync(stage: Stage, verdict: PromiseLike<ChunkCheckResult | void>): Promise<ChunkCheckResult | void> {
    const hook = stage.hook;
    const settled =
      hook.timeoutMs === undefined ? verdict : (withTimeout(verdict, hook.name, hook.timeoutMs) as Promise<ChunkCheckResult | void>);
    return Promise.resolve(settled).then(undefined, (error: unknown) => this.failed(hook, error));
  }

  /** Applies a verdict: what is released goes on to the next stage, the held tail stays. */
  private settle(stage: Stage, input: string, verdict: ChunkCheckResult | void, final: boolean): string {
    const out = verdict && typeof verdict.text === 'string' ? verdict.text : input;
    let hold = final || !verdict || verdict.hold === undefined ? 0 : Math.floor(verdict.hold);
    if (!(hold > 0)) hold = 0;
    else if (hold > out.length) hold = out.length;
    const released = hold === 0 ? out : out.slice(0, out.length - hold);
    stage.pending = hold === 0 ? '' : out.slice(out.length - hold);
    const keep = stage.lookBehind;
    if (keep > 0 && released !== '') {
      const joined = stage.window + released;
      stage.window = joined.length > keep ? joined.slice(joined.length - keep) : joined;
    }
    return released;
  }

  /** The whole-output hooks' rule; a fail-open check that crashed lets its text through unchanged. */
  private failed(hook: CompiledHook, error: unknown): void {
    return failClosed(this.run, hook, error, 'chunk');
  }
}
