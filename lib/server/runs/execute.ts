/**
 * Running one request's run: admission (`maxConcurrentRuns`, `busySession`), cancellation when the client goes
 * away, background jobs held until the response is written (`flushAfter`), and the refusal of a blocked run
 * (`blockedResponse`). The routes decide the body's shape; this decides what happened.
 */
import type { Context as KoaContext } from 'koa';
import type { RunEvent } from '../../events/types.ts';
import type { RunStream } from '../../run/stream.ts';
import type { RunOutput } from '../../types.ts';
import { HttpError, isVerdict, publicErrorInfo, publicOutput, runFailure } from '../http/errors.ts';
import { responseWritten } from '../http/sse.ts';
import type { BlockedInfo, ServedAgent } from '../options.ts';
import { track, type RouteState } from '../state.ts';
import type { Frame, RunRecord } from './registry.ts';

/** Who runs what: the agent, the session (for `busySession`) and the user (for scoping). */
export interface RunTarget {
  agent: ServedAgent;
  sessionId: string | undefined;
  userId: string | undefined;
}

/** What the core run needs from the server: the cancellation signal and, tied to a response, `flushAfter`. */
export interface RunHooks {
  signal: AbortSignal;
  flushAfter?: Promise<void>;
}

/** A blocked run answered as a refusal (`blockedResponse`). */
export interface Refusal {
  output: RunOutput;
  info: BlockedInfo;
  text: string;
}

/** A run slot and its session's busy mark, given back by `release()`; `controller` cancels the run. */
interface Admission {
  controller: AbortController;
  release(): void;
}

function admit(state: RouteState, target: RunTarget): Admission {
  if (state.closing) throw new HttpError(503, 'unavailable', 'the server is shutting down', { headers: { 'Retry-After': '1' } });
  const { agent, sessionId } = target;
  if (sessionId !== undefined && state.options.busySession === 'reject' && state.registry.isBusy(agent.id, sessionId)) {
    throw new HttpError(409, 'session_busy', `session "${sessionId}" has a run in progress; retry when it has ended`);
  }
  if (!state.registry.tryAcquire(state.options.maxConcurrentRuns)) {
    throw new HttpError(503, 'unavailable', 'too many runs in progress; retry shortly', { headers: { 'Retry-After': '1' } });
  }
  const unbusy = sessionId === undefined ? undefined : state.registry.markBusy(agent.id, sessionId);
  const controller = new AbortController();
  state.aborts.add(controller);
  let released = false;
  return {
    controller,
    release() {
      if (released) return;
      released = true;
      state.registry.release();
      unbusy?.();
      state.aborts.delete(controller);
    },
  };
}

/** The refusal for a blocked run's error, when `blockedResponse` is a function; else undefined. */
export function refusalOf(state: RouteState, error: unknown): Refusal | undefined {
  const make = state.options.blockedResponse;
  const output = (error as { runOutput?: RunOutput } | null)?.runOutput;
  const e = output?.error;
  if (make === undefined || output === undefined || e === undefined || !isVerdict(e)) return undefined;
  const info: BlockedInfo = {
    checkTrigger: e.checkTrigger!,
    message: e.message,
    type: e.type,
    runId: output.runId,
    agentId: output.agentId,
  };
  return { output, info, text: String(make(info)) };
}

/**
 * Runs to the end and returns the output (or a refusal). The run is cancelled if the client goes away first, and
 * its background jobs wait until the response has been written. A failure throws the `HttpError` to answer.
 */
export async function runOnce(
  ctx: KoaContext,
  state: RouteState,
  target: RunTarget,
  start: (hooks: RunHooks) => Promise<RunOutput>,
): Promise<{ output: RunOutput; refusal?: undefined } | { output?: undefined; refusal: Refusal }> {
  const admission = admit(state, target);
  const { controller } = admission;
  const written = responseWritten(ctx, () => controller.abort(new Error('the client went away')));
  track(state, written);
  try {
    const output = await start({ signal: controller.signal, flushAfter: written });
    remember(state, target, output);
    ctx.set('x-run-id', output.runId);
    return { output };
  } catch (error) {
    const output = (error as { runOutput?: RunOutput } | null)?.runOutput;
    if (output !== undefined) {
      remember(state, target, output);
      ctx.set('x-run-id', output.runId);
    }
    const refusal = refusalOf(state, error);
    if (refusal !== undefined) return { refusal };
    throw runFailure(error);
  } finally {
    admission.release();
  }
}

function remember(state: RouteState, target: RunTarget, output: RunOutput): void {
  const record = state.registry.add(
    { runId: output.runId, agentId: target.agent.id, sessionId: output.sessionId, userId: target.userId },
    false,
  );
  state.registry.end(record);
}

/** A streamed run that has started: its first event (`run_started`) read, the rest to pump. */
export interface StartedStream {
  readonly record: RunRecord;
  readonly first: RunEvent & { type: 'run_started' };
  /** Reads the rest: each event, sanitised and numbered, goes to the registry (replay) and to `sink`. */
  pump(sink: (frame: Frame, event: RunEvent) => void): Promise<void>;
}

/**
 * Opens a streamed run and reads its first event, so that a request that fails before the run starts (bad input,
 * a busy session) still answers with a status. `ctx` ties the run to a response (cancel on disconnect, jobs after
 * the last byte); without it (a background run) the run is the server's until it ends.
 */
export async function startStream(
  ctx: KoaContext | undefined,
  state: RouteState,
  target: RunTarget,
  open: (hooks: RunHooks) => RunStream,
): Promise<StartedStream> {
  const admission = admit(state, target);
  const { controller } = admission;
  const hooks: RunHooks = { signal: controller.signal };
  if (ctx !== undefined) {
    hooks.flushAfter = responseWritten(ctx, () => controller.abort(new Error('the client went away')));
    track(state, hooks.flushAfter);
  }
  const events = open(hooks)[Symbol.asyncIterator]();
  let first: IteratorResult<RunEvent>;
  try {
    first = await events.next();
  } catch (error) {
    admission.release();
    throw runFailure(error);
  }
  if (first.done === true || first.value.type !== 'run_started') {
    admission.release();
    throw new HttpError(500, 'server_error', 'internal server error');
  }
  const started = first.value;
  const record = state.registry.add(
    { runId: started.runId, agentId: target.agent.id, sessionId: started.sessionId, userId: target.userId },
    true,
  );
  if (ctx !== undefined) ctx.set('x-run-id', started.runId);
  let id = 0;
  const emit = (event: RunEvent, sink: (frame: Frame, event: RunEvent) => void) => {
    const frame: Frame = { id: ++id, event: event.type, data: JSON.stringify(publicEvent(event)) };
    state.registry.push(record, frame);
    sink(frame, event);
  };
  return {
    record,
    first: started,
    async pump(sink) {
      try {
        emit(started, sink);
        for (;;) {
          const next = await events.next();
          if (next.done === true) break;
          const event = next.value;
          if (event.type === 'run_error') {
            const refusal = refusalOf(state, { runOutput: event.output });
            if (refusal !== undefined) {
              emit({ type: 'content', runId: event.runId, delta: refusal.text }, sink);
              const blocked = { ...event, blocked: true, checkTrigger: refusal.info.checkTrigger, content: refusal.text };
              emit(blocked, sink);
              continue;
            }
          }
          emit(event, sink);
        }
      } catch {
        // A failed run has yielded run_error already; its error is the client's through that event.
      } finally {
        admission.release();
        state.registry.end(record);
      }
    },
  };
}

/** An event as a client may see it: no crash's message, no hook's error text, a blocked output without the run's messages. */
export function publicEvent(event: RunEvent): RunEvent {
  switch (event.type) {
    case 'run_error': {
      const error = publicErrorInfo(event.error, event.runId);
      if ('blocked' in event) {
        const { output: _output, ...rest } = event;
        return { ...rest, error } as unknown as RunEvent;
      }
      return { ...event, error, output: publicOutput(event.output) };
    }
    case 'hook_failed':
      return { ...event, error: { name: event.error.name, message: 'the hook failed; the run went on' } };
    default:
      return event;
  }
}
