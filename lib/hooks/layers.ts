/**
 * Builds the onion from compiled hooks (docs/hooks.md):
 *   outer middleware → post-hooks (innermost-first, so their after-parts run in declared order)
 *   → pre-hooks (declared order) → background pre-hook snapshot → agent.use() middleware → model.
 */
import { RUN, type Context } from '../context.ts';
import { HookchainConfigError } from '../errors.ts';
import type { ChunkCheckArgs } from '../guardrails/base.ts';
import { describe } from '../options.ts';
import type { Next } from '../types.ts';
import type { CompiledHook } from './compile.ts';
import { runHook, runStep, type HookRun } from './run-hook.ts';

export type Layer = (ctx: Context, next: Next) => Promise<void> | void;

export interface LayerPlan {
  outer: readonly Layer[];
  pre: readonly CompiledHook[];
  post: readonly CompiledHook[];
  inner: readonly Layer[];
  terminal: Layer;
  /** Between the outer middleware and the post-hooks: seals the output once the post-hooks have run. */
  seal: Layer | undefined;
  /** After the last pre-hook: snapshots the arguments for the background pre-hooks. */
  holdPre: Layer | undefined;
}

export function buildLayers(plan: LayerPlan): Layer[] {
  const layers: Layer[] = [...plan.outer];
  if (plan.seal !== undefined) layers.push(plan.seal);
  for (let i = plan.post.length - 1; i >= 0; i--) {
    const hook = plan.post[i]!;
    if (hook.kind !== 'background') layers.push(hook.call === undefined ? chunkPostLayer(hook) : postLayer(hook));
  }
  for (const hook of plan.pre) if (hook.kind !== 'background') layers.push(preLayer(hook));
  if (plan.holdPre !== undefined) layers.push(plan.holdPre);
  layers.push(...plan.inner, plan.terminal);
  return layers;
}

function preLayer(hook: CompiledHook): Layer {
  return function pre_hook(ctx, next) {
    const run = ctx[RUN] as HookRun;
    const args = run.preArgs();
    return runHook(run, hook, args, () => {
      // A pre-hook may assign a new `runInput` instead of editing it: the model sees what the pre-hooks left.
      if (args.runInput !== ctx.input) adoptInput(ctx, run, args, hook);
      return next();
    });
  };
}

function adoptInput(ctx: Context, run: HookRun, args: { runInput: unknown }, hook: CompiledHook): void {
  const input = args.runInput as { inputContent?: unknown } | null;
  const content = input?.inputContent;
  if (typeof content !== 'string' && !Array.isArray(content)) {
    args.runInput = ctx.input;
    run.failedHook ??= hook.name;
    throw new HookchainConfigError(
      'INVALID_HOOK_RESULT',
      `pre-hook "${hook.name}" set args.runInput to ${describe(input)}, which has no inputContent; set args.runInput.inputContent to a string or chat messages`,
    );
  }
  ctx.input = input as Context['input'];
}

function postLayer(hook: CompiledHook): Layer {
  // A guardrail with a chunk check already saw every streamed character; re-check only if an earlier post-hook
  // changed the text since (the moderation guardrail would otherwise pay for a second API call).
  const skipWhenStreamUnchanged = hook.chunk !== undefined;
  return function post_hook(ctx, next) {
    return next().then(() => {
      const run = ctx[RUN] as HookRun;
      if (skipWhenStreamUnchanged && run.checkedText !== undefined && ctx.output.content === run.checkedText) {
        return runStep(run, hook, noop, undefined);
      }
      const done = runHook(run, hook, run.postArgs());
      return done === undefined ? checkContent(ctx, run, hook) : done.then(() => checkContent(ctx, run, hook));
    });
  };
}

/** `content` stays text, so that every later output check sees what it became. */
function checkContent(ctx: Context, run: HookRun, hook: CompiledHook): void {
  const content = ctx.output.content as unknown;
  if (content === undefined || typeof content === 'string') return;
  run.failedHook ??= hook.name;
  throw new HookchainConfigError(
    'INVALID_OUTPUT',
    `post-hook "${hook.name}" set runOutput.content to ${describe(content)}; output content must be a string (or undefined)`,
  );
}

/** An `everyChunk` function: in a run that did not stream (or whose text a post-hook changed) it sees the whole output as one final chunk. */
function chunkPostLayer(hook: CompiledHook): Layer {
  return function chunk_post_hook(ctx, next) {
    return next().then(() => {
      const run = ctx[RUN] as HookRun;
      const output = ctx.output;
      const text = output.content;
      if (text === undefined || text === run.checkedText) return runStep(run, hook, noop, undefined);
      const args: ChunkCheckArgs = { text, released: '', final: true, runContext: ctx as never };
      return runStep(
        run,
        hook,
        (a: ChunkCheckArgs) => {
          const result = hook.chunk!(a);
          const apply = (r: typeof result) => {
            const verdict = r as { text?: string } | void;
            if (verdict && typeof verdict.text === 'string') output.content = verdict.text;
          };
          return result instanceof Promise ? result.then(apply) : apply(result);
        },
        args,
      );
    });
  };
}

function noop(): void {}
