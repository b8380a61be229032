/**
 * Builds the onion from compiled hooks (DESIGN §2):
 *   post-hooks (outermost, innermost-first so their after-parts run in declared order)
 *   → pre-hooks (declared order) → background pre-hook snapshot → agent.use() middleware → model.
 */
import type { RunContextImpl } from '../context.ts';
import type { ChunkCheckArgs } from '../guardrails/base.ts';
import type { Next } from '../types.ts';
import type { CompiledHook } from './compile.ts';
import { runHook, runStep } from './run-hook.ts';
import { holdBackgroundJobs } from '../background/hold.ts';

export type Layer = (ctx: RunContextImpl, next: Next) => Promise<void> | void;

export function buildLayers(pre: CompiledHook[], post: CompiledHook[], middleware: readonly Layer[], terminal: Layer): Layer[] {
  const layers: Layer[] = [];
  for (let i = post.length - 1; i >= 0; i--) {
    const hook = post[i]!;
    if (hook.kind !== 'background') layers.push(hook.call === undefined ? chunkPostLayer(hook) : postLayer(hook));
  }
  for (const hook of pre) if (hook.kind !== 'background') layers.push(preLayer(hook));
  const preBackground = pre.filter((h) => h.kind === 'background');
  // Snapshot after the last pre-hook, so a background pre-hook sees what every guardrail left (masked input).
  if (preBackground.length > 0) layers.push(backgroundLayer(preBackground));
  layers.push(...middleware, terminal);
  return layers;
}

function preLayer(hook: CompiledHook): Layer {
  return function pre_hook(ctx, next) {
    return runHook(ctx, hook, ctx.preArgs(), next);
  };
}

function postLayer(hook: CompiledHook): Layer {
  // A guardrail with a chunk check already saw every streamed character; re-check only if an earlier post-hook
  // changed the text since (the moderation guardrail would otherwise pay for a second API call).
  const skipWhenStreamUnchanged = hook.chunk !== undefined;
  return function post_hook(ctx, next) {
    return next().then(() => {
      if (skipWhenStreamUnchanged && ctx._stream !== undefined && ctx.output.content === ctx._stream.checkedText) {
        return runStep(ctx, hook, noop, undefined);
      }
      return runHook(ctx, hook, ctx.postArgs());
    });
  };
}

/** An `everyChunk` function: in a run that did not stream (or whose text a post-hook changed) it sees the whole output as one final chunk. */
function chunkPostLayer(hook: CompiledHook): Layer {
  return function chunk_post_hook(ctx, next) {
    return next().then(() => {
      const output = ctx.output;
      const text = output.content;
      if (text === undefined || (ctx._stream !== undefined && text === ctx._stream.checkedText)) {
        return runStep(ctx, hook, noop, undefined);
      }
      const args: ChunkCheckArgs = { text, released: '', final: true, runContext: ctx as never };
      return runStep(ctx, hook, (a: ChunkCheckArgs) => {
        const result = hook.chunk!(a);
        const apply = (r: typeof result) => {
          const verdict = r as { text?: string } | void;
          if (verdict && typeof verdict.text === 'string') output.content = verdict.text;
        };
        return result instanceof Promise ? result.then(apply) : apply(result);
      }, args);
    });
  };
}

function backgroundLayer(hooks: CompiledHook[]): Layer {
  return function background_pre_hooks(ctx, next) {
    holdBackgroundJobs(ctx, hooks, 'pre');
    return next();
  };
}

function noop(): void {}
