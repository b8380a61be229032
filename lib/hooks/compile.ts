/**
 * Turns what the user put in `preHooks` / `postHooks` into compiled hooks, once, when the agent is built.
 * Classification (guardrail, function, chunk check, background) never happens again at run time.
 */
import { HookchainConfigError } from '../errors.ts';
import { isGuardrail, type ChunkCheckArgs, type ChunkCheckResult } from '../guardrails/base.ts';
import type { HookArgs } from '../types.ts';
import { hookOptionsOf, hookTargetOf, type HookFn } from './hook.ts';
import { describe } from '../options.ts';

export type HookPhase = 'pre' | 'post';

export interface CompiledHook {
  readonly name: string;
  readonly phase: HookPhase;
  readonly kind: 'guardrail' | 'function' | 'background';
  readonly failOpen: boolean;
  readonly timeoutMs: number | undefined;
  /** The whole-input / whole-output check. Absent for `everyChunk` functions, which only see text. */
  readonly call: ((args: HookArgs) => unknown) | undefined;
  /** Streams: sees each chunk before release (guardrail `checkChunk`, or an `everyChunk` function). */
  readonly chunk: ((args: ChunkCheckArgs) => ChunkCheckResult | void | Promise<ChunkCheckResult | void>) | undefined;
  readonly chunkLookBehind: number;
  /** A post-hook guardrail with no chunk check: streamed text is held until it has checked the whole output. */
  readonly gatesStream: boolean;
  /** Pre-hooks: runs concurrently with the adjacent parallel pre-hooks. */
  readonly parallel: boolean;
  /** Reports verdicts (`hook_shadow_verdict`) instead of blocking; its edits stay out of the run. */
  readonly shadow: boolean;
  /** The share of runs it runs on (1: every run). */
  readonly sampleRate: number;
}

export interface CompileOptions {
  /** `runHooksInBackground`: every non-guardrail hook becomes a background hook. */
  allInBackground: boolean;
}

export function compileHooks(list: unknown, phase: HookPhase, options: CompileOptions): CompiledHook[] {
  const option = phase === 'pre' ? 'preHooks' : 'postHooks';
  if (list === undefined) return [];
  if (!Array.isArray(list)) {
    throw new HookchainConfigError(
      'INVALID_OPTION',
      `Agent: "${option}" must be an array of hook functions or guardrails, got ${describe(list)}`,
    );
  }
  // Copied: editing the caller's array later must not change a built agent (Agno re-reads its list lazily).
  const hooks = list.map((entry, index) => compileOne(entry, phase, `${option}[${index}]`, options));
  // Events, errors, debug lines and background jobs are keyed on the name: two hooks of one phase may not share one.
  const seen = new Map<string, number>();
  hooks.forEach((h, index) => {
    const first = seen.get(h.name);
    if (first !== undefined) {
      throw new HookchainConfigError(
        'DUPLICATE_HOOK_NAME',
        `Agent: ${option}[${first}] and ${option}[${index}] are both named "${h.name}"; events and background jobs are keyed on hook names. ` +
          'Name one of them: hook({ name })(fn) for a function, or the guardrail option { name }',
      );
    }
    seen.set(h.name, index);
  });
  return hooks;
}

function compileOne(entry: unknown, phase: HookPhase, where: string, options: CompileOptions): CompiledHook {
  if (isGuardrail(entry)) {
    if ((entry as { runInBackground?: unknown }).runInBackground === true) {
      throw backgroundGuardrail(entry.name, where);
    }
    if (typeof entry.check !== 'function') {
      throw new HookchainConfigError(
        'INVALID_HOOK',
        `Agent: ${where} (${entry.name}) has no check(args) method; implement it on your BaseGuardrail subclass`,
      );
    }
    const shadow = entry.mode === 'shadow';
    const bound = phase === 'post' && typeof entry.checkChunk === 'function' ? entry.checkChunk.bind(entry) : undefined;
    const chunkCheck = bound !== undefined && shadow ? shadowChunk(bound) : bound;
    if (entry.parallel && phase === 'post') throw parallelPost(entry.name, where);
    return Object.freeze({
      name: entry.name,
      phase,
      kind: 'guardrail' as const,
      failOpen: entry.failOpen,
      timeoutMs: entry.timeoutMs,
      call: entry.check.bind(entry),
      chunk: chunkCheck,
      chunkLookBehind: chunkCheck ? Math.max(0, entry.chunkLookBehind | 0) : 0,
      // A shadow guardrail never blocks, so it has no reason to hold the stream back.
      gatesStream: phase === 'post' && chunkCheck === undefined && !shadow,
      parallel: entry.parallel === true,
      shadow,
      sampleRate: entry.sampleRate ?? 1,
    });
  }
  if (typeof entry === 'function' && /^class\b/.test(Function.prototype.toString.call(entry))) {
    const guardrail = isGuardrail((entry as { prototype?: unknown }).prototype);
    throw new HookchainConfigError(
      'INVALID_HOOK',
      `Agent: ${where} is ${describe(entry)}${guardrail ? `; pass an instance: new ${(entry as { name: string }).name}()` : '; hooks are functions or guardrail instances'}`,
    );
  }
  if (typeof entry !== 'function') {
    const hint =
      entry !== null && typeof entry === 'object' && typeof (entry as { check?: unknown }).check === 'function'
        ? ' It has a check() method: make it extend BaseGuardrail so it is recognised as a guardrail.'
        : '';
    throw new HookchainConfigError(
      'INVALID_HOOK',
      `Agent: ${where} must be a hook function or a BaseGuardrail instance, got ${describe(entry)}.${hint}`,
    );
  }
  const opts = hookOptionsOf(entry as HookFn);
  const name = opts.name || (entry as HookFn).name || `${where}`;
  const fn = hookTargetOf(entry as HookFn);
  const shadow = opts.mode === 'shadow';
  if (opts.parallel && phase === 'post') throw parallelPost(name, where);
  const latency = { parallel: opts.parallel === true, shadow, sampleRate: opts.sampleRate ?? 1 };
  if (opts.everyChunk) {
    if (phase === 'pre') {
      throw new HookchainConfigError(
        'INVALID_HOOK',
        `Agent: ${where} ("${name}") is marked everyChunk, which only makes sense in postHooks (chunks are output)`,
      );
    }
    return Object.freeze({
      name,
      phase,
      kind: 'function' as const,
      failOpen: opts.failOpen === true,
      timeoutMs: opts.timeoutMs,
      call: undefined,
      chunk: shadow ? shadowChunk(fn as NonNullable<CompiledHook['chunk']>) : (fn as (args: ChunkCheckArgs) => ChunkCheckResult | void),
      chunkLookBehind: 0,
      gatesStream: false,
      ...latency,
    });
  }
  return Object.freeze({
    name,
    phase,
    kind: opts.runInBackground || options.allInBackground ? ('background' as const) : ('function' as const),
    failOpen: opts.failOpen === true,
    timeoutMs: opts.timeoutMs,
    call: fn as (args: HookArgs) => unknown,
    chunk: undefined,
    chunkLookBehind: 0,
    gatesStream: false,
    ...latency,
  });
}

/** A shadow chunk check sees the text but changes nothing: its rewrites and holds are dropped (verdicts are reported). */
function shadowChunk(check: NonNullable<CompiledHook['chunk']>): NonNullable<CompiledHook['chunk']> {
  return (args) => {
    const result = check(args);
    // (run-hook.ts has isThenable, but it imports this file's types: no cycle, even type-only.)
    const thenable = result !== null && typeof result === 'object' && typeof (result as PromiseLike<unknown>).then === 'function';
    return thenable ? Promise.resolve(result).then(() => undefined) : undefined;
  };
}

function parallelPost(name: string, where: string): HookchainConfigError {
  return new HookchainConfigError(
    'INVALID_HOOK',
    `Agent: ${where} ("${name}") is parallel, which only applies to pre-hooks (they check the input side by side); remove parallel from it`,
  );
}

function backgroundGuardrail(name: string, where: string): HookchainConfigError {
  return new HookchainConfigError(
    'BACKGROUND_GUARDRAIL',
    `Agent: ${where} (${name}) is a guardrail marked to run in background; guardrails must run inline to block. Remove runInBackground from it`,
  );
}
