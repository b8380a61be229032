/**
 * The one owner of a run's path, as Koa's `handleRequest` is of a request's: prepare → execute the chain →
 * seal → complete or fail → release the session. `run()`, `stream()`, `continueRun()` and `continueStream()` all
 * come through `execute`. Written with plain promises rather than async functions: a run that never waits (an
 * in-memory store, sync hooks) then allocates no async frames of its own.
 */
import type { StreamState } from '../streaming/stream-state.ts';
import type { RunOutput } from '../types.ts';
import { NEVER_ABORTED, prepare, type RunOptions } from './prepare.ts';
import { complete, fail, raceAbort, seal } from './settle.ts';
import { RunState, type RunEngine } from './state.ts';

/** Runs `input` through the engine's chain; resolves with the output or rejects with what stopped the run. */
export function startRun(
  engine: RunEngine,
  input: unknown,
  options: RunOptions<object, object> | undefined,
  stream?: StreamState,
): Promise<RunOutput> {
  let prepared: RunState | Promise<RunState>;
  try {
    prepared = prepare(engine, input, options, stream);
  } catch (error) {
    return Promise.reject(error);
  }
  return prepared instanceof RunState ? execute(prepared) : prepared.then(execute);
}

/** Runs a prepared run's chain (a resumed run's has no pre-hooks) and settles it. */
export function execute(run: RunState): Promise<RunOutput> {
  const { ctx, engine } = run;
  if (run.wants('run_started')) {
    run.emit('run_started', {
      runId: run.runId,
      agentId: engine.agent.id,
      agentName: engine.agent.name,
      sessionId: ctx.session.sessionId,
      userId: ctx.userId,
    });
  }
  if (ctx.debugMode) engine.logger.debug(`hookchain: run ${run.runId} started (agent ${engine.agent.name})`);
  if (engine.tracing !== undefined) {
    run.span = engine.tracing.startRun({
      runId: run.runId,
      sessionId: ctx.session.sessionId,
      model: engine.model.id,
      resumed: run.resumed,
      // A resumed run's startedAt is set back by the paused part's duration: its span starts now.
      startedAt: run.resumed ? undefined : run.startedAt,
    });
  }
  const signal = ctx.signal;
  let work: Promise<void>;
  try {
    if (signal.aborted) throw signal.reason;
    work = (run.resumed ? engine.resumeChain() : engine.chain())(ctx);
  } catch (error) {
    work = Promise.reject(error);
  }
  if (signal !== NEVER_ABORTED) work = raceAbort(work, signal);
  return work.then(
    () => finish(run),
    (error: unknown) => failed(run, error),
  );
}

/** The chain returned: the run completes, unless it was aborted or a verdict stands (however the chain returned). */
function finish(run: RunState): RunOutput | Promise<RunOutput> {
  try {
    if (run.signal.aborted) throw run.signal.reason;
    if (run.verdict !== undefined) throw run.verdict;
    if (!run.sealed) seal(run);
    const done = complete(run);
    if (!(done instanceof Promise)) {
      release(run);
      return done;
    }
    return done.then(
      (output) => {
        release(run);
        return output;
      },
      (error: unknown) => failed(run, error),
    );
  } catch (error) {
    return failed(run, error);
  }
}

function failed(run: RunState, error: unknown): Promise<never> {
  return fail(run, error).finally(() => release(run));
}

/** Lets the next run of the session in: after the save, on every path (success, failure, abort, stream). */
function release(run: RunState): void {
  const locks = run.locks;
  if (locks === undefined) return;
  run.locks = undefined;
  locks.release(run.ctx.session.sessionId);
}
