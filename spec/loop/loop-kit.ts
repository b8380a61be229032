/** Shared by the loop specs: the real OpenAIChat against the fake server, and event capture including tool events. */
import { OpenAIChat, type Agent, type AgentEventName, type RunEvent } from 'hookchain';
import type { FakeOpenAI } from 'hookchain/testing';

export const LOOP_EVENTS: AgentEventName[] = [
  'run_started',
  'pre_hook_started',
  'pre_hook_completed',
  'post_hook_started',
  'post_hook_completed',
  'hook_failed',
  'model_request_started',
  'model_request_completed',
  'tool_call_started',
  'tool_call_completed',
  'tool_call_failed',
  'run_paused',
  'content',
  'run_completed',
  'run_error',
];

export const chatModel = (fake: FakeOpenAI, id = 'gpt-test') => new OpenAIChat({ id, client: fake.client() });

/** Every event the agent emits (tool events included), tagged with its type, as the stream yields them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function listen(agent: Agent<any, any, any, any>): RunEvent[] {
  const events: RunEvent[] = [];
  for (const type of LOOP_EVENTS) agent.on(type, ((payload: object) => void events.push({ type, ...payload } as RunEvent)) as never);
  return events;
}

export async function collect(iterable: AsyncIterable<RunEvent>): Promise<{ events: RunEvent[]; error?: unknown }> {
  const events: RunEvent[] = [];
  try {
    for await (const event of iterable) events.push(event);
    return { events };
  } catch (error) {
    return { events, error };
  }
}

export const deltas = (events: readonly RunEvent[]) =>
  events.filter((e) => e.type === 'content').map((e) => (e as Extract<RunEvent, { type: 'content' }>).delta);

export const ofType = <K extends RunEvent['type']>(events: readonly RunEvent[], type: K) =>
  events.filter((e): e is Extract<RunEvent, { type: K }> => e.type === type);

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Rejects when the signal aborts (with its reason); never resolves otherwise. */
export const untilAborted = (signal: AbortSignal) =>
  new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
