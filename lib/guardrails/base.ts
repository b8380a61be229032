/**
 * The guardrail contract. A guardrail is recognised by class when the agent is built (never by inspecting
 * functions at run time) and runs inline, fail-closed, in `preHooks` (checks input) or `postHooks` (checks output).
 */
import { InputCheckError, OutputCheckError, type CheckErrorOptions } from '../errors.ts';
import { checkOptions, is, isPlainObject, type Rules } from '../options.ts';
import type { HookArgs, RunContext } from '../types.ts';

/** The options every guardrail takes (built-ins add their own): name, fail-open and timeout. */
export interface GuardrailOptions {
  /** Name in events and errors; defaults to the class name. */
  name?: string;
  /** Let the run go on (with a `hook_failed` event) when this guardrail crashes or times out. Verdicts still block. */
  failOpen?: boolean;
  /** Bound on one `check` call; a timeout is a failure like any other (fail closed unless `failOpen`). */
  timeoutMs?: number;
  /**
   * As a pre-hook: run concurrently with the adjacent parallel pre-hooks (docs/guardrails.md, "Latency"). The
   * guardrail must not edit the input then (no masking).
   */
  parallel?: boolean;
  /** `'shadow'`: report a verdict as `hook_shadow_verdict` instead of blocking, and keep edits out of the run. */
  mode?: 'enforce' | 'shadow';
  /** Check this share of runs only (0–1, default 1), picked by run id. */
  sampleRate?: number;
}

const isMode = (v: unknown) => (v === 'enforce' || v === 'shadow' ? undefined : "'enforce' or 'shadow'");
const isRate = (v: unknown) => (typeof v === 'number' && v >= 0 && v <= 1 ? undefined : 'a number from 0 to 1 (the share of runs)');

/** The rules for the options every guardrail takes; a built-in adds the rules for its own options. */
export const GUARDRAIL_OPTION_RULES: Rules = Object.freeze({
  name: is.nonEmptyString,
  failOpen: is.boolean,
  timeoutMs: is.timeoutMs,
  parallel: is.boolean,
  mode: isMode,
  sampleRate: isRate,
});

/** What a chunk check sees while a run streams. */
export interface ChunkCheckArgs {
  /** Text not yet released: what this check held back last time, followed by the new text. */
  readonly text: string;
  /** Up to `chunkLookBehind` characters already released just before `text`. Read-only: it has left. */
  readonly released: string;
  /** True on the last call of the stream: nothing may be held back any more. */
  readonly final: boolean;
  /** The streaming run's context (its `signal` aborts when the run is cancelled). */
  readonly runContext: RunContext;
}

/** A chunk check's answer. Returning nothing releases `text` unchanged. Throw `OutputCheckError` to block. */
export interface ChunkCheckResult {
  /** Replacement for `text` (for example with PII masked). */
  text?: string;
  /** How many characters at the end of the (replacement) text to hold back until more text arrives. Ignored when `final`. */
  hold?: number;
}

/** The brand a guardrail carries, in any loaded copy of hookchain. */
const GUARDRAIL: unique symbol = Symbol.for('hookchain.guardrail') as never;

/**
 * True for an instance of `BaseGuardrail` of any loaded copy of hookchain (a plugin may pin its own copy), never
 * for the class itself.
 */
export function isGuardrail(value: unknown): value is BaseGuardrail {
  return value !== null && typeof value === 'object' && (value as { [GUARDRAIL]?: unknown })[GUARDRAIL] === true;
}

/**
 * The base of every guardrail: extend it and implement `check` (and optionally `checkChunk`). An instance goes in
 * `preHooks` (it checks the input) or `postHooks` (it checks the output); it always runs inline and fails closed,
 * and cannot be made a background hook. Block by throwing a verdict (`reject` picks the right one), mask by
 * mutating the content, pass by returning.
 *
 * @example
 * class NoCompetitors extends BaseGuardrail {
 *   check(args: HookArgs) {
 *     const text = args.phase === 'pre' ? String(args.runInput.inputContent) : (args.runOutput.content ?? '');
 *     if (/acme corp/i.test(text)) this.reject(args, 'Competitor mentioned', { checkTrigger: CheckTrigger.OFF_TOPIC });
 *   }
 * }
 * const agent = new Agent({ model, preHooks: [new NoCompetitors()], postHooks: [new NoCompetitors({ failOpen: true })] });
 */
export abstract class BaseGuardrail {
  /** Name in events, logs and `RunErrorInfo.hookName`: the `name` option, else the class name. */
  readonly name: string;
  /** Whether a crash or timeout of this guardrail lets the run go on (with `hook_failed`); default false. Verdicts always block. */
  readonly failOpen: boolean;
  /** Bound on one `check` call, in milliseconds; undefined: no bound. */
  readonly timeoutMs: number | undefined;
  /** How many already-released characters `checkChunk` wants to see in `released` (look-behind). */
  readonly chunkLookBehind: number = 0;
  /** Whether, as a pre-hook, it runs beside the adjacent parallel pre-hooks; default false. */
  readonly parallel: boolean;
  /** `'shadow'` reports verdicts without blocking; default `'enforce'`. */
  readonly mode: 'enforce' | 'shadow';
  /** The share of runs it checks (0–1); default 1. */
  readonly sampleRate: number;

  /**
   * Checks `name`, `failOpen` and `timeoutMs` (a subclass may keep options of its own in the same object).
   *
   * @param options `name` (default: the class name), `failOpen` (default false), `timeoutMs` (default: none),
   *   `parallel` (default false), `mode` (default `'enforce'`), `sampleRate` (default 1).
   */
  constructor(options: GuardrailOptions = {}) {
    // A subclass may keep options of its own in the same object, so only these three are checked here (the
    // built-ins check all of theirs, unknown names included). `timeoutMs` must be a timer Node honours: a longer
    // delay fires after 1 ms, which would time every check out at once.
    const own = isPlainObject(options)
      ? {
          name: options.name,
          failOpen: options.failOpen,
          timeoutMs: options.timeoutMs,
          parallel: options.parallel,
          mode: options.mode,
          sampleRate: options.sampleRate,
        }
      : options;
    const {
      name,
      failOpen = false,
      timeoutMs,
      parallel = false,
      mode = 'enforce',
      sampleRate = 1,
    } = checkOptions<GuardrailOptions>(new.target.name, own, GUARDRAIL_OPTION_RULES);
    this.name = name ?? new.target.name;
    this.failOpen = failOpen;
    this.timeoutMs = timeoutMs;
    this.parallel = parallel;
    this.mode = mode;
    this.sampleRate = sampleRate;
  }

  /**
   * Check the input (`args.phase === 'pre'`, read `args.runInput`) or the output (`'post'`, read `args.runOutput`).
   * Throw a verdict (see `reject`) to block, mutate to mask, return to pass.
   */
  abstract check(args: HookArgs): void | Promise<void>;

  /**
   * Optional: check streamed text before it reaches the consumer. See docs/streaming.md. May return a promise
   * (the release buffer awaits it): checks that call a service, such as moderation, batch text and answer later.
   */
  checkChunk?(args: ChunkCheckArgs): ChunkCheckResult | void | Promise<ChunkCheckResult | void>;

  /** Recognised by brand, so `instanceof BaseGuardrail` holds for another copy's guardrails too. */
  static [Symbol.hasInstance](value: unknown): boolean {
    return Function.prototype[Symbol.hasInstance].call(this, value) || (this === BaseGuardrail && isGuardrail(value));
  }

  /**
   * Throws the verdict that fits the phase: `InputCheckError` for input (`phase: 'pre'`), `OutputCheckError` for
   * output (`'post'`, and in `checkChunk`, where there is no `args`: pass `{ phase: 'post' }`).
   */
  protected reject(args: Pick<HookArgs, 'phase'>, message: string, options?: CheckErrorOptions): never {
    throw args.phase === 'pre' ? new InputCheckError(message, options) : new OutputCheckError(message, options);
  }
}
Object.defineProperty(BaseGuardrail.prototype, GUARDRAIL, { value: true, enumerable: false });
