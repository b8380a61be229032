/**
 * The server's one error shape and its statuses (DESIGN §10): `{ error: { type, message, checkTrigger?, runId? } }`,
 * or OpenAI's `{ error: { message, type, code, param } }` on `/v1/*`. A run's failure is mapped here from its
 * `RunErrorInfo.type`; a crash answers a generic message and the runId, never its own message or a stack.
 */
import { isHookchainError } from '../../errors.ts';
import type { CheckTrigger, RunErrorInfo, RunOutput } from '../../types.ts';

/** An error with the status and body the client gets. Thrown by the routes, answered by `respondError`. */
export class HttpError extends Error {
  readonly status: number;
  readonly type: string;
  readonly checkTrigger: CheckTrigger | undefined;
  readonly runId: string | undefined;
  /** The request field at fault (OpenAI's `param`). */
  readonly param: string | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(
    status: number,
    type: string,
    message: string,
    extra: { checkTrigger?: CheckTrigger; runId?: string; param?: string; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.status = status;
    this.type = type;
    this.checkTrigger = extra.checkTrigger;
    this.runId = extra.runId;
    this.param = extra.param;
    this.headers = extra.headers;
  }
}

/** A 404 for an unknown agent, run or session (another user's session looks the same). */
export function notFound(what: string, id: string, hint = ''): HttpError {
  return new HttpError(404, 'not_found', `unknown ${what} "${id.slice(0, 200)}"${hint}`);
}

/** A 400 for a request field: the message names it. */
export function badField(field: string, expected: string): HttpError {
  return new HttpError(400, 'invalid_request_error', `field "${field}" must be ${expected}`, { param: field });
}

const GENERIC = 'the run failed on the server; quote the runId when reporting it';

/** Statuses of the run failures, by `RunErrorInfo.type`. */
const RUN_STATUS: Record<RunErrorInfo['type'], number> = {
  input_check_error: 400,
  output_check_error: 422,
  max_steps_error: 422,
  limit_error: 422,
  model_error: 502,
  abort_error: 503,
  hook_error: 500,
  middleware_error: 500,
  tool_error: 500,
};

/** Client-facing statuses of the framework's own refusals, by `HookchainError.code`. */
const CODE_STATUS: Record<string, [number, string]> = {
  INVALID_INPUT: [400, 'invalid_request_error'],
  INVALID_OPTION: [400, 'invalid_request_error'],
  UNKNOWN_CALL: [400, 'invalid_request_error'],
  MISSING_APPROVAL: [400, 'invalid_request_error'],
  RUN_NOT_PAUSED: [409, 'run_not_paused'],
  SESSION_CONFLICT: [409, 'session_conflict'],
  RESUME_AGENT_MISMATCH: [409, 'resume_agent_mismatch'],
  SESSION_AGENT_MISMATCH: [404, 'not_found'],
};

/** What a run's error (thrown by run(), continueRun() or a stream) answers. */
export function runFailure(error: unknown): HttpError {
  const output = (error as { runOutput?: RunOutput } | null)?.runOutput;
  const info = output?.error;
  const runId = output?.runId;
  if (info !== undefined) {
    const status = RUN_STATUS[info.type] ?? 500;
    if (isVerdict(info)) return new HttpError(status, info.type, info.message, { checkTrigger: info.checkTrigger, runId });
    if (info.type === 'max_steps_error' || info.type === 'limit_error') return new HttpError(status, info.type, info.message, { runId });
    if (info.type === 'abort_error') return new HttpError(503, 'cancelled', 'the run was cancelled', { runId });
    if (info.type === 'model_error') return new HttpError(502, 'model_error', `the model failed; runId ${runId}`, { runId });
    return new HttpError(500, 'server_error', `${GENERIC} (runId ${runId})`, { runId });
  }
  if (isHookchainError(error)) {
    const known = CODE_STATUS[error.code];
    if (known !== undefined) {
      const message = error.code === 'SESSION_AGENT_MISMATCH' ? 'unknown session' : error.message;
      return new HttpError(known[0], known[1], message);
    }
  }
  return new HttpError(500, 'server_error', 'internal server error');
}

/** A guardrail's verdict: the one failure whose message is meant for the caller. */
export function isVerdict(info: RunErrorInfo): info is RunErrorInfo & { type: 'input_check_error' | 'output_check_error' } {
  return info.type === 'input_check_error' || info.type === 'output_check_error';
}

/** A `RunErrorInfo` as a client may see it: a verdict as it is, anything else with a generic message. */
export function publicErrorInfo(info: RunErrorInfo, runId: string): RunErrorInfo {
  if (isVerdict(info)) return { type: info.type, name: info.name, message: info.message, checkTrigger: info.checkTrigger };
  if (info.type === 'max_steps_error' || info.type === 'limit_error') return { type: info.type, name: info.name, message: info.message };
  if (info.type === 'abort_error') return { type: info.type, name: 'AbortError', message: 'the run was cancelled' };
  return { type: info.type, name: 'Error', message: info.type === 'model_error' ? 'the model failed' : `${GENERIC} (runId ${runId})` };
}

/** A run's output as a client may see it: its `error`, if any, made public. */
export function publicOutput(output: RunOutput): RunOutput {
  return output.error === undefined ? output : { ...output, error: publicErrorInfo(output.error, output.runId) };
}

/** The native body: `{ error: { type, message, checkTrigger?, runId? } }`. */
export function nativeBody(e: HttpError): { error: Record<string, string> } {
  const error: Record<string, string> = { type: e.type, message: e.message };
  if (e.checkTrigger !== undefined) error['checkTrigger'] = e.checkTrigger;
  if (e.runId !== undefined) error['runId'] = e.runId;
  return { error };
}

/** OpenAI's body: `{ error: { message, type, code, param } }` (`code` is the check trigger or the error's type). */
export function openAIBody(e: HttpError): { error: { message: string; type: string; code: string | null; param: string | null } } {
  return { error: { message: e.message, type: e.type, code: e.checkTrigger ?? e.type, param: e.param ?? null } };
}
