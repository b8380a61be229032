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
import { HookchainConfigError, isOutputCheckError } from '../errors.ts';
import type { ChunkCheckResult } from '../guardrails/base.ts';
import { describe } from '../options.ts';
import type { HookArgs, Next } from '../types.ts';
import type { CompiledHook } from './compile.ts';
import { completed, failClosed, isThenable, retrying, started, withTimeout, type HookRun } from './run-hook.ts';

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
      : (ctx: Context) => new PhaseLoop(ctx, ctx[RUN] as HookRun, pre, holdPre, () => callLayer(terminal, ctx)).start();
  if (post.length === 0) return toModel;
  return (ctx) => toModel(ctx).then(() => new PhaseLoop(ctx, ctx[RUN] as HookRun, post, undefined, undefined).start());
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
    return new PhaseLoop(ctx, ctx[RUN] as HookRun, hooks, holdPre, next).start();
  };
}

function postLayer(hooks: readonly CompiledHook[]): Layer {
  return function post_hooks(ctx, next) {
    return next().then(() => new PhaseLoop(ctx, ctx[RUN] as HookRun, hooks, undefined, undefined).start());
  };
}

/**
 * One phase's hooks for one run, in declared order. Sync hooks run in the loop; an async hook resumes it through
 * two continuations bound once per run, so each async hook costs the one `then` it needs and no closure.
 * Pre-hooks end with `next()` (the rest of the chain); post-hooks run after it and end the chain.
 */
class PhaseLoop {
  private i = 0;
  private t0 = 0;
  private readonly ctx: Context;
  private readonly run: HookRun;
  private readonly hooks: readonly CompiledHook[];
  private readonly holdPre: ((ctx: Context) => void) | undefined;
  private readonly next: Next | undefined;
  private readonly args: HookArgs<object, object>;
  /** The continuations of an async hook, made on the first one: a phase of sync hooks allocates none. */
  private resume: (() => Promise<void> | undefined) | undefined = undefined;
  private fail: ((error: unknown) => Promise<void> | undefined) | undefined = undefined;

  constructor(
    ctx: Context,
    run: HookRun,
    hooks: readonly CompiledHook[],
    holdPre: ((ctx: Context) => void) | undefined,
    next: Next | undefined,
  ) {
    this.ctx = ctx;
    this.run = run;
    this.hooks = hooks;
    this.holdPre = holdPre;
    this.next = next;
    this.args = next !== undefined ? run.preArgs() : run.postArgs();
  }

  start(): Promise<void> {
    // A paused run has no final answer yet: its post-hooks run when it is resumed and answers.
    if (this.next === undefined && this.run.paused) return RESOLVED;
    try {
      return this.loop() ?? RESOLVED;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The hook at `i` has finished (or failed open): check what it left, then go on with the next. */
  private advance(): Promise<void> | undefined {
    this.after(this.hooks[this.i]!);
    this.i++;
    return this.loop();
  }

  private loop(): Promise<void> | undefined {
    const { run, hooks } = this;
    for (; this.i < hooks.length; this.i++) {
      const hook = hooks[this.i]!;
      if (hook.sampleRate < 1 && !run.sampled(hook.sampleRate)) continue;
      if (hook.parallel) return this.parallel();
      const t0 = started(run, hook);
      let result: unknown;
      try {
        result = this.call(hook);
      } catch (error) {
        const again = this.failed(hook, error, t0);
        if (again !== undefined) return again;
        this.after(hook);
        continue;
      }
      if (isThenable(result)) {
        this.t0 = t0;
        const settled = hook.timeoutMs === undefined ? result : withTimeout(result, hook.name, hook.timeoutMs);
        this.resume ??= () => {
          completed(this.run, this.hooks[this.i]!, this.t0);
          return this.advance();
        };
        this.fail ??= (error) => this.failed(this.hooks[this.i]!, error, this.t0) ?? this.advance();
        return Promise.resolve(settled).then(this.resume, this.fail);
      }
      completed(run, hook, t0);
      this.after(hook);
    }
    if (this.next === undefined) return undefined;
    if (this.holdPre !== undefined) this.holdPre(this.ctx);
    return this.next();
  }

  /**
   * A hook failed: the fail-closed rule, except for a post-hook verdict asking for another answer while the run has
   * retries left. Then the model answers again and every post-hook runs again on the new answer.
   */
  private failed(hook: CompiledHook, error: unknown, t0: number): Promise<void> | undefined {
    if (hook.phase === 'post' && isOutputCheckError(error) && error.retry === true) {
      const again = this.run.retryOutput(error);
      if (again !== undefined) {
        retrying(this.run, hook, error);
        if (this.run.debug) this.run.log(`hookchain: run ${this.run.runId} post-hook "${hook.name}" asked for another answer`);
        return again.then(() => {
          this.i = 0;
          return this.loop();
        });
      }
    }
    failClosed(this.run, hook, error, hook.phase, t0);
    return undefined;
  }

  /**
   * The adjacent parallel pre-hooks from `i`, side by side. When they are the last pre-hooks and the agent is
   * speculative, the rest of the chain (the model) starts beside them, gated until they have all passed.
   */
  private parallel(): Promise<void> {
    const { hooks, run, ctx } = this;
    let to = this.i;
    while (to < hooks.length && hooks[to]!.parallel) to++;
    const group = hooks.slice(this.i, to).filter((h) => h.sampleRate >= 1 || run.sampled(h.sampleRate));
    this.i = to;
    if (this.next === undefined || to < hooks.length || !run.speculative || group.length === 0) {
      return runParallel(ctx, run, group, this.args).then(() => this.loop());
    }
    // Nothing after these hooks can change the input: the model may start on it now.
    if (this.holdPre !== undefined) this.holdPre(ctx);
    const gate = run.speculate();
    let chain: Promise<void>;
    try {
      chain = this.next();
    } catch (error) {
      chain = Promise.reject(error);
    }
    chain.catch(() => {}); // if a check blocks, the aborted chain's own failure is not the run's
    return runParallel(ctx, run, group, this.args).then(
      () => {
        gate.open();
        return chain;
      },
      (error: unknown) => {
        gate.abort(error);
        throw error;
      },
    );
  }

  private call(hook: CompiledHook): unknown {
    if (hook.shadow) return callShadow(hook, this.args, this.ctx);
    if (hook.phase === 'pre') return hook.call!(this.args);
    const { ctx, run } = this;
    const text = ctx.output.content;
    // A guardrail with a chunk check already saw every streamed character; re-check only if an earlier post-hook
    // changed the text since (the moderation guardrail would otherwise pay for a second API call).
    if (hook.chunk !== undefined && run.checkedText !== undefined && text === run.checkedText) return undefined;
    if (hook.call !== undefined) return hook.call(this.args);
    // An `everyChunk` function, in a run that did not stream (or whose text a post-hook changed): it sees the whole
    // output as one final chunk.
    if (text === undefined) return undefined;
    const result = hook.chunk!({ text, released: '', final: true, runContext: ctx as never });
    const apply = (r: ChunkCheckResult | void) => {
      if (r && typeof r.text === 'string') ctx.output.content = r.text;
    };
    return isThenable(result) ? Promise.resolve(result).then(apply) : apply(result);
  }

  /** What every hook leaves is checked before the next one sees it. */
  private after(hook: CompiledHook): void {
    if (hook.phase === 'pre') {
      // A pre-hook may assign a new `runInput` instead of editing it: the model sees what the pre-hooks left.
      if (this.args.runInput !== this.ctx.input) adoptInput(this.ctx, this.run, this.args, hook);
    } else {
      checkContent(this.ctx, this.run, hook);
    }
  }
}

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * Runs a group of parallel pre-hooks. The first verdict (or fail-closed crash) wins: the others are told to stop
 * through `args.signal` and their later outcome is ignored. A hook that edited the input fails the run, named.
 */
function runParallel(ctx: Context, run: HookRun, hooks: readonly CompiledHook[], shared: HookArgs<object, object>): Promise<void> {
  if (hooks.length === 0) return RESOLVED;
  const controller = new AbortController();
  const args = { ...shared, signal: AbortSignal.any([run.signal, controller.signal]) };
  const before = inputSnapshot(ctx.input);
  return new Promise<void>((resolve, reject) => {
    let pending = hooks.length;
    let settled = false;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      controller.abort(error);
      reject(error);
    };
    const passed = (hook: CompiledHook, t0: number) => {
      if (settled) return;
      if (!hook.shadow && inputEdited(before, ctx.input, args.runInput)) {
        run.failedHook ??= hook.name;
        return fail(
          new HookchainConfigError(
            'PARALLEL_HOOK_EDITED_INPUT',
            `pre-hook "${hook.name}" is parallel and edited the input; parallel hooks run side by side and must only read it. Remove parallel from it (or from the hook that masks), or mask in a hook that runs before the parallel ones`,
          ),
        );
      }
      completed(run, hook, t0);
      if (--pending === 0) {
        settled = true;
        resolve();
      }
    };
    const failed = (hook: CompiledHook, error: unknown, t0: number) => {
      if (settled) return;
      try {
        failClosed(run, hook, error, 'pre', t0);
      } catch (verdict) {
        return fail(verdict);
      }
      if (--pending === 0) {
        settled = true;
        resolve();
      }
    };
    for (const hook of hooks) {
      if (settled) break;
      const t0 = started(run, hook);
      let result: unknown;
      try {
        result = hook.shadow ? callShadow(hook, args, ctx) : hook.call!(args);
      } catch (error) {
        failed(hook, error, t0);
        continue;
      }
      if (!isThenable(result)) {
        passed(hook, t0);
        continue;
      }
      const bounded = hook.timeoutMs === undefined ? result : withTimeout(result, hook.name, hook.timeoutMs);
      Promise.resolve(bounded).then(
        () => passed(hook, t0),
        (error: unknown) => failed(hook, error, t0),
      );
    }
  });
}

/**
 * What an input edit would change, by reference and without copying any text: the input object, its content, each
 * message, its content and each part's text or URL. Linear in the number of messages and parts.
 */
function inputSnapshot(input: Context['input']): unknown[] {
  const content = input.inputContent;
  const snapshot: unknown[] = [input, content];
  if (Array.isArray(content)) {
    for (const m of content) {
      snapshot.push(m, m.content);
      if (Array.isArray(m.content)) {
        for (const p of m.content) snapshot.push(p, p.type === 'text' ? p.text : p.image_url?.url);
      }
    }
  }
  return snapshot;
}

function inputEdited(before: unknown[], input: Context['input'], argsInput: unknown): boolean {
  if (argsInput !== before[0] || input !== before[0]) return true;
  const now = inputSnapshot(input);
  if (now.length !== before.length) return true;
  for (let i = 0; i < now.length; i++) if (now[i] !== before[i]) return true;
  return false;
}

/**
 * A shadow hook checks a copy of what it would edit (the input, or the output's text and messages), so whatever it
 * does stays out of the run; its verdict is reported by failClosed instead of blocking.
 */
function callShadow(hook: CompiledHook, args: HookArgs<object, object>, ctx: Context): unknown {
  if (args.phase === 'pre') {
    const content = ctx.input.inputContent;
    const copy = { ...args, runInput: { inputContent: typeof content === 'string' ? content : structuredClone(content) } };
    return hook.call!(copy);
  }
  const output = args.runOutput;
  const copy = { ...args, runOutput: { ...output, messages: structuredClone(output.messages) } };
  if (hook.call !== undefined) return hook.call(copy);
  const text = output.content;
  return text === undefined ? undefined : hook.chunk!({ text, released: '', final: true, runContext: ctx as never });
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
