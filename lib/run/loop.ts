/**
 * The innermost layer, the agent loop (DESIGN §9): call the model (through the model middleware) with the tools'
 * definitions; when it asks for tools, run them (run/tools.ts), append the results and call it again; stop on an
 * answer without tool calls. The pre-hooks ran once before; the post-hooks run once after, on the final answer.
 *
 * In a streaming run each call's text goes through the stream (the chunk checks) as it arrives, and each call
 * ends with the checks' final flush, so a check never holds text across a tool call.
 */
import type { Context } from '../context.ts';
import { CheckTrigger, MaxStepsExceededError, OutputCheckError } from '../errors.ts';
import { markReleased, type ModelCall } from '../models/middleware.ts';
import { buildMessages } from '../models/messages.ts';
import type { ModelRequest, ModelResponse, ModelToolCall, ModelUsage } from '../models/model.ts';
import { assertStorable } from '../sessions/storable.ts';
import type { StreamState } from '../streaming/stream-state.ts';
import type { PendingApproval } from '../types.ts';
import { runStateOf, type RunState } from './state.ts';
import { resumeToolCalls, runToolCalls } from './tools.ts';

/** The chain's last layer. Nothing comes after it, so it takes no `next`. */
export function model_terminal(ctx: Context): Promise<void> {
  const run = runStateOf(ctx);
  // The state will be saved after the run: refuse what no store can keep now, before the model is paid for.
  if (run.persist) assertStorable(ctx.sessionState, 'sessionState', ctx.session.sessionId);
  const resume = run.resume;
  if (resume !== undefined) {
    run.resume = undefined;
    return resumeToolCalls(run, resume.callIds, resume.decisions).then(() => loop(run));
  }
  const messages = buildMessages(run.engine.instructions, run.history, ctx.input);
  ctx.output.messages = messages;
  run.request = messages;
  return loop(run);
}

async function loop(run: RunState): Promise<void> {
  const maxSteps = run.engine.maxSteps;
  const metrics = run.ctx.output.metrics;
  for (;;) {
    if (metrics.steps >= maxSteps) throw new MaxStepsExceededError(maxSteps);
    const response = await step(run);
    const calls = response.toolCalls;
    if (calls === undefined || calls.length === 0) {
      if (answered(run, run.stepText(response.content))) return;
      continue;
    }
    // Tools whose results no model call may read are not run.
    if (metrics.steps >= maxSteps) throw new MaxStepsExceededError(maxSteps);
    run.record({ role: 'assistant', content: run.stepText(response.content), toolCalls: calls.map(copyCall) });
    let pending = runToolCalls(run, calls);
    if (pending instanceof Promise) pending = await pending;
    if (pending.length > 0) return pause(run, pending);
  }
}

/** The loop again after a post-hook asked for another answer (`retryOutput`); undefined when it may not. */
export function retryOutput(run: RunState, verdict: unknown): Promise<void> | undefined {
  return prepareRetry(run, verdict as OutputCheckError) ? loop(run) : undefined;
}

/** One model call through the model middleware. Usage and duration are added once it has answered. */
function step(run: RunState): Promise<ModelResponse> {
  const { engine, ctx } = run;
  const metrics = ctx.output.metrics;
  const number = ++metrics.steps;
  // A copy: a middleware may keep the request (a cache key, a log) while the loop appends to its own list.
  const request: ModelRequest = { messages: run.request.slice(), signal: run.modelSignal, runId: ctx.runId };
  if (engine.toolDefinitions !== undefined) request.tools = engine.toolDefinitions;
  if (run.outputSchema !== undefined) request.responseFormat = run.outputSchema.format;
  if (run.wants('model_request_started')) {
    run.emit('model_request_started', {
      runId: run.runId,
      model: engine.model.id,
      messageCount: request.messages.length,
      stream: run.stream !== undefined,
    });
  }
  run.startStep();
  if (run.span !== undefined) run.span.modelStarted(engine.model.id, number);
  const startedAt = performance.now();
  const call: ModelCall<object, object> = { runContext: ctx as never, request, model: engine.model, step: number, attempt: 1 };
  return engine.callModel(call).then(
    // Speculative: the answer waits here until every input check has passed (no output, tool call or event before).
    (response) =>
      run.gate === undefined ? afterModel(run, response, startedAt) : run.gate.then(() => afterModel(run, response, startedAt)),
    (error: unknown) => modelFailed(run, error),
  );
}

function afterModel(run: RunState, response: ModelResponse, startedAt: number): ModelResponse | Promise<ModelResponse> {
  const stream = run.stream;
  if (stream === undefined) {
    finishRequest(run, response.usage, startedAt);
    return response;
  }
  return endStreamedStep(run, stream, response, startedAt);
}

async function endStreamedStep(run: RunState, stream: StreamState, response: ModelResponse, startedAt: number): Promise<ModelResponse> {
  // A middleware answered without the model (a cache): its text still goes through the chunk checks.
  if (!run.streamed && response.content) {
    const waiting = stream.write(response.content);
    if (waiting !== undefined) await waiting;
  }
  if (run.signal.aborted) throw run.signal.reason;
  const ending = stream.endOfModel();
  if (ending !== undefined) await ending;
  finishRequest(run, response.usage, startedAt);
  return response;
}

/**
 * The innermost model call, composed once per agent under the model middleware. Re-entrant: a retry calls it again
 * for the same step. A streamed call writes its text into the stream as it arrives and resolves with the whole.
 */
export function callModel(call: ModelCall<object, object>): Promise<ModelResponse> {
  const run = runStateOf(call.runContext as never);
  run.answeredBy = call.model.id;
  // A model without `stream()` answers whole; afterModel then writes its text into the stream.
  if (run.stream === undefined || call.model.stream === undefined) return call.model.invoke(call.request);
  return streamModel(run, call);
}

async function streamModel(run: RunState, call: ModelCall<object, object>): Promise<ModelResponse> {
  const stream = run.stream!;
  let content = '';
  let usage: ModelUsage | undefined;
  let toolCalls: ModelToolCall[] | undefined;
  try {
    for await (const chunk of call.model.stream!(call.request)) {
      if (chunk.usage !== undefined) usage = chunk.usage;
      if (chunk.toolCalls !== undefined && chunk.toolCalls.length > 0) (toolCalls ??= []).push(...chunk.toolCalls);
      const delta = chunk.delta;
      if (!delta) continue;
      content += delta;
      // Speculative: no text leaves before every input check has passed.
      if (run.gate !== undefined) await run.gate;
      run.streamed = true;
      // Awaiting only when the write has to wait (async check, slow consumer) saves a microtask per chunk.
      const waiting = stream.write(delta);
      if (waiting !== undefined) await waiting;
    }
  } catch (error) {
    // Some of this call's text is already in the stream: another try would show a second answer after it.
    if (run.streamed) markReleased(error);
    throw error;
  }
  const response: ModelResponse = { content };
  if (usage !== undefined) response.usage = usage;
  if (toolCalls !== undefined) response.toolCalls = toolCalls;
  return response;
}

function modelFailed(run: RunState, error: unknown): never {
  // A verdict raised by a chunk check inside the stream is not the model's failure.
  if (run.verdict === undefined && run.failedHook === undefined) run.modelFailed = true;
  if (run.span !== undefined) run.span.modelFailed(error, run.modelFailed);
  if (run.ctx.debugMode) {
    run.engine.logger.debug(`hookchain: run ${run.runId} model ${run.answeredBy} failed: ${(error as Error)?.name ?? typeof error}`);
  }
  throw error;
}

function finishRequest(run: RunState, usage: ModelUsage | undefined, startedAt: number): void {
  const output = run.ctx.output;
  const metrics = output.metrics;
  const took = performance.now() - startedAt;
  output.model = run.answeredBy; // a fallback model may have answered instead of the agent's
  if (run.span !== undefined) run.span.modelAnswered(run.answeredBy, usage);
  metrics.modelDurationMs = (metrics.modelDurationMs ?? 0) + took;
  if (usage !== undefined) {
    metrics.inputTokens += usage.inputTokens;
    metrics.outputTokens += usage.outputTokens;
    metrics.totalTokens = metrics.inputTokens + metrics.outputTokens;
  }
  if (run.ctx.debugMode) {
    run.engine.logger.debug(
      `hookchain: run ${run.runId} model ${run.answeredBy} answered step ${metrics.steps} in ${took.toFixed(2)} ms (${usage?.inputTokens ?? 0} in, ${usage?.outputTokens ?? 0} out tokens)`,
    );
  }
  if (run.wants('model_request_completed')) {
    run.emit('model_request_completed', {
      runId: run.runId,
      model: run.answeredBy,
      durationMs: took,
      inputTokens: usage?.inputTokens ?? 0,
      outputTokens: usage?.outputTokens ?? 0,
    });
  }
}

/**
 * The model answered without tool calls: that is the run's answer, unless it fails the output schema. Then the
 * model tries again while retries are left; after that the failure is the run's verdict.
 */
function answered(run: RunState, content: string): boolean {
  const output = run.ctx.output;
  output.content = content;
  const schema = run.outputSchema;
  if (schema === undefined) return true;
  const problem = parseOutput(run, content);
  if (problem === undefined) return true;
  const verdict = new OutputCheckError(`the answer does not match the output schema: ${problem}`, {
    checkTrigger: CheckTrigger.VALIDATION_FAILED,
    retry: true,
  });
  if (prepareRetry(run, verdict)) return false;
  run.verdict ??= verdict;
  throw verdict;
}

/** Parses and validates `content` into `output.parsed`; returns the problem, or undefined when it passed. */
export function parseOutput(run: RunState, content: string): string | undefined {
  const output = run.ctx.output;
  let value: unknown;
  try {
    value = JSON.parse(content);
  } catch (error) {
    return `it is not JSON (${(error as Error).message}); answer with one JSON object`;
  }
  const checked = run.outputSchema!.validate(value);
  if (!checked.ok) return checked.problems;
  output.parsed = checked.value;
  run.parsedFrom = content;
  return undefined;
}

/**
 * Gets the run ready to ask again: the rejected answer is dropped (it appears nowhere) and the verdict's message
 * goes to the model as feedback, in the requests only. False when no retry is left, or when the rejected text has
 * already been released to a stream's consumer.
 */
function prepareRetry(run: RunState, verdict: OutputCheckError): boolean {
  if (run.outputRetriesLeft <= 0) return false;
  if (run.stream !== undefined && !run.stream.holdsText) return false;
  run.outputRetriesLeft--;
  const output = run.ctx.output;
  output.content = undefined;
  delete output.parsed;
  run.feedback({ role: 'user', content: verdict.message });
  return true;
}

function pause(run: RunState, pending: PendingApproval[]): void {
  const output = run.ctx.output;
  run.paused = true;
  output.status = 'paused';
  output.content = undefined;
  output.pendingApprovals = pending;
  const engine = run.engine;
  output.pausedWith = { hooks: engine.hookFingerprint.slice(), tools: [...engine.tools.byName.keys()] };
}

function copyCall(call: ModelToolCall): ModelToolCall {
  return { callId: call.callId, name: call.name, arguments: call.arguments };
}
