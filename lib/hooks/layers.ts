/**
 * Builds the onion from compiled hooks (docs/hooks.md):
 *   outer middleware → post-hooks (after `next()`, in declared order) → pre-hooks (declared order)
 *   → background pre-hook snapshot → agent.use() middleware → model.
 *
 * Each phase's hooks run in one layer, a loop, rather than one koa-compose layer per hook: the order and every
 * rule are the same (hooks never call `next()`), and a sync hook then costs a function call, an async one a single
 * promise hop, instead of a layer's bound `dispatch` and promise wrapping on top.
 */
import compose from 'koa-compose';
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
  holdPre: ((ctx: Context) => void) | undefined;
}

/**
 * The run's chain. With middleware it is koa-compose over the layers. Without, nothing can call `next()` twice or
 * late, so the hook loops and the model are called directly (koa-compose's per-run closures and bound dispatchers
 * were most of a hook-less run's allocations).
 */
export function buildChain(plan: LayerPlan): (ctx: Context) => Promise<void> {
  if (plan.outer.length > 0 || plan.inner.length > 0 || plan.seal !== undefined)
    return compose(buildLayers(plan)) as (ctx: Context) => Promise<void>;
  const pre = plan.pre.filter((h) => h.kind !== 'background');
  const post = plan.post.filter((h) => h.kind !== 'background');
  const { terminal, holdPre } = plan;
  const toModel =
    pre.length === 0 && holdPre === undefined
      ? (ctx: Context) => callLayer(terminal, ctx)
      : (ctx: Context) => runPre(ctx, ctx[RUN] as HookRun, pre, 0, holdPre, () => callLayer(terminal, ctx));
  if (post.length === 0) return toModel;
  return (ctx) => toModel(ctx).then(() => runPost(ctx, ctx[RUN] as HookRun, post, 0));
}

function callLayer(layer: Layer, ctx: Context): Promise<void> {
  try {
    const result = layer(ctx, NO_NEXT);
    return result instanceof Promise ? result : Promise.resolve(result);
  } catch (error) {
    return Promise.reject(error);
  }
}

/** The terminal is last: there is nothing after it. */
const NO_NEXT: Next = () => Promise.resolve();

export function buildLayers(plan: LayerPlan): Layer[] {
  const layers: Layer[] = [...plan.outer];
  if (plan.seal !== undefined) layers.push(plan.seal);
  const post = plan.post.filter((h) => h.kind !== 'background');
  if (post.length > 0) layers.push(postLayer(post));
  const pre = plan.pre.filter((h) => h.kind !== 'background');
  if (pre.length > 0 || plan.holdPre !== undefined) layers.push(preLayer(pre, plan.holdPre));
  layers.push(...plan.inner, plan.terminal);
  return layers;
}

function preLayer(hooks: readonly CompiledHook[], holdPre: ((ctx: Context) => void) | undefined): Layer {
  return function pre_hooks(ctx, next) {
    return runPre(ctx, ctx[RUN] as HookRun, hooks, 0, holdPre, next);
  };
}

/** Pre-hooks from `i` on; sync ones in the loop, an async one resumes the loop when it settles. */
function runPre(
  ctx: Context,
  run: HookRun,
  hooks: readonly CompiledHook[],
  i: number,
  holdPre: ((ctx: Context) => void) | undefined,
  next: Next,
): Promise<void> {
  const args = run.preArgs();
  for (; i < hooks.length; i++) {
    const hook = hooks[i]!;
    let pending: Promise<void> | undefined;
    try {
      pending = runHook(run, hook, args);
    } catch (error) {
      return Promise.reject(error);
    }
    if (pending !== undefined) {
      const at = i;
      return pending.then(() => {
        // A pre-hook may assign a new `runInput` instead of editing it: the model sees what the pre-hooks left.
        if (args.runInput !== ctx.input) adoptInput(ctx, run, args, hook);
        return runPre(ctx, run, hooks, at + 1, holdPre, next);
      });
    }
    if (args.runInput !== ctx.input) {
      try {
        adoptInput(ctx, run, args, hook);
      } catch (error) {
        return Promise.reject(error);
      }
    }
  }
  if (holdPre !== undefined) holdPre(ctx);
  return next();
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

function postLayer(hooks: readonly CompiledHook[]): Layer {
  return function post_hooks(ctx, next) {
    return next().then(() => runPost(ctx, ctx[RUN] as HookRun, hooks, 0));
  };
}

/** Post-hooks from `i` on, in declared order, once the rest of the chain has returned. */
function runPost(ctx: Context, run: HookRun, hooks: readonly CompiledHook[], i: number): Promise<void> | undefined {
  for (; i < hooks.length; i++) {
    const hook = hooks[i]!;
    const pending = hook.call === undefined ? runChunkHook(ctx, run, hook) : runPostHook(ctx, run, hook);
    if (pending !== undefined) {
      const at = i;
      return pending.then(() => {
        checkContent(ctx, run, hook);
        return runPost(ctx, run, hooks, at + 1);
      });
    }
    checkContent(ctx, run, hook);
  }
  return undefined;
}

function runPostHook(ctx: Context, run: HookRun, hook: CompiledHook): Promise<void> | undefined {
  // A guardrail with a chunk check already saw every streamed character; re-check only if an earlier post-hook
  // changed the text since (the moderation guardrail would otherwise pay for a second API call).
  if (hook.chunk !== undefined && run.checkedText !== undefined && ctx.output.content === run.checkedText) {
    return runStep(run, hook, noop, undefined);
  }
  return runHook(run, hook, run.postArgs());
}

/** An `everyChunk` function: in a run that did not stream (or whose text a post-hook changed) it sees the whole output as one final chunk. */
function runChunkHook(ctx: Context, run: HookRun, hook: CompiledHook): Promise<void> | undefined {
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

function noop(): void {}
