/**
 * The guardrail contract. A guardrail is recognised by class when the agent is built (never by inspecting
 * functions at run time) and runs inline, fail-closed, in `preHooks` (checks input) or `postHooks` (checks output).
 */
import { InputCheckError, OutputCheckError, type CheckErrorOptions } from '../errors.ts';
import { checkOptions, is, isPlainObject, type Rules } from '../options.ts';
import type { HookArgs, RunContext } from '../types.ts';

export interface GuardrailOptions {
  /** Name in events and errors; defaults to the class name. */
  name?: string;
  /** Let the run go on (with a `hook_failed` event) when this guardrail crashes or times out. Verdicts still block. */
  failOpen?: boolean;
  /** Bound on one `check` call; a timeout is a failure like any other (fail closed unless `failOpen`). */
  timeoutMs?: number;
}

/** The rules for the options every guardrail takes; a built-in adds the rules for its own options. */
export const GUARDRAIL_OPTION_RULES: Rules = Object.freeze({ name: is.nonEmptyString, failOpen: is.boolean, timeoutMs: is.timeoutMs });

/** What a chunk check sees while a run streams. */
export interface ChunkCheckArgs {
  /** Text not yet released: what this check held back last time, followed by the new text. */
  readonly text: string;
  /** Up to `chunkLookBehind` characters already released just before `text`. Read-only: it has left. */
  readonly released: string;
  /** True on the last call of the stream: nothing may be held back any more. */
  readonly final: boolean;
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

export abstract class BaseGuardrail {
  readonly name: string;
  readonly failOpen: boolean;
  readonly timeoutMs: number | undefined;
  /** How many already-released characters `checkChunk` wants to see in `released` (look-behind). */
  readonly chunkLookBehind: number = 0;

  constructor(options: GuardrailOptions = {}) {
    // A subclass may keep options of its own in the same object, so only these three are checked here (the
    // built-ins check all of theirs, unknown names included). `timeoutMs` must be a timer Node honours: a longer
    // delay fires after 1 ms, which would time every check out at once.
    const own = isPlainObject(options) ? { name: options.name, failOpen: options.failOpen, timeoutMs: options.timeoutMs } : options;
    const { name, failOpen = false, timeoutMs } = checkOptions<GuardrailOptions>(new.target.name, own, GUARDRAIL_OPTION_RULES);
    this.name = name ?? new.target.name;
    this.failOpen = failOpen;
    this.timeoutMs = timeoutMs;
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

  /** Throws the verdict that fits the phase: `InputCheckError` for input, `OutputCheckError` for output. */
  /** Recognised by brand, so `instanceof BaseGuardrail` holds for another copy's guardrails too. */
  static [Symbol.hasInstance](value: unknown): boolean {
    return Function.prototype[Symbol.hasInstance].call(this, value) || (this === BaseGuardrail && isGuardrail(value));
  }

  protected reject(args: Pick<HookArgs, 'phase'>, message: string, options?: CheckErrorOptions): never {
    throw args.phase === 'pre' ? new InputCheckError(message, options) : new OutputCheckError(message, options);
  }
}
Object.defineProperty(BaseGuardrail.prototype, GUARDRAIL, { value: true, enumerable: false });
