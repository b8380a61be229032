/**
 * Preparing a run: validate the input and options, take the session's lock, load (or start) the session and build
 * the run's context and state. Nothing here runs a hook.
 */
import { randomUUID } from 'node:crypto';
import { clone } from '../clone.ts';
import { Context } from '../context.ts';
import { HookchainConfigError } from '../errors.ts';
import { isThenable } from '../hooks/run-hook.ts';
import { checkOptions, describe, is } from '../options.ts';
import { sessionHistory } from '../sessions/history.ts';
import { sessionLocks, type SessionLocks } from '../sessions/lock.ts';
import type { StreamState } from '../streaming/stream-state.ts';
import type { AgentSession, ChatMessage, ContentPart, DefaultDependencies, DefaultState, Metadata, RunInput, RunOutput } from '../types.ts';
import { RunState, type RunEngine } from './state.ts';

/**
 * Per-run options of `agent.run(input, options)` and `agent.stream(input, options)`; all optional. An unknown
 * option is an error.
 */
export interface RunOptions<State extends object = DefaultState, Deps extends object = DefaultDependencies> {
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
}

const RUN_OPTIONS = {
  sessionId: is.nonEmptyString,
  userId: is.nonEmptyString,
  sessionState: is.object,
  dependencies: is.object,
  metadata: is.object,
  debugMode: is.boolean,
  signal: (v: unknown) => (v instanceof AbortSignal ? undefined : 'an AbortSignal'),
};
/** The signal of a run nobody can cancel: `raceAbort` skips its listener entirely. */
export const NEVER_ABORTED: AbortSignal = new AbortController().signal;
const ROLES = new Set(['system', 'developer', 'user', 'assistant']);

export async function prepare(
  engine: RunEngine,
  input: unknown,
  options: RunOptions<object, object> | undefined,
  stream: StreamState | undefined,
): Promise<RunState> {
  const startedAt = performance.now();
  const runInput = toRunInput(input);
  const opts = options === undefined ? {} : checkOptions<RunOptions<object, object>>('run()', options, RUN_OPTIONS);
  // Without a sessionId there is nothing to continue: the run gets a fresh session that is never stored, so a
  // stateless server does not fill its store (and the heap) with sessions nobody asked for.
  const persist = opts.sessionId !== undefined;
  const runId = randomUUID();
  // A one-off session is named after its only run (one UUID per run instead of two).
  const sessionId = opts.sessionId ?? runId;
  const signal = stream?.signal ?? opts.signal ?? NEVER_ABORTED;
  const locks = persist ? await lockSession(engine, sessionId, signal) : undefined;
  let session: AgentSession<object>;
  try {
    session = persist ? await loadSession(engine, sessionId, opts) : newSession(engine, sessionId, opts);
  } catch (error) {
    locks?.release(sessionId);
    throw error;
  }
  const agent = engine.agent;
  const output: RunOutput = {
    runId,
    sessionId,
    agentId: agent.id,
    agentName: agent.name,
    userId: opts.userId,
    content: undefined,
    status: 'running',
    model: engine.model.id,
    input: runInput,
    messages: [],
    metrics: { inputTokens: 0, outputTokens: 0, totalTokens: 0, durationMs: 0 },
    error: undefined,
    createdAt: Date.now(),
  };
  const dependencies = opts.dependencies === undefined ? engine.dependencies : { ...engine.dependencies, ...opts.dependencies };
  const metadata = { ...engine.metadata, ...opts.metadata };
  const ctx = new Context(
    agent,
    runId,
    runInput,
    output,
    session,
    dependencies,
    metadata,
    opts.userId,
    opts.debugMode ?? engine.debugMode,
    signal,
  );
  const run = new RunState(engine, ctx, stream, persist, locks, startedAt);
  if (engine.historyRuns !== undefined) run.history = sessionHistory(session.runs, engine.historyRuns);
  stream?.attach(run, ctx as never, engine.emitter);
  return run;
}

/** Waits for this session's turn: runs of one session go one at a time, from load to save (docs/sessions.md). */
async function lockSession(engine: RunEngine, sessionId: string, signal: AbortSignal): Promise<SessionLocks> {
  const locks = sessionLocks(engine.store);
  const turn = locks.acquire(sessionId, signal === NEVER_ABORTED ? undefined : signal);
  if (turn !== undefined) await turn;
  return locks;
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

async function loadSession(engine: RunEngine, sessionId: string, opts: RunOptions<object, object>): Promise<AgentSession<object>> {
  const found = engine.store.get(sessionId);
  const stored = isThenable(found) ? await found : found;
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
  const sessionState = clone(engine.sessionState);
  if (opts.sessionState !== undefined) Object.assign(sessionState, opts.sessionState);
  return { sessionId, agentId: engine.agent.id, userId: opts.userId, sessionState, runs: [], createdAt: now, updatedAt: now };
}
