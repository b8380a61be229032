/**
 * Preparing a run: validate the input and options, take the session's lock, load (or start) the session and build
 * the run's context and state. Nothing here runs a hook.
 */
import { clone } from '../clone.ts';
import { Context } from '../context.ts';
import { HookchainConfigError } from '../errors.ts';
import { isThenable } from '../hooks/run-hook.ts';
import { checkOptions, describe, is } from '../options.ts';
import { sessionHistory } from '../sessions/history.ts';
import { sessionLocks, type SessionLocks } from '../sessions/lock.ts';
import type { StreamState } from '../streaming/stream-state.ts';
import type { AgentSession, ChatMessage, ContentPart, DefaultDependencies, DefaultState, Metadata, RunInput, RunOutput } from '../types.ts';
import type { JsonObjectSchema, ZodSchemaLike } from '../tools/tool.ts';
import { nextRunId } from './ids.ts';
import { compileOutputSchema } from './output-schema.ts';
import { RunState, type OutputSchemaSetup, type RunEngine } from './state.ts';

/**
 * Per-run options of `agent.run(input, options)` and `agent.stream(input, options)`; all optional. An unknown
 * option is an error.
 */
export interface RunOptions<State extends object = DefaultState, Deps extends object = DefaultDependencies, Parsed = unknown> {
  /** Load, continue and save this session. Without it the run is a one-off: nothing is loaded or stored. */
  sessionId?: string;
  /** Who the run is for: in `RunOutput.userId`, the hooks' `userId`, events and a new session. */
  userId?: string;
  /** Merged shallowly over the stored session state. */
  sessionState?: Partial<State>;
  /** Merged over the agent's dependencies for this run. */
  dependencies?: Partial<Deps>;
  /** Merged over the agent's metadata for this run. */
  metadata?: Metadata;
  /** Wins over the agent's `debugMode` (also when false). */
  debugMode?: boolean;
  /** Aborting cancels the run: status 'cancelled', the promise rejects with a `RunAbortedError` (name `'AbortError'`). */
  signal?: AbortSignal;
  /**
   * Hold this run's background jobs until the promise settles, without holding the run: a server passes "the
   * response has been written", so a slow background hook never delays a client. If it rejects (the client went
   * away), the jobs are dropped and reported (`background_hook_failed`, reason `'dropped'`).
   */
  flushAfter?: PromiseLike<unknown>;
  /** Structured output for this run, instead of the agent's `outputSchema`: `output.parsed` is typed from it. */
  outputSchema?: ZodSchemaLike<Parsed> | JsonObjectSchema;
}

const RUN_OPTIONS = {
  sessionId: is.nonEmptyString,
  userId: is.nonEmptyString,
  sessionState: is.object,
  dependencies: is.object,
  metadata: is.object,
  debugMode: is.boolean,
  signal: (v: unknown) => (v instanceof AbortSignal ? undefined : 'an AbortSignal'),
  outputSchema: () => undefined, // compileOutputSchema says what is wrong
  flushAfter: (v: unknown) =>
    v !== null && typeof v === 'object' && typeof (v as PromiseLike<unknown>).then === 'function' ? undefined : 'a promise',
};
/** The signal of a run nobody can cancel: `raceAbort` skips its listener entirely. */
export const NEVER_ABORTED: AbortSignal = new AbortController().signal;
const ROLES = new Set(['system', 'developer', 'user', 'assistant']);

/**
 * Builds the run's context and state. Synchronous when nothing has to wait (a one-off run, or a free session in a
 * store that answers synchronously), so the common run pays for no promise here.
 */
export function prepare(
  engine: RunEngine,
  input: unknown,
  options: RunOptions<object, object> | undefined,
  stream: StreamState | undefined,
): RunState | Promise<RunState> {
  const startedAt = performance.now();
  const runInput = toRunInput(input);
  const opts = options === undefined ? NO_OPTIONS : checkOptions<RunOptions<object, object>>('run()', options, RUN_OPTIONS);
  // Compiled (once per schema object) before anything else, so a bad schema fails the call, not the run.
  const outputSchema = opts.outputSchema === undefined ? undefined : compileOutputSchema('run()', opts.outputSchema);
  const runId = nextRunId();
  const signal = stream?.signal ?? opts.signal ?? NEVER_ABORTED;
  const prepared: Prepared = { engine, runId, runInput, opts, stream, signal, startedAt, outputSchema };
  // Without a sessionId there is nothing to continue: the run gets a fresh session that is never stored, so a
  // stateless server does not fill its store (and the heap) with sessions nobody asked for. A one-off session is
  // named after its only run.
  const sessionId = opts.sessionId;
  if (sessionId === undefined) return build(prepared, newSession(engine, runId, opts), undefined);
  // Runs of one session go one at a time, from load to save (docs/sessions.md).
  const locks = sessionLocks(engine.store);
  const turn = locks.acquire(sessionId, signal === NEVER_ABORTED ? undefined : signal);
  return turn === undefined ? load(prepared, sessionId, locks) : turn.then(() => load(prepared, sessionId, locks));
}

interface Prepared {
  engine: RunEngine;
  runId: string;
  runInput: RunInput;
  opts: RunOptions<object, object>;
  stream: StreamState | undefined;
  signal: AbortSignal;
  startedAt: number;
  outputSchema: OutputSchemaSetup | undefined;
}

const NO_OPTIONS: RunOptions<object, object> = Object.freeze({});
const NO_MESSAGES: readonly ChatMessage[] = Object.freeze([]);

/** Loads the session under the lock; any failure lets the lock go. */
function load(p: Prepared, sessionId: string, locks: SessionLocks): RunState | Promise<RunState> {
  try {
    const found = p.engine.store.get(sessionId);
    if (!isThenable(found)) return build(p, fromStore(p, sessionId, found), locks);
    return Promise.resolve(found).then(
      (stored) => build(p, fromStore(p, sessionId, stored), locks),
      (error: unknown) => {
        locks.release(sessionId);
        throw error;
      },
    );
  } catch (error) {
    locks.release(sessionId);
    throw error;
  }
}

function build(p: Prepared, session: AgentSession<object>, locks: SessionLocks | undefined): RunState {
  const { engine, runId, runInput, opts, stream, signal, startedAt } = p;
  const agent = engine.agent;
  const output: RunOutput = {
    runId,
    sessionId: session.sessionId,
    agentId: agent.id,
    agentName: agent.name,
    userId: opts.userId,
    content: undefined,
    status: 'running',
    model: engine.model.id,
    input: runInput,
    // Replaced by the messages sent to the model; a run that fails before has none.
    messages: NO_MESSAGES as ChatMessage[],
    metrics: { inputTokens: 0, outputTokens: 0, totalTokens: 0, durationMs: 0, steps: 0 },
    error: undefined,
    createdAt: Date.now(),
    toolCalls: [],
  };
  const dependencies = opts.dependencies === undefined ? engine.dependencies : { ...engine.dependencies, ...opts.dependencies };
  const metadata = { ...engine.metadata, ...opts.metadata };
  const debugMode = opts.debugMode ?? engine.debugMode;
  const ctx = new Context(agent, runId, runInput, output, session, dependencies, metadata, opts.userId, debugMode, signal);
  const run = new RunState(engine, ctx, stream, locks !== undefined, locks, startedAt);
  if (p.outputSchema !== undefined) run.outputSchema = p.outputSchema;
  if (opts.flushAfter !== undefined) run.flushAfter = opts.flushAfter;
  if (engine.historyRuns !== undefined) run.history = sessionHistory(session.runs, engine.historyRuns);
  stream?.attach(run, ctx as never, engine.emitter);
  return run;
}

function toRunInput(input: unknown): RunInput {
  if (typeof input === 'string') {
    if (input.trim() === '') throw badInput('an empty string');
    return { inputContent: input };
  }
  if (Array.isArray(input)) {
    if (input.length === 0) throw badInput('an empty message array');
    // Copied: pre-hooks edit messages in place, and the caller's objects are not ours to change.
    return { inputContent: input.map(copyMessage) };
  }
  throw badInput(describe(input));
}

function copyMessage(message: unknown, index: number): ChatMessage {
  const m = message as ChatMessage;
  if (m === null || typeof m !== 'object' || !ROLES.has(m.role)) {
    throw new HookchainConfigError(
      'INVALID_INPUT',
      `run(): message ${index} must be { role: 'user' | 'assistant' | 'system' | 'developer', content }, got ${describe(message)}`,
    );
  }
  if (typeof m.content === 'string') {
    if (m.content.trim() === '')
      throw new HookchainConfigError('INVALID_INPUT', `run(): message ${index} has empty content; send text, or leave the message out`);
    return { ...m };
  }
  if (!Array.isArray(m.content) || m.content.length === 0) {
    throw new HookchainConfigError(
      'INVALID_INPUT',
      `run(): message ${index} content must be a non-empty string or a non-empty array of content parts, got ${describe(m.content)}`,
    );
  }
  return { ...m, content: m.content.map((part, p) => copyPart(part, index, p)) };
}

/**
 * Only the part types the model seam knows: text, which every guardrail reads, and image URLs. An unknown type
 * (`input_text`, a number, null) would reach the model unchecked, so it is refused here.
 */
function copyPart(part: unknown, index: number, p: number): ContentPart {
  const where = `run(): message ${index} content part ${p}`;
  if (part === null || typeof part !== 'object')
    throw new HookchainConfigError(
      'INVALID_INPUT',
      `${where} must be { type: 'text', text } or { type: 'image_url', image_url: { url } }, got ${describe(part)}`,
    );
  const { type } = part as { type?: unknown };
  if (type === 'text' && typeof (part as { text?: unknown }).text === 'string') return { ...(part as ContentPart) };
  const image = (part as { image_url?: { url?: unknown } }).image_url;
  if (type === 'image_url' && image !== null && typeof image === 'object' && typeof image.url === 'string') {
    return { type: 'image_url', image_url: { ...image } } as ContentPart;
  }
  throw new HookchainConfigError(
    'INVALID_INPUT',
    `${where} has type ${JSON.stringify(type)} with the wrong fields; the supported parts are { type: 'text', text: string } and { type: 'image_url', image_url: { url: string } }`,
  );
}

function badInput(got: string): HookchainConfigError {
  return new HookchainConfigError('INVALID_INPUT', `run(): input must be a non-empty string or an array of chat messages, got ${got}`);
}

function fromStore(p: Prepared, sessionId: string, stored: AgentSession | undefined): AgentSession<object> {
  const { engine, opts } = p;
  if (stored === undefined) return newSession(engine, sessionId, opts);
  if (stored.agentId !== engine.agent.id) {
    throw new HookchainConfigError(
      'SESSION_AGENT_MISMATCH',
      `run(): session "${sessionId}" belongs to agent "${stored.agentId}", not "${engine.agent.id}"; use another sessionId or build the agent with id "${stored.agentId}"`,
    );
  }
  if (opts.sessionState !== undefined) Object.assign(stored.sessionState, opts.sessionState);
  return stored;
}

function newSession(engine: RunEngine, sessionId: string, opts: RunOptions<object, object>): AgentSession<object> {
  const now = Date.now();
  const sessionState = engine.sessionStateEmpty ? {} : clone(engine.sessionState);
  if (opts.sessionState !== undefined) Object.assign(sessionState, opts.sessionState);
  return { sessionId, agentId: engine.agent.id, userId: opts.userId, sessionState, runs: [], createdAt: now, updatedAt: now };
}
