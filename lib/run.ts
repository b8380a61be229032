/**
 * A run's life outside the chain: validate and prepare (input, session, context), then settle it — completed or
 * failed — with the session saved, background jobs flushed or dropped, and one closing event.
 */
import type { Agent } from './agent.ts';
import { clone } from './clone.ts';
import { RunContextImpl } from './context.ts';
import { HookchainConfigError, InputCheckError, RunAbortedError, isCheckError } from './errors.ts';
import { randomUUID } from 'node:crypto';
import { holdBackgroundJobs } from './background/hold.ts';
import { describe } from './hooks/hook.ts';
import { errorSummary, isThenable } from './hooks/run-hook.ts';
import { sessionHistory } from './sessions/history.ts';
import { sessionLocks, type SessionLocks } from './sessions/lock.ts';
import type { StreamState } from './streaming/stream-state.ts';
import type { AgentSession, ChatMessage, DefaultDependencies, DefaultState, Metadata, RunErrorInfo, RunInput, RunOutput } from './types.ts';

export interface RunOptions<State extends object = DefaultState, Deps extends object = DefaultDependencies> {
  /** Continue this session (default: a new session id). */
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
const NEVER_ABORTED = new AbortController().signal;
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

/**
 * Settles with the chain, or rejects as soon as the run is aborted: a hook that ignores the signal cannot hold
 * the caller. The abandoned chain's own failure is absorbed.
 */
export function raceAbort(work: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal === NEVER_ABORTED) return work;
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      work.catch(() => {});
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function newSession(agent: Agent<object, object>, sessionId: string, opts: RunOptions<object, object>): AgentSession<object> {
  const now = Date.now();
  const sessionState = clone(agent.sessionState);
  if (opts.sessionState !== undefined) Object.assign(sessionState, opts.sessionState);
  return { sessionId, agentId: agent.id, userId: opts.userId, sessionState, runs: [], createdAt: now, updatedAt: now };
}

export async function finishRun(ctx: RunContextImpl): Promise<RunOutput> {
  const { output, session, agent } = ctx;
  if (ctx._stream !== undefined) await ctx._stream.releaseHeld();
  output.status = 'completed';
  if (output.content !== undefined) output.messages.push({ role: 'assistant', content: output.content });
  output.metrics.durationMs = performance.now() - ctx._startedAt;
  freezeOutput(output);
  if (ctx._persist) {
    session.runs.push(output);
    session.updatedAt = Date.now();
    const saved = agent.sessionStore.save(session);
    if (isThenable(saved)) await saved;
  }
  // Snapshotted only now, so background post-hooks see the final, frozen output (status, metrics, answer).
  if (agent._postBackground.length > 0) holdBackgroundJobs(ctx, agent._postBackground, 'post');
  const jobs = ctx._jobs;
  if (jobs !== undefined) {
    ctx._jobs = undefined;
    for (const job of jobs) {
      try {
        const accepted = agent.backgroundQueue.enqueue(job);
        if (isThenable(accepted)) await accepted;
      } catch (error) {
        agent.backgroundReporter.failed(job, -1, error, 'rejected');
      }
    }
  }
  if (ctx.wants('run_completed')) ctx.emit('run_completed', { runId: ctx.runId, output });
  if (ctx.debugMode) agent.logger.debug(`hookchain: run ${ctx.runId} completed in ${output.metrics.durationMs.toFixed(1)} ms`);
  return output;
}

export async function finishFailedRun(ctx: RunContextImpl, thrown: unknown): Promise<never> {
  const { session, agent } = ctx;
  const aborted = ctx.signal.aborted;
  const error = aborted && !(thrown instanceof RunAbortedError) ? new RunAbortedError(ctx.signal.reason) : thrown;
  ctx._jobs = undefined;
  ctx._stream?.discard();
  // A failure after the output was frozen (the store refused the completed run) settles a fresh copy.
  const saveFailed = Object.isFrozen(ctx.output);
  if (saveFailed && ctx._persist) session.runs.pop();
  const output: RunOutput = saveFailed ? { ...ctx.output, metrics: { ...ctx.output.metrics }, messages: ctx.output.messages.slice(0, -1) } : ctx.output;
  output.status = aborted ? 'cancelled' : 'error';
  output.content = undefined; // blocked or unfinished text goes nowhere: not to the caller, the store or events
  if (error instanceof InputCheckError) {
    // Here the blocked text is the input itself (unmasked PII, an injection): keep none of it in the record.
    output.input = { inputContent: '' };
    output.messages = [];
  }
  output.error = errorInfo(error, ctx);
  output.metrics.durationMs = performance.now() - ctx._startedAt;
  freezeOutput(output);
  if (!saveFailed && ctx._persist) {
    session.runs.push(output);
    session.updatedAt = Date.now();
    try {
      const saved = agent.sessionStore.save(session);
      if (isThenable(saved)) await saved;
    } catch (saveError) {
      agent.logger.warn(`hookchain: run ${ctx.runId} failed and its session "${session.sessionId}" could not be saved either`, saveError);
    }
  }
  ctx.emit('run_error', { runId: ctx.runId, error: output.error, output });
  if (ctx.debugMode) agent.logger.debug(`hookchain: run ${ctx.runId} ${output.status}: ${output.error.type} ${output.error.name}`);
  if (error !== null && typeof error === 'object' && Object.isExtensible(error)) (error as { runOutput?: RunOutput }).runOutput = output;
  throw error;
}

function errorInfo(error: unknown, ctx: RunContextImpl): RunErrorInfo {
  if (isCheckError(error)) {
    const info: RunErrorInfo = { type: error.type, name: error.name, message: error.message, checkTrigger: error.checkTrigger };
    if (error.additionalData !== undefined) info.additionalData = error.additionalData;
    if (ctx._failedHook !== undefined) info.hookName = ctx._failedHook;
    return info;
  }
  const { name, message } = errorSummary(error);
  if (error instanceof RunAbortedError) return { type: 'abort_error', name, message };
  if (ctx._failedHook !== undefined) return { type: 'hook_error', name, message, hookName: ctx._failedHook };
  return { type: ctx._modelFailed ? 'model_error' : 'middleware_error', name, message };
}

/** A finished run is a record: frozen, so the store, history and background snapshots can share it safely. */
function freezeOutput(output: RunOutput): void {
  for (const m of output.messages) freezeMessage(m);
  Object.freeze(output.messages);
  const content = output.input.inputContent;
  if (Array.isArray(content)) {
    for (const m of content) freezeMessage(m);
    Object.freeze(content);
  }
  Object.freeze(output.input);
  Object.freeze(output.metrics);
  if (output.error !== undefined) Object.freeze(output.error);
  Object.freeze(output);
}

function freezeMessage(message: ChatMessage): void {
  if (Object.isFrozen(message)) return;
  if (Array.isArray(message.content)) {
    for (const part of message.content) Object.freeze(part);
    Object.freeze(message.content);
  }
  Object.freeze(message);
}
