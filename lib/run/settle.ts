/**
 * Settling a run: completed (frozen record saved, background jobs flushed, `run_completed`) or failed (blocked
 * content removed, record saved, jobs dropped, `run_error`, the error rethrown with `runOutput`).
 */
import { holdBackgroundJobs } from '../background/hold.ts';
import type { RunContextImpl } from '../context.ts';
import { InputCheckError, RunAbortedError, errorSummary, isCheckError } from '../errors.ts';
import { isThenable } from '../hooks/run-hook.ts';
import type { ChatMessage, RunErrorInfo, RunOutput } from '../types.ts';
import { NEVER_ABORTED } from './prepare.ts';

/**
 * Settles with the chain, or rejects as soon as the run is aborted: a hook that ignores the signal cannot hold
 * the caller. The abandoned chain's own failure is absorbed.
 */
export function raceAbort(work: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal === NEVER_ABORTED) return work;
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      work.catch(() => {});
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

export async function finishRun(ctx: RunContextImpl): Promise<RunOutput> {
  const { output, session, agent } = ctx;
  ctx._stream?.releaseHeld();
  output.status = 'completed';
  if (output.content !== undefined) output.messages.push({ role: 'assistant', content: output.content });
  output.metrics.durationMs = performance.now() - ctx._startedAt;
  freezeOutput(output);
  if (ctx._persist) {
    session.runs.push(output);
    session.updatedAt = Date.now();
    const saved = agent.sessionStore.save(session);
    if (isThenable(saved)) await saved;
  }
  // Snapshotted only now, so background post-hooks see the final, frozen output (status, metrics, answer).
  if (agent._postBackground.length > 0) holdBackgroundJobs(ctx, agent._postBackground, 'post');
  const jobs = ctx._jobs;
  if (jobs !== undefined) {
    ctx._jobs = undefined;
    for (const job of jobs) {
      try {
        const accepted = agent.backgroundQueue.enqueue(job);
        if (isThenable(accepted)) await accepted;
      } catch (error) {
        agent.backgroundReporter.failed(job, -1, error, 'rejected');
      }
    }
  }
  if (ctx.wants('run_completed')) ctx.emit('run_completed', { runId: ctx.runId, output });
  if (ctx.debugMode) agent.logger.debug(`hookchain: run ${ctx.runId} completed in ${output.metrics.durationMs.toFixed(1)} ms`);
  return output;
}

export async function finishFailedRun(ctx: RunContextImpl, thrown: unknown): Promise<never> {
  const { session, agent } = ctx;
  const aborted = ctx.signal.aborted;
  const error = aborted && !(thrown instanceof RunAbortedError) ? new RunAbortedError(ctx.signal.reason) : thrown;
  ctx._jobs = undefined;
  ctx._stream?.discard();
  // A failure after the output was frozen (the store refused the completed run) settles a fresh copy.
  const saveFailed = Object.isFrozen(ctx.output);
  if (saveFailed && ctx._persist) session.runs.pop();
  const output: RunOutput = saveFailed ? { ...ctx.output, metrics: { ...ctx.output.metrics }, messages: ctx.output.messages.slice(0, -1) } : ctx.output;
  output.status = aborted ? 'cancelled' : 'error';
  output.content = undefined; // blocked or unfinished text goes nowhere: not to the caller, the store or events
  if (error instanceof InputCheckError) {
    // Here the blocked text is the input itself (unmasked PII, an injection): keep none of it in the record.
    output.input = { inputContent: '' };
    output.messages = [];
  }
  output.error = errorInfo(error, ctx);
  output.metrics.durationMs = performance.now() - ctx._startedAt;
  freezeOutput(output);
  if (!saveFailed && ctx._persist) {
    session.runs.push(output);
    session.updatedAt = Date.now();
    try {
      const saved = agent.sessionStore.save(session);
      if (isThenable(saved)) await saved;
    } catch (saveError) {
      agent.logger.warn(`hookchain: run ${ctx.runId} failed and its session "${session.sessionId}" could not be saved either`, saveError);
    }
  }
  ctx.emit('run_error', { runId: ctx.runId, error: output.error, output });
  if (ctx.debugMode) agent.logger.debug(`hookchain: run ${ctx.runId} ${output.status}: ${output.error.type} ${output.error.name}`);
  if (error !== null && typeof error === 'object' && Object.isExtensible(error)) (error as { runOutput?: RunOutput }).runOutput = output;
  throw error;
}

function errorInfo(error: unknown, ctx: RunContextImpl): RunErrorInfo {
  if (isCheckError(error)) {
    const info: RunErrorInfo = { type: error.type, name: error.name, message: error.message, checkTrigger: error.checkTrigger };
    if (error.additionalData !== undefined) info.additionalData = error.additionalData;
    if (ctx._failedHook !== undefined) info.hookName = ctx._failedHook;
    return info;
  }
  const { name, message } = errorSummary(error);
  if (error instanceof RunAbortedError) return { type: 'abort_error', name, message };
  if (ctx._failedHook !== undefined) return { type: 'hook_error', name, message, hookName: ctx._failedHook };
  return { type: ctx._modelFailed ? 'model_error' : 'middleware_error', name, message };
}

/** A finished run is a record: frozen, so the store, history and background snapshots can share it safely. */
function freezeOutput(output: RunOutput): void {
  for (const m of output.messages) freezeMessage(m);
  Object.freeze(output.messages);
  const content = output.input.inputContent;
  if (Array.isArray(content)) {
    for (const m of content) freezeMessage(m);
    Object.freeze(content);
  }
  Object.freeze(output.input);
  Object.freeze(output.metrics);
  if (output.error !== undefined) Object.freeze(output.error);
  Object.freeze(output);
}

function freezeMessage(message: ChatMessage): void {
  if (Object.isFrozen(message)) return;
  if (Array.isArray(message.content)) {
    for (const part of message.content) Object.freeze(part);
    Object.freeze(message.content);
  }
  Object.freeze(message);
}
