/**
 * Guardrail verdicts and the framework's own errors.
 *
 * The verdict classes mirror Agno's `InputCheckError` / `OutputCheckError` (same trigger values, same `type`
 * strings) so that payloads stay comparable; unlike Agno, `agent.run()` rejects with them.
 */
import type { RunOutput } from './types.ts';

export const CheckTrigger = Object.freeze({
  OFF_TOPIC: 'off_topic',
  INPUT_NOT_ALLOWED: 'input_not_allowed',
  OUTPUT_NOT_ALLOWED: 'output_not_allowed',
  VALIDATION_FAILED: 'validation_failed',
  PROMPT_INJECTION: 'prompt_injection',
  PII_DETECTED: 'pii_detected',
} as const);
export type CheckTrigger = (typeof CheckTrigger)[keyof typeof CheckTrigger];

export interface CheckErrorOptions {
  checkTrigger?: CheckTrigger;
  /** JSON-safe details: what was found and where, never the sensitive value itself. */
  additionalData?: Record<string, unknown>;
  cause?: unknown;
}

abstract class CheckError extends Error {
  abstract readonly type: 'input_check_error' | 'output_check_error';
  readonly checkTrigger: CheckTrigger;
  readonly additionalData: Record<string, unknown> | undefined;
  /** The failed run's output (status `'error'`, no blocked content); set when the run has failed. */
  runOutput: RunOutput | undefined = undefined;

  constructor(message: string, trigger: CheckTrigger, options: CheckErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.checkTrigger = options.checkTrigger ?? trigger;
    this.additionalData = options.additionalData;
  }

  /** Agno's `error_id`: the trigger value. */
  get errorId(): CheckTrigger {
    return this.checkTrigger;
  }
}

export class InputCheckError extends CheckError {
  readonly type = 'input_check_error' as const;
  constructor(message: string, options?: CheckErrorOptions) {
    super(message, CheckTrigger.INPUT_NOT_ALLOWED, options);
    this.name = 'InputCheckError';
  }
}

export class OutputCheckError extends CheckError {
  readonly type = 'output_check_error' as const;
  constructor(message: string, options?: CheckErrorOptions) {
    super(message, CheckTrigger.OUTPUT_NOT_ALLOWED, options);
    this.name = 'OutputCheckError';
  }
}

export function isCheckError(err: unknown): err is InputCheckError | OutputCheckError {
  return err instanceof InputCheckError || err instanceof OutputCheckError;
}

/** Bad use of the API: a wrong option, a hook that is not a hook, empty input. Thrown at once, never retried. */
export class HookchainConfigError extends TypeError {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'HookchainConfigError';
    this.code = code;
  }
}

/** A hook ran longer than its `timeoutMs`. */
export class HookTimeoutError extends Error {
  readonly hookName: string;
  readonly timeoutMs: number;
  constructor(hookName: string, timeoutMs: number) {
    super(`hook "${hookName}" did not finish within ${timeoutMs} ms (hook({ timeoutMs })); it was treated as failed`);
    this.name = 'HookTimeoutError';
    this.hookName = hookName;
    this.timeoutMs = timeoutMs;
  }
}

/** The run was cancelled through its `signal` (or by a stream consumer that stopped reading). */
export class RunAbortedError extends Error {
  override readonly name = 'AbortError';
  runOutput: RunOutput | undefined = undefined;
  constructor(reason?: unknown) {
    super(reason instanceof Error ? `run aborted: ${reason.message}` : 'run aborted', reason === undefined ? undefined : { cause: reason });
  }
}

/** The JSON-safe `{ name, message }` that events and run records carry for any thrown value. */
export function errorSummary(error: unknown): { name: string; message: string } {
  if (error instanceof Error) return { name: error.name, message: error.message };
  try {
    return { name: typeof error, message: String(error) };
  } catch {
    return { name: typeof error, message: '(unprintable value)' };
  }
}
