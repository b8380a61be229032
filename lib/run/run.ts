/**
 * The one owner of a run's path, as Koa's `handleRequest` is of a request's: prepare → execute the chain →
 * seal → complete or fail → release the session. `run()`, `stream()` (and next, `continueRun()`) all come
 * through `execute`.
 */
import type { StreamState } from '../streaming/stream-state.ts';
import type { RunOutput } from '../types.ts';
import { NEVER_ABORTED, prepare, type RunOptions } from './prepare.ts';
import { complete, fail, raceAbort, seal } from './settle.ts';
import type { RunEngine, RunState } from './state.ts';

/** Runs `input` through the engine's chain; resolves with the output or rejects with what stopped the run. */
export async function startRun(
  engine: RunEngine,
  input: unknown,
  options: RunOptions<object, object> | undefined,
  stream?: StreamState,
): Promise<RunOutput> {
  return execute(await prepare(engine, input, options, stream));
}

async function execute(run: RunState): Promise<RunOutput> {
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
  try {
    const signal = ctx.signal;
    if (signal.aborted) throw signal.reason;
    const chain = engine.chain()(ctx);
    await (signal === NEVER_ABORTED ? chain : raceAbort(chain, signal));
    if (signal.aborted) throw signal.reason;
    // A verdict is final even if a middleware caught it and the chain returned normally.
    if (run.verdict !== undefined) throw run.verdict;
    if (!run.sealed) seal(run);
    return await complete(run);
  } catch (error) {
    return await fail(run, error);
  } finally {
    // After the save, on every path: success, failure, abort, stream.
    const locks = run.locks;
    run.locks = undefined;
    locks?.release(ctx.session.sessionId);
  }
}
