/**
 * What `retry()` and `fallback()` share: which failures are worth another try, which never are, and how long a
 * server asked to be left alone (`Retry-After`). The `openai` package is an optional peer dependency, so its error
 * classes are recognised by name and shape, never imported.
 */
import { HookchainConfigError, LimitExceededError, isCheckError, isRunAbortedError } from '../errors.ts';
import { isReleased } from './middleware.ts';

/** The part of a `ModelCall` these helpers read, so that they serve a call of any `State` and `Deps`. */
export interface CallSignals {
  readonly runContext: { readonly signal: AbortSignal };
  readonly request: { readonly signal: AbortSignal };
}

/** Decides whether a failed model call is worth another try (`RetryOptions.retryOn`, `FallbackOptions.retryOn`). */
export type RetryPredicate = (error: unknown) => boolean;

/** HTTP statuses a provider may answer differently a moment later: timeout, conflict, rate limit, server errors. */
function retryableStatus(status: unknown): boolean {
  return typeof status === 'number' && (status === 408 || status === 409 || status === 429 || (status >= 500 && status <= 599));
}

/** Socket-level failure codes (Node and undici) that say the connection, not the request, went wrong. */
const NETWORK_CODES: ReadonlySet<string> = new Set(['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN']);

/** The `openai` client's connection failures; its classes set no `name`, so the constructor's is read too. */
const NETWORK_CLASSES: ReadonlySet<string> = new Set(['APIConnectionError', 'APIConnectionTimeoutError']);

const MAX_CAUSE_DEPTH = 5;

function fieldOf(value: unknown, key: string): unknown {
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
}

function classNames(error: object): string[] {
  const name = fieldOf(error, 'name');
  const ctor = (error as { constructor?: { name?: unknown } }).constructor?.name;
  return [typeof name === 'string' ? name : '', typeof ctor === 'string' ? ctor : ''];
}

function isNetworkError(error: unknown): boolean {
  // Walk the cause chain: undici wraps the socket error as `TypeError('fetch failed', { cause })`, and the openai
  // client wraps that again as an APIConnectionError.
  let current = error;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && current !== null && typeof current === 'object'; depth++) {
    if (classNames(current).some((n) => NETWORK_CLASSES.has(n))) return true;
    const code = fieldOf(current, 'code');
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || code.startsWith('UND_ERR_'))) return true;
    if (current instanceof TypeError && current.message === 'fetch failed') return true;
    current = fieldOf(current, 'cause');
  }
  return false;
}

/**
 * The default `retryOn` of `retry()` and `fallback()`: HTTP 408, 409, 429 and 5xx (an error's `status`, or
 * `statusCode`), and network failures (the `openai` client's `APIConnectionError` and
 * `APIConnectionTimeoutError`, socket codes such as `ECONNRESET`, `ECONNREFUSED`, `ETIMEDOUT`, `EPIPE`,
 * `EAI_AGAIN` and undici's `UND_ERR_*`, and fetch's `TypeError('fetch failed')`, also when one of these is the
 * error's `cause`).
 */
export function isRetryableError(error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false;
  if (retryableStatus(fieldOf(error, 'status')) || retryableStatus(fieldOf(error, 'statusCode'))) return true;
  return isNetworkError(error);
}

/** An abort of any origin: the run's (`RunAbortedError`), the platform's (`AbortError`), or the openai client's. */
function isAbortError(error: unknown): boolean {
  if (isRunAbortedError(error)) return true;
  if (error === null || typeof error !== 'object') return false;
  return classNames(error).some((n) => n === 'AbortError' || n === 'APIUserAbortError');
}

/**
 * True when a failure must be passed on whatever `retryOn` says: the run was cancelled (or the error is an abort),
 * a guardrail gave a verdict, the API was misused, a budget of `limits()` was reached, or a streamed call already
 * released some of its text (`isReleased`).
 */
export function neverRetry(error: unknown, call: CallSignals): boolean {
  return (
    isAborted(call) ||
    isAbortError(error) ||
    isCheckError(error) ||
    error instanceof HookchainConfigError ||
    error instanceof LimitExceededError ||
    isReleased(error)
  );
}

/** The run was cancelled, or the request this call sends can no longer be sent. */
export function isAborted(call: CallSignals): boolean {
  return call.runContext.signal.aborted || call.request.signal.aborted;
}

/** The signals that end a wait of this call early: the run's, and the request's when it is another one. */
export function signalsOf(call: CallSignals): AbortSignal[] {
  const run = call.runContext.signal;
  const request = call.request.signal;
  return request === run ? [run] : [run, request];
}

function header(headers: unknown, name: string): string | undefined {
  if (headers === null || typeof headers !== 'object') return undefined;
  // openai 7.x hands over a fetch `Headers`; older clients and other SDKs a plain record.
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  for (const [key, value] of Object.entries(headers as Record<string, unknown>)) {
    if (key.toLowerCase() !== name) continue;
    if (typeof value === 'string') return value;
    if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  }
  return undefined;
}

/**
 * How long the server asked to wait, in ms, from the error's `headers`: `retry-after-ms`, else `Retry-After` as
 * seconds or as an HTTP date. Undefined when there is no usable header.
 */
export function retryAfterMs(error: unknown, now: number = Date.now()): number | undefined {
  const headers = fieldOf(error, 'headers');
  const ms = header(headers, 'retry-after-ms');
  if (ms !== undefined && ms.trim() !== '') {
    const value = Number(ms);
    if (Number.isFinite(value) && value >= 0) return Math.ceil(value);
  }
  const after = header(headers, 'retry-after')?.trim();
  if (after === undefined || after === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(after)) return Math.ceil(Number(after) * 1000);
  const date = Date.parse(after);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
