/**
 * Settling a run: sealed (completed and frozen once the post-hooks have run), then completed (saved, background
 * jobs flushed, `run_completed`) or failed (blocked content removed, saved, jobs dropped, `run_error`, the error
 * rethrown with `runOutput`).
 */
import {
  CheckTrigger,
  HookchainConfigError,
  LimitExceededError,
  MaxStepsExceededError,
  OutputCheckError,
  RunAbortedError,
  ToolCallError,
  errorSummary,
  isCheckError,
  isInputCheckError,
  isRunAbortedError,
} from '../errors.ts';
import { parseOutput } from './loop.ts';
import type { BackgroundJob } from '../background/executor.ts';
import { backgroundJobs } from '../background/hold.ts';
import { isThenable } from '../hooks/run-hook.ts';
import type { AgentSession, ChatMessage, RunErrorInfo, RunOutput } from '../types.ts';
import type { RunState } from './state.ts';

/**
 * The post-hooks have run and no verdict stands: the output becomes the final record (status, answer message,
 * duration) and is frozen, so middleware outside the post-hooks can read it but not change it.
 */
export function seal(run: RunState): void {
  if (run.verdict !== undefined) throw run.verdict;
  const output = run.ctx.output;
  if (run.paused) {
    output.metrics.durationMs = performance.now() - run.startedAt;
    freezeOutput(output);
    run.sealed = true;
    return;
  }
  const content = output.content;
  if (content !== undefined && typeof content !== 'string') {
    throw new HookchainConfigError(
      'INVALID_OUTPUT',
      `run ${run.runId}: output content must be a string, got ${typeof content}; a post-hook or middleware set it (set ctx.output.content to text)`,
    );
  }
  // `parsed` must describe the content the caller gets: a post-hook that changed it (masking) is checked again.
  if (run.outputSchema !== undefined && content !== run.parsedFrom) checkParsed(run, content);
  run.stream?.releaseHeld(content);
  output.status = 'completed';
  if (content !== undefined) {
    // A middleware may answer without calling the model (a cache): then the run has no messages array of its own yet.
    if (Object.isFrozen(output.messages)) output.messages = output.messages.slice();
    output.messages.push({ role: 'assistant', content });
  }
  output.metrics.durationMs = performance.now() - run.startedAt;
  freezeOutput(output);
  run.sealed = true;
}

function checkParsed(run: RunState, content: string | undefined): void {
  const problem = content === undefined ? 'there is no answer' : parseOutput(run, content);
  if (problem === undefined) return;
  delete run.ctx.output.parsed;
  const verdict = new OutputCheckError(`the answer, as the post-hooks left it, does not match the output schema: ${problem}`, {
    checkTrigger: CheckTrigger.VALIDATION_FAILED,
  });
  run.verdict ??= verdict;
  throw verdict;
}

/**
 * Saves the sealed run, flushes its background jobs and reports it. Synchronous unless the store or queue waits.
 * A paused run is saved too (also a one-off run, so another process can resume it) but flushes nothing.
 */
export function complete(run: RunState): RunOutput | Promise<RunOutput> {
  const { ctx, engine } = run;
  if (run.persist || run.paused) {
    const session = ctx.session;
    recordRun(session, ctx.output);
    session.updatedAt = Date.now();
    const saved = engine.store.save(session);
    if (isThenable(saved)) return Promise.resolve(saved).then(() => afterSave(run));
  }
  return afterSave(run);
}

/** A run's record goes in once: a resumed run (or a failure after the save) replaces its earlier record. */
function recordRun(session: AgentSession<object>, output: RunOutput): void {
  const runs = session.runs;
  for (let i = runs.length - 1; i >= 0; i--) {
    if (runs[i]!.runId === output.runId) {
      runs[i] = output;
      return;
    }
  }
  runs.push(output);
}

function afterSave(run: RunState): RunOutput | Promise<RunOutput> {
  if (run.paused) return reportPaused(run);
  const engine = run.engine;
  // Snapshotted only now, so background post-hooks see the final, frozen output (status, metrics, answer).
  if (engine.postBackground.length > 0) {
    run.holdJobs(backgroundJobs(engine.postBackground, run.postArgs(), run.runId, engine.reporter, run.span?.link()));
  }
  const jobs = run.jobs;
  if (jobs === undefined) return reportCompleted(run);
  run.jobs = undefined;
  const after = run.flushAfter;
  if (after !== undefined) {
    // The caller is still answering (a server writing its response): the jobs wait for that, the run does not.
    Promise.resolve(after).then(
      () => void flush(run, jobs, 0),
      (error: unknown) => {
        for (const job of jobs) engine.reporter.failed(job, -1, error, 'dropped');
      },
    );
    return reportCompleted(run);
  }
  const flushed = flush(run, jobs, 0);
  return flushed === undefined ? reportCompleted(run) : flushed.then(() => reportCompleted(run));
}

/**
 * Hands the held jobs to the queue in order; waits only for a queue that makes the caller wait (backpressure). A
 * queue with `enqueueAll` gets them in one call (one round trip for a remote queue).
 */
function flush(run: RunState, jobs: readonly BackgroundJob[], from: number): Promise<void> | undefined {
  const { queue, reporter } = run.engine;
  if (queue.enqueueAll !== undefined) {
    const refused = (error: unknown) => {
      for (const job of jobs) reporter.failed(job, -1, error, 'rejected');
    };
    try {
      const accepted = queue.enqueueAll(jobs);
      if (isThenable(accepted)) return Promise.resolve(accepted).then(undefined, refused);
    } catch (error) {
      refused(error);
    }
    return undefined;
  }
  for (let i = from; i < jobs.length; i++) {
    const job = jobs[i]!;
    try {
      const accepted = queue.enqueue(job);
      if (isThenable(accepted)) {
        return Promise.resolve(accepted).then(
          () => flush(run, jobs, i + 1),
          (error: unknown) => {
            reporter.failed(job, -1, error, 'rejected');
            return flush(run, jobs, i + 1);
          },
        );
      }
    } catch (error) {
      reporter.failed(job, -1, error, 'rejected');
    }
  }
  return undefined;
}

function reportPaused(run: RunState): RunOutput {
  const output = run.ctx.output;
  run.jobs = undefined; // a paused run flushes nothing; its resume snapshots its background hooks again
  if (run.span !== undefined) run.span.paused(output);
  if (run.wants('run_paused')) run.emit('run_paused', { runId: run.runId, pendingApprovals: output.pendingApprovals!, output });
  if (run.ctx.debugMode) {
    run.engine.logger.debug(`hookchain: run ${run.runId} paused for ${output.pendingApprovals!.length} approval(s)`);
  }
  return output;
}

function reportCompleted(run: RunState): RunOutput {
  const output = run.ctx.output;
  if (run.span !== undefined) run.span.completed(output, run.engine.instructions);
  if (run.wants('run_completed')) run.emit('run_completed', { runId: run.runId, output });
  if (run.ctx.debugMode) {
    run.engine.logger.debug(`hookchain: run ${run.runId} completed in ${output.metrics.durationMs.toFixed(2)} ms`);
    hookSummary(run);
  }
  return output;
}

export async function fail(run: RunState, thrown: unknown): Promise<never> {
  const { ctx, engine } = run;
  const session = ctx.session;
  const aborted = ctx.signal.aborted;
  // A verdict is final: whatever else went wrong after it (a middleware's own crash), the run fails with it.
  const cause = run.verdict ?? thrown;
  const error = aborted && !isRunAbortedError(cause) ? new RunAbortedError(ctx.signal.reason) : cause;
  run.jobs = undefined;
  run.stream?.discard();
  // A failure after the output was frozen (the store refused the completed run, an outer middleware's after-part
  // threw) settles a fresh copy.
  const frozen = Object.isFrozen(ctx.output);
  const sealed = ctx.output;
  const answered = frozen && sealed.status === 'completed' && sealed.content !== undefined;
  const output: RunOutput = frozen
    ? {
        ...sealed,
        metrics: { ...sealed.metrics },
        messages: answered ? sealed.messages.slice(0, -1) : sealed.messages.slice(),
        toolCalls: sealed.toolCalls.slice(),
      }
    : sealed;
  output.status = aborted ? 'cancelled' : 'error';
  output.content = undefined; // blocked or unfinished text goes nowhere: not to the caller, the store or events
  delete output.parsed;
  delete output.pendingApprovals;
  delete output.pausedWith;
  if (isInputCheckError(error)) {
    // Here the blocked text is the input itself (unmasked PII, an injection): keep none of it in the record.
    output.input = { inputContent: '' };
    output.messages = [];
  }
  output.error = errorInfo(error, run);
  output.metrics.durationMs = performance.now() - run.startedAt;
  freezeOutput(output);
  if (run.span !== undefined) run.span.failed(output, output.error, error);
  // A paused run that then failed to save is recorded as failed where its paused record would have been.
  if (run.persist || run.paused) {
    recordRun(session, output);
    session.updatedAt = Date.now();
    try {
      const saved = engine.store.save(session);
      if (isThenable(saved)) await saved;
    } catch (saveError) {
      engine.logger.warn(`hookchain: run ${run.runId} failed and its session "${session.sessionId}" could not be saved either`, saveError);
    }
  }
  run.emit('run_error', { runId: run.runId, error: output.error, output });
  if (ctx.debugMode) {
    const by = output.error.hookName === undefined ? '' : ` by hook "${output.error.hookName}"`;
    const trigger = output.error.checkTrigger === undefined ? '' : ` (${output.error.checkTrigger})`;
    engine.logger.debug(
      `hookchain: run ${run.runId} ${output.status}: ${output.error.type}${trigger}${by} after ${output.metrics.durationMs.toFixed(2)} ms`,
    );
    hookSummary(run);
  }
  if (error !== null && typeof error === 'object' && Object.isExtensible(error)) (error as { runOutput?: RunOutput }).runOutput = output;
  throw error;
}

function errorInfo(error: unknown, run: RunState): RunErrorInfo {
  if (isCheckError(error)) {
    const info: RunErrorInfo = { type: error.type, name: error.name, message: error.message, checkTrigger: error.checkTrigger };
    if (error.additionalData !== undefined) info.additionalData = error.additionalData;
    if (run.failedHook !== undefined) info.hookName = run.failedHook;
    return info;
  }
  const { name, message } = errorSummary(error);
  if (isRunAbortedError(error)) return { type: 'abort_error', name, message };
  if (error instanceof MaxStepsExceededError) return { type: 'max_steps_error', name, message };
  if (error instanceof LimitExceededError) return { type: 'limit_error', name, message };
  if (error instanceof ToolCallError) return { type: 'tool_error', name, message };
  if (run.failedHook !== undefined) return { type: 'hook_error', name, message, hookName: run.failedHook };
  return { type: run.modelFailed ? 'model_error' : 'middleware_error', name, message };
}

/**
 * Debug mode: one line per run with every hook's duration and outcome, slowest first, so a stack can be ordered
 * cheap-first (a cheap check that often blocks belongs before an expensive one; slow read-only checks can be
 * `parallel`).
 */
function hookSummary(run: RunState): void {
  const timings = run.timings;
  if (timings === undefined || timings.length === 0) return;
  const ms = (t: string) => Number(/ ([\d.]+) ms /.exec(t)?.[1] ?? 0);
  const sorted = [...timings].sort((a, b) => ms(b) - ms(a));
  run.engine.logger.debug(`hookchain: run ${run.runId} hooks, slowest first: ${sorted.join('; ')}`);
}

/**
 * Settles with the chain, or rejects as soon as the run is aborted: a hook that ignores the signal cannot hold
 * the caller. The abandoned chain's own failure is absorbed.
 */
export function raceAbort(work: Promise<void>, signal: AbortSignal): Promise<void> {
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
  for (const record of output.toolCalls) Object.freeze(record);
  Object.freeze(output.toolCalls);
  if (output.pendingApprovals !== undefined) Object.freeze(output.pendingApprovals);
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
