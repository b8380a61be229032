/**
 * What crosses Redis: a background hook's frozen argument snapshot as JSON, and the arguments a worker rebuilds
 * from it. docs/scale-out.md, "What a worker-side hook receives", states the rules; this file is their code.
 */
import type { HookArgs, PostHookArgs, RunContext, RunInput, RunOutput } from '../types.ts';
import type { BackgroundHookRef } from '../background/executor.ts';

/** The session as a job carries it: everything but the history (`runs`) and the state (sent as `sessionState`). */
export interface SessionSummary {
  /** The session's id. */
  sessionId: string;
  /** The agent that owns the session. */
  agentId: string;
  /** The user of the run that started the session. */
  userId?: string;
  /** When the session was started, in epoch milliseconds. */
  createdAt: number;
  /** When the session was last saved, in epoch milliseconds. */
  updatedAt: number;
  /** The store's version of the session, when the store keeps one. */
  version?: number;
}

/** The JSON part of a background hook's arguments, as it travels in a job. */
export interface JobArgs {
  /** The input as the pre-hooks left it. */
  runInput: RunInput;
  /** Post-hooks: the final output. */
  runOutput?: RunOutput;
  /** The session without its history (a worker that needs the history reads it from its own store). */
  session: SessionSummary;
  /** The session state when the phase ended. */
  sessionState: Record<string, unknown>;
  /** The run's metadata (JSON part). */
  metadata: Record<string, unknown>;
  /** The run's user. */
  userId?: string;
  /** Whether the run logged debug lines. */
  debugMode: boolean;
  /**
   * The rest of the run context: its per-run `state` and the fields middleware added, JSON part only; for a
   * pre-hook also `output` (the output so far).
   */
  context: Record<string, unknown>;
}

/** One job's data in Redis: which hook of which agent, for which run and phase, and its arguments. */
export interface BackgroundJobData {
  /** The producing agent's `id`; the worker runs the hook of its agent with this id. */
  agentId: string;
  /** The hook's name, unique among the agent's background hooks. */
  hookName: string;
  /** `'pre'` or `'post'`. */
  phase: 'pre' | 'post';
  /** The run that produced the job. */
  runId: string;
  /** The JSON snapshot of the hook's arguments. */
  args: JobArgs;
}

const CONTEXT_KEYS = new Set([
  'runId',
  'input',
  'output',
  'session',
  'sessionState',
  'state',
  'metadata',
  'userId',
  'debugMode',
  'agent',
  'dependencies',
  'signal',
]);

/** The JSON part of a (frozen) snapshot. One call per phase: a phase's jobs share the result. */
export function jobArgs(args: HookArgs): JobArgs {
  const ctx = args.runContext as unknown as Record<string, unknown>;
  const context: Record<string, unknown> = {};
  const state = toJson(ctx.state);
  if (state !== undefined) context.state = state;
  if (args.phase === 'pre') {
    const output = toJson(ctx.output);
    if (output !== undefined) context.output = output;
  }
  for (const key in ctx) {
    if (CONTEXT_KEYS.has(key)) continue;
    const value = toJson(ctx[key]);
    if (value !== undefined) context[key] = value;
  }
  const s = args.session;
  const session: SessionSummary = { sessionId: s.sessionId, agentId: s.agentId, createdAt: s.createdAt, updatedAt: s.updatedAt };
  if (s.userId !== undefined) session.userId = s.userId;
  if (s.version !== undefined) session.version = s.version;
  const out: JobArgs = {
    runInput: toJson(args.runInput) as RunInput,
    session,
    sessionState: (toJson(args.sessionState) ?? {}) as Record<string, unknown>,
    metadata: (toJson(args.metadata) ?? {}) as Record<string, unknown>,
    debugMode: args.debugMode,
    context,
  };
  if (args.userId !== undefined) out.userId = args.userId;
  if (args.phase === 'post') out.runOutput = toJson((args as PostHookArgs).runOutput) as RunOutput;
  return out;
}

/**
 * A JSON-safe copy: plain objects and arrays are copied; strings, finite numbers, booleans and null kept; a Date
 * becomes its ISO string and an object with `toJSON` its result; a bigint becomes its decimal string. Left out
 * (as `JSON.stringify` leaves out `undefined`): functions, symbols, `undefined`, class instances without `toJSON`
 * (services, clients: a worker has its own, through `dependencies`), `Map`/`Set`, and a reference back to an
 * object being copied (a cycle). In arrays, a left-out item becomes `null`, as in JSON.
 */
export function toJson(value: unknown, ancestors: object[] = []): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'bigint':
      return value.toString();
    case 'object':
      break;
    default:
      return undefined;
  }
  if (value === null) return null;
  if (ancestors.includes(value)) return undefined;
  if (Array.isArray(value)) {
    ancestors.push(value);
    const out = value.map((item: unknown) => toJson(item, ancestors) ?? null);
    ancestors.pop();
    return out;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON !== 'function') return undefined;
    ancestors.push(value);
    const out = toJson((toJSON as () => unknown).call(value), ancestors);
    ancestors.pop();
    return out;
  }
  ancestors.push(value);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const item = toJson((value as Record<string, unknown>)[key], ancestors);
    if (item !== undefined) out[key] = item;
  }
  ancestors.pop();
  return out;
}

/** An agent as a worker needs it: an `Agent` built like the producers' (same `id`, same background hooks). */
export interface BackgroundWorkerAgent {
  /** The agent's `id`, which jobs name. */
  readonly id: string;
  /** The agent's `name`. */
  readonly name: string;
  /** The agent's system message. */
  readonly instructions: string | undefined;
  /** The agent's model. */
  readonly model: {
    /** The model's id. */
    readonly id: string;
  };
  /** Passed to the hooks as `dependencies`: the worker's own services. */
  readonly dependencies: object;
  /** Where the worker finds a hook by phase and name. */
  readonly backgroundHooks: readonly BackgroundHookRef[];
}

/**
 * The hook's arguments on the worker, frozen like the in-process snapshot: the job's JSON data, plus the worker's
 * agent, that agent's `dependencies`, and a signal that aborts when the job times out.
 */
export function workerArgs(data: BackgroundJobData, agent: BackgroundWorkerAgent, signal: AbortSignal): HookArgs {
  const a = data.args;
  const session = deepFreeze({ ...a.session, sessionState: a.sessionState, runs: [] });
  const runContext: Record<string, unknown> = { ...a.context };
  runContext.runId = data.runId;
  runContext.input = a.runInput;
  runContext.output = data.phase === 'post' ? a.runOutput : a.context.output;
  runContext.session = session;
  runContext.sessionState = a.sessionState;
  runContext.state = a.context.state ?? {};
  runContext.metadata = a.metadata;
  runContext.userId = a.userId;
  runContext.debugMode = a.debugMode;
  for (const key in runContext) deepFreeze(runContext[key]);
  runContext.agent = agent;
  runContext.dependencies = agent.dependencies;
  runContext.signal = signal;
  const args: Record<string, unknown> = {
    phase: data.phase,
    runInput: a.runInput,
    agent,
    session,
    sessionState: a.sessionState,
    dependencies: agent.dependencies,
    metadata: a.metadata,
    userId: a.userId,
    debugMode: a.debugMode,
    signal,
    runContext: Object.freeze(runContext) as unknown as RunContext,
  };
  if (data.phase === 'post') args.runOutput = a.runOutput;
  return Object.freeze(args) as unknown as HookArgs;
}

function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  return value;
}
