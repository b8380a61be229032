/**
 * `hook(options)` marks a hook function, either as a call (`hook({ failOpen: true })(fn)`) or as a TS 5 standard
 * method decorator (`@hook({ runInBackground: true }) async log(args) {…}`, with `this` bound to the instance).
 *
 * The options travel on the function under a symbol and are read once, when an agent is built.
 */
import { HookchainConfigError } from '../errors.ts';
import { describe, is } from '../options.ts';
import type { ChunkCheckArgs, ChunkCheckResult } from '../guardrails/base.ts';
import type { DefaultDependencies, DefaultState, PostHookArgs, PreHookArgs, ToolHook } from '../types.ts';

/**
 * Options of `hook(options)`, `hook.pre(options)` and `hook.post(options)`, all optional. Guardrails take `name`,
 * `failOpen` and `timeoutMs` in their constructor instead.
 */
export interface HookOptions {
  /** Name in events and errors; defaults to the function's name. */
  name?: string;
  /** On a crash or timeout, emit `hook_failed` and let the run go on. Never applies to check errors (verdicts). */
  failOpen?: boolean;
  /** Bound on one call of the hook, in milliseconds; a timeout is a failure (fail closed unless `failOpen`). */
  timeoutMs?: number;
  /** Run detached, after the run has succeeded, on a snapshot of its arguments (see docs/background-hooks.md). */
  runInBackground?: boolean;
  /** Post-hooks only: called with each streamed chunk before it is released (see docs/streaming.md). */
  everyChunk?: boolean;
  /**
   * Pre-hooks only: run concurrently with the adjacent pre-hooks that are parallel too; the first verdict wins and
   * the others are cancelled through `args.signal`. A parallel hook must not edit the input (that fails the run).
   */
  parallel?: boolean;
  /**
   * `'shadow'`: run the check, but report a verdict as `hook_shadow_verdict` instead of blocking, and keep its edits
   * out of the run (for trying a new check on live traffic). Default `'enforce'`.
   */
  mode?: 'enforce' | 'shadow';
  /** Run the hook on this share of runs only (0–1, default 1), picked by run id: a run has all its sampled hooks or none. */
  sampleRate?: number;
}

const KNOWN_OPTIONS = new Set(['name', 'failOpen', 'timeoutMs', 'runInBackground', 'everyChunk', 'parallel', 'mode', 'sampleRate']);

// `any` keeps hook functions assignable whatever argument type they declare (bivariance on purpose).
/** Any hook function, whatever argument type it declares; a tool hook also takes `next`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type HookFn = (args: any, ...rest: any[]) => unknown;
/** A chunk check written as a function, for `hook({ everyChunk: true })`: the guardrail's `checkChunk` signature. */
export type ChunkHookFn = (args: ChunkCheckArgs) => ChunkCheckResult | void | Promise<ChunkCheckResult | void>;

export const HOOK_OPTIONS: unique symbol = Symbol.for('hookchain.hookOptions');
/** The function a marked hook wraps, so the built chain calls it directly (one call layer less per hook call). */
export const HOOK_TARGET: unique symbol = Symbol.for('hookchain.hookTarget');

export interface MarkedHook {
  [HOOK_OPTIONS]?: Readonly<HookOptions>;
  [HOOK_TARGET]?: HookFn;
}

export function validateHookOptions(options: unknown, where: string): Readonly<HookOptions> {
  if (options === undefined) return Object.freeze({});
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new HookchainConfigError(
      'INVALID_OPTION',
      `${where}: options must be an object like { failOpen: true }, got ${describe(options)}`,
    );
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) {
      throw new HookchainConfigError(
        'UNKNOWN_OPTION',
        `${where}: unknown option "${key}"; known options are ${[...KNOWN_OPTIONS].join(', ')}`,
      );
    }
  }
  const o = options as HookOptions;
  if (o.name !== undefined && (typeof o.name !== 'string' || o.name === '')) {
    throw new HookchainConfigError('INVALID_OPTION', `${where}: "name" must be a non-empty string`);
  }
  const timeout = o.timeoutMs === undefined ? undefined : is.timeoutMs(o.timeoutMs);
  if (timeout !== undefined)
    throw new HookchainConfigError('INVALID_OPTION', `${where}: "timeoutMs" must be ${timeout}, got ${describe(o.timeoutMs)}`);
  checkLatencyOptions(o, where);
  if (o.parallel && (o.runInBackground || o.everyChunk)) {
    throw new HookchainConfigError(
      'INVALID_OPTION',
      `${where}: a parallel hook runs inline beside other pre-hooks; it cannot also be ${o.runInBackground ? 'runInBackground' : 'everyChunk'}`,
    );
  }
  if (o.mode === 'shadow' && o.runInBackground) {
    throw new HookchainConfigError(
      'INVALID_OPTION',
      `${where}: a background hook never blocks, so mode: 'shadow' has no effect on it; remove one`,
    );
  }
  for (const flag of ['failOpen', 'runInBackground', 'everyChunk'] as const) {
    if (o[flag] !== undefined && typeof o[flag] !== 'boolean') {
      throw new HookchainConfigError('INVALID_OPTION', `${where}: "${flag}" must be true or false, got ${describe(o[flag])}`);
    }
  }
  if (o.runInBackground && o.everyChunk) {
    throw new HookchainConfigError(
      'INVALID_OPTION',
      `${where}: a hook cannot be both runInBackground and everyChunk (a background hook cannot gate a stream)`,
    );
  }
  return Object.freeze({ ...o });
}

/** Checks `parallel`, `mode` and `sampleRate`, shared by `hook()` and the guardrails' constructor. */
export function checkLatencyOptions(o: Pick<HookOptions, 'parallel' | 'mode' | 'sampleRate'>, where: string): void {
  if (o.parallel !== undefined && typeof o.parallel !== 'boolean') {
    throw new HookchainConfigError('INVALID_OPTION', `${where}: "parallel" must be true or false, got ${describe(o.parallel)}`);
  }
  if (o.mode !== undefined && o.mode !== 'enforce' && o.mode !== 'shadow') {
    throw new HookchainConfigError('INVALID_OPTION', `${where}: "mode" must be 'enforce' or 'shadow', got ${describe(o.mode)}`);
  }
  const rate = o.sampleRate;
  if (rate !== undefined && !(typeof rate === 'number' && rate >= 0 && rate <= 1)) {
    throw new HookchainConfigError(
      'INVALID_OPTION',
      `${where}: "sampleRate" must be a number from 0 to 1 (the share of runs), got ${describe(rate)}`,
    );
  }
}

/** A marked chunk check: typed so it also fits `postHooks`, where it only ever receives chunk arguments. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type MarkedChunkHook<F> = F & ((args: any) => unknown);

/**
 * Marks a hook: `hook(opts)(fn)` returns a new function (the original is untouched); `@hook(opts)` decorates a
 * method. `hook.pre(opts)` and `hook.post(opts)` do the same and type the hook's arguments by phase, so an
 * unannotated hook is checked.
 *
 * @example
 * const audit = hook({ runInBackground: true })(async ({ runOutput }: PostHookArgs) => log(runOutput.runId));
 * const tone = hook.post({ failOpen: true })(({ runOutput }) => checkTone(runOutput.content));
 */
export function hook(
  options: HookOptions & { everyChunk: true },
): <F extends ChunkHookFn>(fn: F, context?: ClassMethodDecoratorContext) => MarkedChunkHook<F>;
export function hook(options?: HookOptions): <F extends HookFn>(fn: F, context?: ClassMethodDecoratorContext) => F;
export function hook(options?: HookOptions) {
  const opts = validateHookOptions(options, 'hook()');
  function mark<F extends HookFn>(fn: F, context?: ClassMethodDecoratorContext): F {
    if (typeof fn !== 'function') {
      throw new HookchainConfigError(
        'INVALID_HOOK',
        `hook(): expected a function to mark, got ${describe(fn)}. Guardrails take these options in their constructor.`,
      );
    }
    const inner = (fn as MarkedHook)[HOOK_OPTIONS];
    const merged = Object.freeze({ ...inner, ...opts, name: opts.name ?? inner?.name ?? (context ? String(context.name) : fn.name) });
    if (context) {
      if (context.kind !== 'method')
        throw new HookchainConfigError('INVALID_HOOK', `@hook() decorates methods only, not a ${context.kind}`);
      // A decorated method is usually passed around detached (`preHooks: [svc.audit]`), so bind it per instance.
      context.addInitializer(function (this: unknown) {
        const self = this as Record<string | symbol, unknown>;
        const bound = Object.assign(fn.bind(self), { [HOOK_OPTIONS]: merged });
        Object.defineProperty(self, context.name, { value: bound, writable: true, configurable: true });
      });
      return Object.assign(fn, { [HOOK_OPTIONS]: merged });
    }
    const target = (fn as MarkedHook)[HOOK_TARGET] ?? fn;
    // Forwards every argument: a tool hook's second one is `next`.
    const wrapped = function (this: unknown, ...args: unknown[]) {
      return fn.apply(this, args as never);
    } as unknown as F;
    Object.defineProperty(wrapped, 'name', { value: merged.name || fn.name });
    return Object.assign(wrapped, { [HOOK_OPTIONS]: merged, [HOOK_TARGET]: target });
  }
  return mark;
}

/**
 * `hook.pre(options)(fn)`: `hook(options)(fn)` for a pre-hook, with `fn`'s arguments typed as `PreHookArgs`.
 *
 * @example
 * const maxLength = hook.pre({ name: 'max-length' })(({ runInput }) => {
 *   if (String(runInput.inputContent).length > 4000) throw new InputCheckError('Input too long');
 * });
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
hook.pre = function pre<State extends object = DefaultState, Deps extends object = DefaultDependencies, Vars extends object = {}>(
  options?: HookOptions,
): (fn: (args: PreHookArgs<State, Deps, Vars>) => unknown) => (args: PreHookArgs<State, Deps, Vars>) => unknown {
  if (options?.everyChunk)
    throw new HookchainConfigError(
      'INVALID_OPTION',
      'hook.pre(): everyChunk only applies to post-hooks (chunks are output); use hook.post()',
    );
  return hook(options);
};

/**
 * `hook.post(options)(fn)`: `hook(options)(fn)` for a post-hook, with `fn`'s arguments typed as `PostHookArgs`.
 *
 * @example
 * const noRefunds = hook.post()(({ runOutput }) => {
 *   if (runOutput.content?.includes('refund')) throw new OutputCheckError('No refund promises');
 * });
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
hook.post = function post<State extends object = DefaultState, Deps extends object = DefaultDependencies, Vars extends object = {}>(
  options?: Omit<HookOptions, 'everyChunk'>,
): (fn: (args: PostHookArgs<State, Deps, Vars>) => unknown) => (args: PostHookArgs<State, Deps, Vars>) => unknown {
  return hook(options);
};

/**
 * `hook.tool(options)(fn)`: `hook(options)(fn)` for a tool hook (`toolHooks`), with `fn` typed as a `ToolHook`.
 * Tool hooks take `name`, `failOpen` and `timeoutMs`.
 *
 * @example
 * const audit = hook.tool({ name: 'audit', failOpen: true })(async (call, next) => {
 *   await next();
 *   await auditLog.write(call.toolName, call.callId);
 * });
 */
hook.tool = function toolHook<State extends object = DefaultState, Deps extends object = DefaultDependencies>(
  options?: Pick<HookOptions, 'name' | 'failOpen' | 'timeoutMs'>,
): (fn: ToolHook<State, Deps>) => ToolHook<State, Deps> {
  return hook(options) as (fn: ToolHook<State, Deps>) => ToolHook<State, Deps>;
};

/** What the chain should call: the wrapped function of `hook(opts)(fn)` (a wrapper only forwards), else `fn`. */
export function hookTargetOf(fn: HookFn): HookFn {
  return (fn as MarkedHook)[HOOK_TARGET] ?? fn;
}

export function hookOptionsOf(fn: HookFn): Readonly<HookOptions> {
  return (fn as MarkedHook)[HOOK_OPTIONS] ?? EMPTY;
}
const EMPTY: Readonly<HookOptions> = Object.freeze({});
