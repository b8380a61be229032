/**
 * Records an agent's events so tests can assert what happened, in which order, without spying on internals.
 * Framework-agnostic: failures throw a plain Error with a readable diff.
 */
import type { Agent } from '../agent.ts';
import type { AgentEventName, AgentEvents, RunEvent } from '../events/types.ts';

// Typed as a record so that a new event name fails the type check here until it is listed.
const EVERY: Record<AgentEventName, true> = {
  run_started: true,
  pre_hook_started: true,
  pre_hook_completed: true,
  post_hook_started: true,
  post_hook_completed: true,
  hook_failed: true,
  hook_shadow_verdict: true,
  model_request_started: true,
  model_request_completed: true,
  tool_call_started: true,
  tool_call_completed: true,
  tool_call_failed: true,
  content: true,
  run_completed: true,
  run_paused: true,
  run_error: true,
  background_hook_started: true,
  background_hook_completed: true,
  background_hook_failed: true,
};
const ALL_EVENTS = Object.keys(EVERY) as AgentEventName[];

/** What `recordEvents` returns: the events seen so far and views of them. */
export interface EventRecorder {
  /** Every event recorded so far, in order, tagged with its `type` as `agent.stream()` yields them. */
  readonly events: RunEvent[];
  /** Event names in order, e.g. ['run_started', 'pre_hook_started', …]. */
  names(): string[];
  /** Hook steps in order, as 'pre:started:name', 'post:completed:name', 'failed:name', 'background:completed:name'. */
  hookOrder(): string[];
  /** Detach from the agent. */
  stop(): void;
}

// Agents of any state/dependency types: the recorder only reads events.
/**
 * Records every event of `agent` (from now until `stop()`), optionally only those of the runs `only` accepts, so
 * a test can assert what happened and in which order without spying on internals.
 *
 * @param agent The agent to listen to.
 * @param only Keeps the events of a run when it returns true for the run's id (default: all runs).
 *
 * @example
 * const recorder = recordEvents(agent); // an agent without hooks
 * await agent.run('hello');
 * expect(recorder.names()).toEqual(['run_started', 'model_request_started', 'model_request_completed', 'run_completed']);
 * recorder.stop();
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function recordEvents(agent: Agent<any, any>, only?: (runId: string) => boolean): EventRecorder {
  const events: RunEvent[] = [];
  const listeners = ALL_EVENTS.map((type) => {
    const fn = (payload: AgentEvents[typeof type]) => {
      if (only === undefined || only(payload.runId)) events.push({ type, ...payload } as RunEvent);
    };
    agent.on(type, fn as never);
    return [type, fn] as const;
  });
  return {
    events,
    names: () => events.map((e) => e.type),
    hookOrder: () => hookSteps(events),
    stop: () => {
      for (const [type, fn] of listeners) agent.off(type, fn as never);
    },
  };
}

/**
 * The hook steps among `events`, in order: `'pre:started:name'`, `'pre:completed:name'`, `'post:…'`,
 * `'failed:name'`, `'background:started|completed|failed:name'`. Other events are skipped.
 */
export function hookSteps(events: readonly RunEvent[]): string[] {
  const out: string[] = [];
  for (const e of events) {
    switch (e.type) {
      case 'pre_hook_started':
        out.push(`pre:started:${e.hookName}`);
        break;
      case 'pre_hook_completed':
        out.push(`pre:completed:${e.hookName}`);
        break;
      case 'post_hook_started':
        out.push(`post:started:${e.hookName}`);
        break;
      case 'post_hook_completed':
        out.push(`post:completed:${e.hookName}`);
        break;
      case 'hook_failed':
        out.push(`failed:${e.hookName}`);
        break;
      case 'background_hook_started':
        out.push(`background:started:${e.hookName}`);
        break;
      case 'background_hook_completed':
        out.push(`background:completed:${e.hookName}`);
        break;
      case 'background_hook_failed':
        out.push(`background:failed:${e.hookName}`);
        break;
      default:
        break;
    }
  }
  return out;
}

/** Throws unless `actual` equals `expected`, showing both lists. */
export function assertOrder(actual: readonly string[], expected: readonly string[], what = 'hook order'): void {
  const same = actual.length === expected.length && actual.every((v, i) => v === expected[i]);
  if (!same) {
    throw new Error(`${what} differs\n  expected: ${expected.join(' → ')}\n  actual:   ${actual.join(' → ')}`);
  }
}

/**
 * Throws unless the hooks completed in exactly this order (by name, whatever the phase; pre- and post-hooks only,
 * not background ones). The error shows both lists.
 *
 * @example
 * const recorder = recordEvents(agent);
 * await agent.run('hello');
 * expectHookOrder(recorder, ['PromptInjectionGuardrail', 'validateLength', 'checkTone']);
 */
export function expectHookOrder(recorder: EventRecorder, expected: readonly string[]): void {
  const completed = recorder.events
    .filter((e) => e.type === 'pre_hook_completed' || e.type === 'post_hook_completed')
    .map((e) => (e as { hookName: string }).hookName);
  assertOrder(completed, expected);
}
