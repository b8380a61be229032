/**
 * Preparing a run: validate the input and options, take the session's lock, load (or start) the session and build
 * the run's context. Nothing here runs a hook.
 */
import { randomUUID } from 'node:crypto';
import type { Agent } from '../agent.ts';
import { clone } from '../clone.ts';
import { RunContextImpl } from '../context.ts';
import { HookchainConfigError } from '../errors.ts';
import { describe } from '../options.ts';
import { isThenable } from '../hooks/run-hook.ts';
import { sessionHistory } from '../sessions/history.ts';
import { sessionLocks, type SessionLocks } from '../sessions/lock.ts';
import type { StreamState } from '../streaming/stream-state.ts';
import type { AgentSession, ChatMessage, DefaultDependencies, DefaultState, Metadata, RunInput, RunOutput } from '../types.ts';

export interface RunOptions<State extends object = DefaultState, Deps extends object = DefaultDependencies> {
  /** Load, continue and save this session. Without it the run is a one-off: nothing is loaded or stored. */
  sessionId?: string;
  userId?: string;
  /** Merged shallowly over the stored session state. */
  sessionState?: Partial<State>;
  /** Merged over the agent's dependencies for this run. */
  dependencies?: Partial<Deps>;
  /** Merged over the agent's metadata for this run. */
  metadata?: Metadata;
  /** Wins over the agent's `debugMode` (also when false). */
  debugMode?: boolean;
  /** Aborting cancels the run: status 'cancelled', the promise rejects with an AbortError. */
  signal?: AbortSignal;
}

const RUN_OPTIONS = new Set(['sessionId', 'userId', 'sessionState', 'dependencies', 'metadata', 'debugMode', 'signal']);
/** The signal of a run nobody can cancel: `raceAbort` skips its listener entirely. */
export const NEVER_ABORTED: AbortSignal = new AbortController().signal;
const ROLES = new Set(['system', 'developer', 'user', 'assistant']);

export async function prepareRun(
  agent: Agent<object, object>,
  input: unknown,
  options: RunOptions<object, object> | undefined,
  stream: StreamState | undefined,
): Promise<RunContextImpl> {
  const startedAt = performance.now();
  const runInput = toRunInput(input);
  const opts = options ?? {};
  if (options !== undefined) checkRunOptions(options);
  // Without a sessionId there is nothing to continue: the run gets a fresh session that is never stored, so a
  // stateless server does not fill its store (and the heap) with sessions nobody asked for.
  const persist = opts.sessionId !== undefined;
  const runId = randomUUID();
  // A one-off session is named after its only run (one UUID per run instead of two).
  const sessionId = opts.sessionId ?? runId;
  const signal = stream?.signal ?? opts.signal ?? NEVER_ABORTED;
  const locks = persist ? await lockSession(agent, sessionId, signal) : undefined;
  let session: AgentSession<object>;
  try {
    session = persist ? await loadSession(agent, sessionId, opts) : newSession(agent, sessionId, opts);
  } catch (error) {
    locks?.release(sessionId);
    throw error;
  }
  const output: RunOutput = {
    runId,
    sessionId,
    agentId: agent.id,
    agentName: agent.name,
    userId: opts.userId,
    content: undefined,
    status: 'running',
    model: agent.model.id,
    input: runInput,
    messages: [],
    metrics: { inputTokens: 0, outputTokens: 0, totalTokens: 0, durationMs: 0 },
    error: undefined,
    createdAt: Date.now(),
  };
  const dependencies = opts.dependencies === undefined ? agent.dependencies : { ...agent.dependencies, ...opts.dependencies };
  const metadata = { ...agent.metadata, ...opts.metadata };
  const ctx = new RunContextImpl(agent, runId, runInput, output, session, dependencies, metadata, opts.userId, opts.debugMode ?? agent.debugMode, signal, startedAt);
  ctx._stream = stream;
  ctx._persist = persist;
  ctx._sessionLocks = locks;
  if (agent.addHistoryToContext) ctx._history = sessionHistory(session.runs, agent.numHistoryRuns);
  return ctx;
}

/** Waits for this session's turn: runs of one session go one at a time, from load to save (docs/sessions.md). */
async function lockSession(agent: Agent<object, object>, sessionId: string, signal: AbortSignal): Promise<SessionLocks> {
  const locks = sessionLocks(agent.sessionStore);
  const turn = locks.acquire(sessionId, signal === NEVER_ABORTED ? undefined : signal);
  if (turn !== undefined) await turn;
  return locks;
}

/** Lets the next run of the session in; `agent.execute` calls it once the run has settled, whichever way. */
export function releaseSession(ctx: RunContextImpl): void {
  const locks = ctx._sessionLocks;
  if (locks === undefined) return;
  ctx._sessionLocks = undefined;
  locks.release(ctx.session.sessionId);
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
    throw new HookchainConfigError('INVALID_INPUT', `run(): message ${index} must be { role: 'user' | 'assistant' | 'system' | 'developer', content }, got ${describe(message)}`);
  }
  if (typeof m.content === 'string') return { ...m };
  if (!Array.isArray(m.content)) {
    throw new HookchainConfigError('INVALID_INPUT', `run(): message ${index} content must be a string or an array of content parts, got ${describe(m.content)}`);
  }
  return { ...m, content: m.content.map((part) => ({ ...part })) };
}

function badInput(got: string): HookchainConfigError {
  return new HookchainConfigError('INVALID_INPUT', `run(): input must be a non-empty string or an array of chat messages, got ${got}`);
}

function checkRunOptions(options: RunOptions<object, object>): void {
  if (options === null || typeof options !== 'object') {
    throw new HookchainConfigError('INVALID_OPTION', `run(): options must be an object like { sessionId }, got ${describe(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!RUN_OPTIONS.has(key)) {
      throw new HookchainConfigError('UNKNOWN_OPTION', `run(): unknown option "${key}"; known options are ${[...RUN_OPTIONS].join(', ')}`);
    }
  }
  for (const key of ['sessionId', 'userId'] as const) {
    const v = options[key];
    if (v !== undefined && (typeof v !== 'string' || v === '')) throw runOption(key, 'a non-empty string', v);
  }
  for (const key of ['sessionState', 'dependencies', 'metadata'] as const) {
    const v = options[key];
    if (v !== undefined && (v === null || typeof v !== 'object' || Array.isArray(v))) throw runOption(key, 'a plain object', v);
  }
  if (options.debugMode !== undefined && typeof options.debugMode !== 'boolean') throw runOption('debugMode', 'true or false', options.debugMode);
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) throw runOption('signal', 'an AbortSignal', options.signal);
}

function runOption(key: string, expected: string, got: unknown): HookchainConfigError {
  return new HookchainConfigError('INVALID_OPTION', `run(): option "${key}" must be ${expected}, got ${describe(got)}`);
}

async function loadSession(agent: Agent<object, object>, sessionId: string, opts: RunOptions<object, object>): Promise<AgentSession<object>> {
  const found = agent.sessionStore.get(sessionId);
  const stored = isThenable(found) ? await found : found;
  let session: AgentSession<object>;
  if (stored === undefined) {
    return newSession(agent, sessionId, opts);
  } else {
    if (stored.agentId !== agent.id) {
      throw new HookchainConfigError(
        'SESSION_AGENT_MISMATCH',
        `run(): session "${sessionId}" belongs to agent "${stored.agentId}", not "${agent.id}"; use another sessionId or build the agent with id "${stored.agentId}"`,
      );
    }
    session = stored;
  }
  if (opts.sessionState !== undefined) Object.assign(session.sessionState, opts.sessionState);
  return session;
}

function newSession(agent: Agent<object, object>, sessionId: string, opts: RunOptions<object, object>): AgentSession<object> {
  const now = Date.now();
  const sessionState = clone(agent.sessionState);
  if (opts.sessionState !== undefined) Object.assign(sessionState, opts.sessionState);
  return { sessionId, agentId: agent.id, userId: opts.userId, sessionState, runs: [], createdAt: now, updatedAt: now };
}
