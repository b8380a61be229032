/**
 * The innermost middleware: sends the (pre-hooked) input to the model and fills `ctx.output`. In a streaming run
 * it reads the model's stream into the release buffer; `await next()` in outer middleware returns once the
 * stream has ended, in both modes.
 */
import type { RunContextImpl } from '../context.ts';
import { buildMessages } from './messages.ts';
import type { Model, ModelRequest, ModelUsage } from './model.ts';

export function modelTerminal(model: Model, instructions: string | undefined) {
  return function model_terminal(ctx: RunContextImpl): Promise<void> {
    const output = ctx.output;
    const messages = buildMessages(instructions, ctx._history, ctx.input);
    output.messages = messages;
    const streaming = ctx._stream !== undefined;
    if (ctx.wants('model_request_started')) {
      ctx.emit('model_request_started', { runId: ctx.runId, model: model.id, messageCount: messages.length, stream: streaming });
    }
    const request: ModelRequest = { messages, signal: ctx.signal, runId: ctx.runId };
    const startedAt = performance.now();
    if (streaming) return streamModel(ctx, model, request, startedAt).catch((error: unknown) => modelFailed(ctx, error));
    return model.invoke(request).then(
      (response) => {
        output.content = response.content;
        finishRequest(ctx, model, response.usage, startedAt);
      },
      (error: unknown) => modelFailed(ctx, error),
    );
  };
}

function modelFailed(ctx: RunContextImpl, error: unknown): never {
  ctx._modelFailed = true;
  throw error;
}

async function streamModel(ctx: RunContextImpl, model: Model, request: ModelRequest, startedAt: number): Promise<void> {
  const stream = ctx._stream!;
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
  ctx.output.content = stream.checkedText;
  finishRequest(ctx, model, usage, startedAt);
}

function finishRequest(ctx: RunContextImpl, model: Model, usage: ModelUsage | undefined, startedAt: number): void {
  const metrics = ctx.output.metrics;
  metrics.modelDurationMs = performance.now() - startedAt;
  if (usage !== undefined) {
    metrics.inputTokens += usage.inputTokens;
    metrics.outputTokens += usage.outputTokens;
    metrics.totalTokens = metrics.inputTokens + metrics.outputTokens;
  }
  if (ctx.wants('model_request_completed')) {
    ctx.emit('model_request_completed', {
      runId: ctx.runId,
      model: model.id,
      durationMs: metrics.modelDurationMs,
      inputTokens: usage?.inputTokens ?? 0,
      outputTokens: usage?.outputTokens ?? 0,
    });
  }
}
