/**
 * The innermost layer: sends the (pre-hooked) input to the model and fills `ctx.output`. In a streaming run it
 * reads the model's stream into the release buffer; `await next()` in outer middleware returns once the stream
 * has ended, in both modes.
 */
import type { Context } from '../context.ts';
import { buildMessages } from '../models/messages.ts';
import type { Model, ModelRequest, ModelUsage } from '../models/model.ts';
import { assertStorable } from '../sessions/storable.ts';
import { runStateOf, type RunState } from './state.ts';

export function modelTerminal(model: Model, instructions: string | undefined) {
  return function model_terminal(ctx: Context): Promise<void> {
    const run = runStateOf(ctx);
    // The state will be saved after the run: refuse what no store can keep now, before the model is paid for.
    if (run.persist) assertStorable(ctx.sessionState, 'sessionState', ctx.session.sessionId);
    const output = ctx.output;
    const messages = buildMessages(instructions, run.history, ctx.input);
    output.messages = messages;
    const streaming = run.stream !== undefined;
    if (run.wants('model_request_started')) {
      run.emit('model_request_started', { runId: ctx.runId, model: model.id, messageCount: messages.length, stream: streaming });
    }
    const request: ModelRequest = { messages, signal: ctx.signal, runId: ctx.runId };
    const startedAt = performance.now();
    if (streaming) return streamModel(run, model, request, startedAt).catch((error: unknown) => modelFailed(run, error));
    return model.invoke(request).then(
      (response) => {
        output.content = response.content;
        finishRequest(run, model, response.usage, startedAt);
      },
      (error: unknown) => modelFailed(run, error),
    );
  };
}

function modelFailed(run: RunState, error: unknown): never {
  // A verdict raised by a chunk check inside the stream is not the model's failure.
  if (run.verdict === undefined && run.failedHook === undefined) run.modelFailed = true;
  if (run.ctx.debugMode)
    run.engine.logger.debug(`hookchain: run ${run.runId} model ${run.engine.model.id} failed: ${(error as Error)?.name ?? typeof error}`);
  throw error;
}

async function streamModel(run: RunState, model: Model, request: ModelRequest, startedAt: number): Promise<void> {
  const stream = run.stream!;
  let usage: ModelUsage | undefined;
  if (model.stream === undefined) {
    const response = await model.invoke(request);
    usage = response.usage;
    await stream.write(response.content);
  } else {
    for await (const chunk of model.stream(request)) {
      if (chunk.usage !== undefined) usage = chunk.usage;
      if (!chunk.delta) continue;
      // Awaiting only when the write has to wait (async check, slow consumer) saves a microtask per chunk.
      const waiting = stream.write(chunk.delta);
      if (waiting !== undefined) await waiting;
    }
  }
  if (request.signal.aborted) throw request.signal.reason;
  const ending = stream.endOfModel();
  if (ending !== undefined) await ending;
  run.ctx.output.content = stream.checkedText;
  finishRequest(run, model, usage, startedAt);
}

function finishRequest(run: RunState, model: Model, usage: ModelUsage | undefined, startedAt: number): void {
  const metrics = run.ctx.output.metrics;
  metrics.modelDurationMs = performance.now() - startedAt;
  if (usage !== undefined) {
    metrics.inputTokens += usage.inputTokens;
    metrics.outputTokens += usage.outputTokens;
    metrics.totalTokens = metrics.inputTokens + metrics.outputTokens;
  }
  if (run.ctx.debugMode) {
    run.engine.logger.debug(
      `hookchain: run ${run.runId} model ${model.id} answered in ${metrics.modelDurationMs.toFixed(2)} ms (${usage?.inputTokens ?? 0} in, ${usage?.outputTokens ?? 0} out tokens)`,
    );
  }
  if (run.wants('model_request_completed')) {
    run.emit('model_request_completed', {
      runId: run.runId,
      model: model.id,
      durationMs: metrics.modelDurationMs,
      inputTokens: usage?.inputTokens ?? 0,
      outputTokens: usage?.outputTokens ?? 0,
    });
  }
}
