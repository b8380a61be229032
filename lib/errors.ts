/**
 * Guardrail verdicts and the framework's own errors, all under one base, `HookchainError`, with a `code`.
 *
 * The verdict classes mirror Agno's `InputCheckError` / `OutputCheckError` (same trigger values, same `type`
 * strings) so that payloads stay comparable; unlike Agno, `agent.run()` rejects with them.
 *
 * Errors are recognised by a brand (`Symbol.for('hookchain.error')`), not by class identity: a plugin that pins
 * another copy of hookchain throws verdicts that this copy must still treat as verdicts. `instanceof` works across
 * copies too, through `Symbol.hasInstance`.
 */
import type { RunOutput } from './types.ts';

/**
 * Why a guardrail blocked a run: the values of `checkTrigger` on `InputCheckError` and `OutputCheckError` (Agno's
 * keys and values). Frozen.
 *
 * @example
 * throw new InputCheckError('Off topic', { checkTrigger: CheckTrigger.OFF_TOPIC });
 */
export const CheckTrigger = Object.freeze({
  /** The request is outside what the agent is for. */
  OFF_TOPIC: 'off_topic',
  /** The input is refused (the default trigger of `InputCheckError`). */
  INPUT_NOT_ALLOWED: 'input_not_allowed',
  /** The answer is refused (the default trigger of `OutputCheckError`). */
  OUTPUT_NOT_ALLOWED: 'output_not_allowed',
  /** The input or output failed a validation rule (length, format…). */
  VALIDATION_FAILED: 'validation_failed',
  /** A prompt-injection or jailbreak attempt (`PromptInjectionGuardrail`). */
  PROMPT_INJECTION: 'prompt_injection',
  /** Personal data was found (`PIIDetectionGuardrail` without `maskPii`). */
  PII_DETECTED: 'pii_detected',
} as const);
/** One of the `CheckTrigger` values, such as `'pii_detected'`. */
export type CheckTrigger = (typeof CheckTrigger)[keyof typeof CheckTrigger];
const TRIGGERS: ReadonlySet<string> = new Set(Object.values(CheckTrigger));

/** The brand every hookchain error carries: the list of class names it is an instance of, in any copy of the package. */
const BRAND: unique symbol = Symbol.for('hookchain.error') as never;

function brandsOf(value: unknown): readonly string[] | undefined {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return undefined;
  const brands = (value as { [BRAND]?: unknown })[BRAND];
  return Array.isArray(brands) ? brands : undefined;
}

/**
 * The base of every error hookchain throws. `code` is stable and machine-readable; `message` names the culprit
 * and the fix.
 *
 * @example
 * try { await agent.run(input) } catch (err) {
 *   if (isHookchainError(err)) log(err.code)
 * }
 */
export class HookchainError extends Error {
  /** A stable, machine-readable code, such as `'INVALID_OPTION'` or `'INPUT_CHECK_ERROR'`. */
  readonly code: string;

  /**
   * Used by hookchain and by plugins that extend it; applications usually throw the verdicts instead.
   *
   * @param code A stable code such as `'INVALID_OPTION'` (subclasses pass their own).
   * @param message What went wrong, naming the culprit and the fix.
   * @param options `cause`: the underlying error, kept as `error.cause`.
   */
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
  }

  /** `err instanceof InputCheckError` holds for an error of another loaded copy of hookchain, too. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    const brands = brandsOf(value);
    return brands !== undefined && brands.includes(this.name);
  }
}
brand(HookchainError);

/**
 * Marks a class's prototype with its name and its ancestors' names, so that `isHookchainError`, `isCheckError` and
 * `instanceof` recognise its instances in any copy of the package. Call it once after each class declaration.
 */
export function brand(cls: abstract new (...args: never[]) => object): void {
  const parent = brandsOf(Object.getPrototypeOf(cls.prototype)) ?? [];
  Object.defineProperty(cls.prototype, BRAND, { value: Object.freeze([...parent, cls.name]), enumerable: false });
}

/**
 * True for any error thrown by hookchain (any copy of it): verdicts, config errors, timeouts, aborts, store and
 * queue errors. Narrows to `HookchainError`, so `code` is typed.
 *
 * @example
 * try {
 *   await agent.run(input, { sessionId });
 * } catch (err) {
 *   if (isHookchainError(err) && err.code === 'SESSION_CONFLICT') return retryLater();
 *   throw err;
 * }
 */
export function isHookchainError(value: unknown): value is HookchainError {
  return brandsOf(value)?.includes('HookchainError') === true;
}

/** The options of `new InputCheckError(message, options)` and `new OutputCheckError(message, options)`. */
export interface CheckErrorOptions {
  /** One of the `CheckTrigger` values. */
  checkTrigger?: CheckTrigger;
  /** JSON-safe details: what was found and where, never the sensitive value itself. */
  additionalData?: Record<string, unknown>;
  /** The underlying error, kept as `error.cause`. */
  cause?: unknown;
}

/** The options of `new OutputCheckError(message, options)`: a verdict's, plus `retry`. */
export interface OutputCheckErrorOptions extends CheckErrorOptions {
  /**
   * Ask the model for another answer instead of failing at once: with `maxOutputRetries > 0` on the agent, the model
   * is called again with this error's message as feedback and the rejected answer removed (it appears nowhere).
   * When the retries are used up, the run fails with the last verdict. Default false.
   */
  retry?: boolean;
}

const CHECK_OPTIONS = new Set(['checkTrigger', 'additionalData', 'cause']);
const OUTPUT_CHECK_OPTIONS = new Set([...CHECK_OPTIONS, 'retry']);

abstract class CheckError extends HookchainError {
  /** Agno's `type` string: `'input_check_error'` or `'output_check_error'`. */
  abstract readonly type: 'input_check_error' | 'output_check_error';
  /** Why the run was blocked: the `checkTrigger` option, else the class's default. */
  readonly checkTrigger: CheckTrigger;
  /** The `additionalData` option: JSON-safe details; undefined when none were given. */
  readonly additionalData: Record<string, unknown> | undefined;
  /** The failed run's output (status `'error'`, no blocked content); set when the run has failed. */
  runOutput: RunOutput | undefined = undefined;

  constructor(code: string, message: string, trigger: CheckTrigger, options: CheckErrorOptions | undefined, owner: string) {
    checkVerdictOptions(owner, message, options, owner === 'OutputCheckError' ? OUTPUT_CHECK_OPTIONS : CHECK_OPTIONS);
    super(code, message, options);
    this.checkTrigger = options?.checkTrigger ?? trigger;
    this.additionalData = options?.additionalData;
  }

  /** Agno's `error_id`: the trigger value. */
  get errorId(): CheckTrigger {
    return this.checkTrigger;
  }
}
brand(CheckError);

function checkVerdictOptions(owner: string, message: unknown, options: CheckErrorOptions | undefined, known: ReadonlySet<string>): void {
  if (typeof message !== 'string') {
    throw new HookchainConfigError('INVALID_OPTION', `new ${owner}(message): message must be a string, got ${typeof message}`);
  }
  if (options === undefined) return;
  if (options === null || typeof options !== 'object') {
    throw new HookchainConfigError('INVALID_OPTION', `new ${owner}(message, options): options must be an object like { checkTrigger }`);
  }
  for (const key of Object.keys(options)) {
    if (!known.has(key)) {
      const hint = key === 'retry' ? ' (only an OutputCheckError can ask for another answer)' : '';
      throw new HookchainConfigError(
        'UNKNOWN_OPTION',
        `new ${owner}(): unknown option "${key}"${hint}; known options are ${[...known].join(', ')}`,
      );
    }
  }
  const trigger = options.checkTrigger;
  if (trigger !== undefined && !TRIGGERS.has(trigger)) {
    throw new HookchainConfigError(
      'INVALID_OPTION',
      `new ${owner}(): checkTrigger must be one of ${[...TRIGGERS].map((t) => `'${t}'`).join(', ')} (CheckTrigger.*), got ${JSON.stringify(trigger)}`,
    );
  }
  const retry = (options as OutputCheckErrorOptions).retry;
  if (retry !== undefined && typeof retry !== 'boolean') {
    throw new HookchainConfigError('INVALID_OPTION', `new ${owner}(): retry must be true or false, got ${typeof retry}`);
  }
  const data = options.additionalData;
  if (data !== undefined && (data === null || typeof data !== 'object' || Array.isArray(data))) {
    throw new HookchainConfigError('INVALID_OPTION', `new ${owner}(): additionalData must be a plain object of JSON-safe details`);
  }
}

/**
 * A verdict on the input: the run stops before the model and `run()` rejects with this error.
 *
 * @example
 * const maxLength = ({ runInput }: PreHookArgs) => {
 *   if (String(runInput.inputContent).length > 1000) throw new InputCheckError('Input too long');
 * };
 */
export class InputCheckError extends CheckError {
  /** Agno's `type` string; also `RunErrorInfo.type` in `run_error`. */
  readonly type = 'input_check_error' as const;
  /**
   * A verdict on the input. Throw it from a pre-hook (or a guardrail's `check`) to stop the run before the model.
   *
   * @param message Why the input was refused; shown to the caller and in `run_error` (do not quote sensitive input).
   * @param options `checkTrigger` (default `CheckTrigger.INPUT_NOT_ALLOWED`), `additionalData`, `cause`.
   */
  constructor(message: string, options?: CheckErrorOptions) {
    super('INPUT_CHECK_ERROR', message, CheckTrigger.INPUT_NOT_ALLOWED, options, 'InputCheckError');
  }
}
brand(InputCheckError);

/**
 * A verdict on the output: nothing of the blocked answer reaches the caller, the store, an event or a log.
 *
 * @example
 * const noRefunds = ({ runOutput }: PostHookArgs) => {
 *   if (runOutput.content?.includes('refund')) throw new OutputCheckError('No refund promises');
 * };
 */
export class OutputCheckError extends CheckError {
  /** Agno's `type` string; also `RunErrorInfo.type` in `run_error`. */
  readonly type = 'output_check_error' as const;
  /** Whether the verdict asks for another answer (`{ retry: true }`); see `AgentOptions.maxOutputRetries`. */
  readonly retry: boolean;
  /**
   * A verdict on the output. Throw it from a post-hook, a guardrail's `check` or a chunk check.
   *
   * @param message Why the answer was refused; shown to the caller and in `run_error` (never quote the blocked text).
   *   With `retry: true` it is also the feedback the model gets.
   * @param options `checkTrigger` (default `CheckTrigger.OUTPUT_NOT_ALLOWED`), `additionalData`, `cause`, `retry`.
   *
   * @example
   * throw new OutputCheckError('Answer in English only', { retry: true }); // with new Agent({ maxOutputRetries: 2 })
   */
  constructor(message: string, options?: OutputCheckErrorOptions) {
    super('OUTPUT_CHECK_ERROR', message, CheckTrigger.OUTPUT_NOT_ALLOWED, options, 'OutputCheckError');
    this.retry = options?.retry === true;
  }
}
brand(OutputCheckError);

/** True for a guardrail verdict (`InputCheckError` or `OutputCheckError`) of any copy of hookchain. */
export function isCheckError(err: unknown): err is InputCheckError | OutputCheckError {
  return brandsOf(err)?.includes('CheckError') === true;
}

/** True for an `OutputCheckError` of any copy of hookchain. */
export function isOutputCheckError(err: unknown): err is OutputCheckError {
  return brandsOf(err)?.includes('OutputCheckError') === true;
}

/** True for an `InputCheckError` of any copy of hookchain. */
export function isInputCheckError(err: unknown): err is InputCheckError {
  return brandsOf(err)?.includes('InputCheckError') === true;
}

/** Bad use of the API: a wrong option, a hook that is not a hook, empty input. Thrown at once, never retried. */
export class HookchainConfigError extends HookchainError {}
brand(HookchainConfigError);

/** A hook ran longer than its `timeoutMs`. */
export class HookTimeoutError extends HookchainError {
  /** The hook that timed out (its name in events). */
  readonly hookName: string;
  /** The bound it exceeded, in milliseconds (`hook({ timeoutMs })` or the guardrail's `timeoutMs`). */
  readonly timeoutMs: number;
  /**
   * Thrown by the chain when a hook outruns its bound, never by user code.
   *
   * @param hookName The hook's name.
   * @param timeoutMs The bound it exceeded, in milliseconds.
   */
  constructor(hookName: string, timeoutMs: number) {
    super('HOOK_TIMEOUT', `hook "${hookName}" did not finish within ${timeoutMs} ms (hook({ timeoutMs })); it was treated as failed`);
    this.hookName = hookName;
    this.timeoutMs = timeoutMs;
  }
}
brand(HookTimeoutError);

/** The run was cancelled through its `signal` (or by a stream consumer that stopped reading). Its `name` is `'AbortError'`. */
export class RunAbortedError extends HookchainError {
  /** The cancelled run's output (status `'cancelled'`); set when the run has ended, undefined before. */
  runOutput: RunOutput | undefined = undefined;
  /**
   * Thrown by the run when its signal aborts.
   *
   * @param reason The abort reason (`signal.reason`), kept as `error.cause`; an `Error`'s message is quoted in this one's. */
  constructor(reason?: unknown) {
    super('RUN_ABORTED', reason instanceof Error ? `run aborted: ${reason.message}` : 'run aborted', { cause: reason });
    this.name = 'AbortError';
  }
}
brand(RunAbortedError);

/** True for a `RunAbortedError` of any copy of hookchain. */
export function isRunAbortedError(err: unknown): err is RunAbortedError {
  return brandsOf(err)?.includes('RunAbortedError') === true;
}

/** The run's model loop made `maxSteps` model calls and the model still asked for tools (`RunErrorInfo.type: 'max_steps_error'`). */
export class MaxStepsExceededError extends HookchainError {
  /** The agent's `maxSteps`. */
  readonly maxSteps: number;
  /** The failed run's output (status `'error'`); set when the run has failed. */
  runOutput: RunOutput | undefined = undefined;
  /**
   * Thrown by the run's loop, never by user code.
   *
   * @param maxSteps The bound that was reached.
   */
  constructor(maxSteps: number) {
    super(
      'MAX_STEPS_EXCEEDED',
      `the model still called tools after ${maxSteps} model calls (maxSteps: ${maxSteps}); raise the agent's maxSteps or tell the model when to stop`,
    );
    this.maxSteps = maxSteps;
  }
}
brand(MaxStepsExceededError);

/** Which budget of `limits()` a `LimitExceededError` reports. */
export type LimitName = 'maxModelCalls' | 'maxTokensPerRun' | 'maxToolCalls';

/**
 * A budget of `limits()` would be exceeded: the call that would exceed it was not made (`RunErrorInfo.type:
 * 'limit_error'`).
 */
export class LimitExceededError extends HookchainError {
  /** The budget: `'maxModelCalls'`, `'maxTokensPerRun'` or `'maxToolCalls'`. */
  readonly limit: LimitName;
  /** Its bound. */
  readonly max: number;
  /** The failed run's output (status `'error'`); set when the run has failed. */
  runOutput: RunOutput | undefined = undefined;
  /**
   * Thrown by `limits()`; a custom budget middleware may throw it too.
   *
   * @param limit The budget that would be exceeded.
   * @param max Its bound.
   * @param detail What the run had used, for the message.
   */
  constructor(limit: LimitName, max: number, detail: string) {
    super('LIMIT_EXCEEDED', `run stopped by limits({ ${limit}: ${max} }): ${detail}; raise the limit or make the run do less`);
    this.limit = limit;
    this.max = max;
  }
}
brand(LimitExceededError);

/** Why a tool call failed: the arguments, the tool itself, its time limit, or a human's denial. */
export type ToolFailureReason = 'invalid_arguments' | 'error' | 'timeout' | 'denied';

/**
 * A tool call failed and the agent has `toolErrors: 'fail'` (`RunErrorInfo.type: 'tool_error'`). With the default
 * `toolErrors: 'model'`, the failure goes back to the model as `{ "error": message }` instead.
 */
export class ToolCallError extends HookchainError {
  /** The tool's name. */
  readonly toolName: string;
  /** The call's id, as in `RunOutput.toolCalls`. */
  readonly callId: string;
  /** What failed: `'invalid_arguments'`, `'error'` (execute threw) or `'timeout'`. */
  readonly reason: ToolFailureReason;
  /** The failed run's output (status `'error'`); set when the run has failed. */
  runOutput: RunOutput | undefined = undefined;
  /**
   * Thrown by the run's loop, never by user code.
   *
   * @param toolName The tool.
   * @param callId The call.
   * @param reason What failed.
   * @param message What the model would have read.
   * @param cause What `execute` threw, if it threw.
   */
  constructor(toolName: string, callId: string, reason: ToolFailureReason, message: string, cause?: unknown) {
    super('TOOL_FAILED', `tool "${toolName}" (call ${callId}) failed (${reason}): ${message}`, { cause });
    this.toolName = toolName;
    this.callId = callId;
    this.reason = reason;
  }
}
brand(ToolCallError);

/** A tool's `execute` ran longer than its `timeoutMs`. The model reads it as `{ "error": message }` by default. */
export class ToolTimeoutError extends HookchainError {
  /**
   * Thrown by the run's loop when a tool outruns its bound.
   *
   * @param toolName The tool.
   * @param timeoutMs Its `timeoutMs`.
   */
  constructor(toolName: string, timeoutMs: number) {
    super('TOOL_TIMEOUT', `tool "${toolName}" did not finish within ${timeoutMs} ms`);
  }
}
brand(ToolTimeoutError);

/**
 * `continueRun()` / `continueStream()` found nothing to resume: the run is not paused (it completed, failed, or was
 * already resumed, perhaps by another process), or it is not in the session. A run resumes at most once.
 */
export class RunNotPausedError extends HookchainError {
  /** The run asked for. */
  readonly runId: string;
  /**
   * Thrown by `continueRun()` and `continueStream()`.
   *
   * @param runId The run.
   * @param message What was found instead, and what to do.
   */
  constructor(runId: string, message: string) {
    super('RUN_NOT_PAUSED', message);
    this.runId = runId;
  }
}
brand(RunNotPausedError);

/** The JSON-safe `{ name, message }` that events and run records carry for any thrown value. */
export function errorSummary(error: unknown): { name: string; message: string } {
  if (error instanceof Error) return { name: error.name, message: error.message };
  try {
    return { name: typeof error, message: String(error) };
  } catch {
    return { name: typeof error, message: '(unprintable value)' };
  }
}
