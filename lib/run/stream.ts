/**
 * `agent.stream()`: an async iterable of the run's events plus a `finalOutput` promise. The run starts at the first
 * `next()` (or when `finalOutput` is first read); stopping the iteration early cancels it.
 */
import { RunAbortedError } from '../errors.ts';
import type { RunEvent } from '../events/types.ts';
import { EventQueue } from '../streaming/event-queue.ts';
import { StreamState } from '../streaming/stream-state.ts';
import type { RunOutput } from '../types.ts';
import type { RunEngine } from './state.ts';

/** Events waiting for a slow consumer before the model read pauses. */
const HIGH_WATER_MARK = 64;

/**
 * What `agent.stream()` returns: an async iterable of `RunEvent`s (iterate it once) plus `finalOutput`. It is not
 * thenable itself. The run starts when the first event (or `finalOutput`) is asked for; breaking out of the loop
 * cancels it. A failed run yields `run_error`, then the loop throws the run's error.
 */
export interface RunStream<Parsed = unknown> extends AsyncIterable<RunEvent> {
  /** Settles with the run: the final (or paused) output, post-hook edits included, or the error that stopped it. */
  readonly finalOutput: Promise<RunOutput<Parsed>>;
}

/**
 * Streams one run that `begin` starts with the stream's state: `agent.stream()` and `agent.continueStream()`.
 * `userSignal` is the caller's `signal` option, linked to the stream's own.
 */
export function openRunStream(
  engine: RunEngine,
  begin: (state: StreamState) => Promise<RunOutput>,
  userSignal: AbortSignal | undefined,
): RunStream {
  const queue = new EventQueue(HIGH_WATER_MARK);
  const state = new StreamState(queue, engine.postHooks);
  let settle!: { resolve: (o: RunOutput) => void; reject: (e: unknown) => void };
  const finalOutput = new Promise<RunOutput>((resolve, reject) => (settle = { resolve, reject }));
  // Nobody may be awaiting it (a consumer that only iterates): a failed run must not become an unhandled rejection.
  finalOutput.catch(() => {});
  let started: Promise<void> | undefined;

  const start = (): Promise<void> =>
    (started ??= (async () => {
      const onAbort = () => state.controller.abort(userSignal?.reason);
      userSignal?.addEventListener('abort', onAbort, { once: true });
      let failure: { error: unknown } | undefined;
      try {
        if (userSignal?.aborted) onAbort();
        settle.resolve(await begin(state));
      } catch (error) {
        failure = { error };
        settle.reject(error);
      } finally {
        userSignal?.removeEventListener('abort', onAbort);
        // A failed stream ends with run_error, then rejects with the error (bad input rejects at once: no run).
        queue.close(failure);
      }
    })());

  const iterator: AsyncIterator<RunEvent> = {
    next() {
      if (started === undefined) void start();
      return queue.next();
    },
    async return() {
      if (started !== undefined) {
        state.controller.abort(new RunAbortedError('the stream consumer stopped reading'));
        queue.close(); // also wakes a producer waiting for room
        await started;
      }
      queue.forgetFailure();
      return { value: undefined, done: true };
    },
  };

  return {
    [Symbol.asyncIterator]: () => iterator,
    get finalOutput() {
      void start();
      return finalOutput;
    },
  };
}
