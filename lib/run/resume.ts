/**
 * `agent.continueRun()` / `agent.continueStream()`: a paused run, resumed (DESIGN §9, human approval).
 *
 * The paused run is claimed before anything runs: its record is taken out of the session under the store's
 * versioned save, so of two resumes (two processes, two agents on one file) exactly one saves first and the other
 * is refused, and a later resume no longer finds it. (Taken out, not rewritten in place: a store may assume that a
 * run stored at the same position with the same runId is unchanged, and skip writing it. The run's final record
 * is appended when it settles.) The run then goes through the agent's chain minus the pre-hooks, which ran before the pause, so every
 * post-hook, chunk check and tool hook of this agent sees the rest of it. An agent that lacks a hook or tool the
 * run paused with is refused, rather than let a differently built process skip a guardrail.
 */
import { Context } from '../context.ts';
import { HookchainConfigError, RunNotPausedError, isHookchainError } from '../errors.ts';
import { checkOptions, describe, is } from '../options.ts';
import { sessionLocks, type SessionLocks } from '../sessions/lock.ts';
import type { StreamState } from '../streaming/stream-state.ts';
import type { JsonObjectSchema, ZodSchemaLike } from '../tools/tool.ts';
import type { AgentSession, DefaultDependencies, Metadata, RunOutput } from '../types.ts';
import { compileOutputSchema } from './output-schema.ts';
import { execute } from './run.ts';
import { RunState, type Decision, type RunEngine } from './state.ts';

/** A human's decision on one pending tool call. */
export type Approval =
  | {
      /** The pending call's id (`RunOutput.pendingApprovals[i].callId`). */
      callId: string;
      /** Run the call. */
      approved: true;
    }
  | {
      /** The pending call's id. */
      callId: string;
      /** Do not run it: the model reads `{ "error": "denied: <reason>" }`. */
      approved: false;
      /** Why, for the model (default `'not approved'`). */
      reason?: string;
    };

/** What `agent.continueRun(options)` and `agent.continueStream(options)` take. */
export interface ContinueOptions<Deps extends object = DefaultDependencies> {
  /** The paused run's session (`RunOutput.sessionId`; for a one-off run, its `runId`). */
  sessionId: string;
  /** The paused run. */
  runId: string;
  /** A decision for every pending call, no more and no fewer. */
  approvals: Approval[];
  /** Aborting cancels the resumed run. */
  signal?: AbortSignal;
  /** Merged over the agent's dependencies for the rest of the run (dependencies are not saved with a paused run). */
  dependencies?: Partial<Deps>;
  /** Merged over the agent's metadata for the rest of the run. */
  metadata?: Metadata;
  /** Wins over the agent's `debugMode`. */
  debugMode?: boolean;
  /** The run's `outputSchema`, if it had its own (a schema is code, so it is not saved with the run). */
  outputSchema?: ZodSchemaLike | JsonObjectSchema;
}

const CONTINUE_OPTIONS = {
  sessionId: is.nonEmptyString,
  runId: is.nonEmptyString,
  approvals: (v: unknown) => (Array.isArray(v) ? undefined : 'an array of { callId, approved } decisions'),
  signal: (v: unknown) => (v instanceof AbortSignal ? undefined : 'an AbortSignal'),
  dependencies: is.object,
  metadata: is.object,
  debugMode: is.boolean,
  outputSchema: () => undefined,
};

/** Resumes the run; resolves with its output (completed, or paused again) or rejects as `run()` does. */
export async function resumeRun(engine: RunEngine, options: ContinueOptions<object>, stream?: StreamState): Promise<RunOutput> {
  if (options === null || typeof options !== 'object') {
    throw new HookchainConfigError('INVALID_OPTION', `continueRun(): pass { sessionId, runId, approvals }, got ${describe(options)}`);
  }
  const opts = checkOptions<ContinueOptions<object>>('continueRun()', options, CONTINUE_OPTIONS, [
    'sessionId',
    'runId',
    'approvals',
  ]) as ContinueOptions<object>;
  const decisions = readApprovals(opts.approvals);
  const outputSchema = opts.outputSchema === undefined ? undefined : compileOutputSchema('continueRun()', opts.outputSchema);
  const signal = stream?.signal ?? opts.signal;
  const { sessionId, runId } = opts;
  const locks = sessionLocks(engine.store);
  await locks.acquire(sessionId, signal);
  let run: RunState;
  try {
    const session = await engine.store.get(sessionId);
    const stored = pausedRun(engine, session, sessionId, runId);
    checkDecisions(stored, decisions);
    checkSameAgent(engine, stored);
    await claim(engine, session!, stored);
    run = build(engine, session!, stored, opts, decisions, locks, stream, signal);
    if (outputSchema !== undefined) run.outputSchema = outputSchema;
  } catch (error) {
    locks.release(sessionId);
    throw error;
  }
  return execute(run);
}

function readApprovals(approvals: unknown[]): Map<string, Decision> {
  const decisions = new Map<string, Decision>();
  approvals.forEach((a, i) => {
    const entry = a as { callId?: unknown; approved?: unknown; reason?: unknown };
    if (entry === null || typeof entry !== 'object' || typeof entry.callId !== 'string' || typeof entry.approved !== 'boolean') {
      throw new HookchainConfigError(
        'INVALID_OPTION',
        `continueRun(): approvals[${i}] must be { callId: string, approved: boolean, reason?: string }, got ${describe(a)}`,
      );
    }
    if (entry.reason !== undefined && typeof entry.reason !== 'string') {
      throw new HookchainConfigError(
        'INVALID_OPTION',
        `continueRun(): approvals[${i}].reason must be a string, got ${describe(entry.reason)}`,
      );
    }
    if (decisions.has(entry.callId)) {
      throw new HookchainConfigError('INVALID_OPTION', `continueRun(): call "${entry.callId}" has two decisions; give one per call`);
    }
    decisions.set(entry.callId, { approved: entry.approved, reason: entry.reason as string | undefined });
  });
  return decisions;
}

function pausedRun(engine: RunEngine, session: AgentSession | undefined, sessionId: string, runId: string): RunOutput {
  if (session === undefined) {
    throw new RunNotPausedError(
      runId,
      `continueRun(): session "${sessionId}" is not in the store, so run "${runId}" cannot be resumed; check the sessionId (a one-off run's session is its runId)`,
    );
  }
  if (session.agentId !== engine.agent.id) {
    throw new HookchainConfigError(
      'SESSION_AGENT_MISMATCH',
      `continueRun(): session "${sessionId}" belongs to agent "${session.agentId}", not "${engine.agent.id}"; resume it with that agent`,
    );
  }
  const stored = session.runs.findLast((r) => r.runId === runId);
  if (stored === undefined) {
    throw new RunNotPausedError(
      runId,
      `continueRun(): run "${runId}" is not paused in session "${sessionId}": it was already resumed (a run resumes at most once), or check the runId and sessionId`,
    );
  }
  if (stored.status !== 'paused') {
    const was = stored.status === 'running' ? 'was already resumed (it is running, here or in another process)' : `is ${stored.status}`;
    throw new RunNotPausedError(runId, `continueRun(): run "${runId}" ${was}, not paused; a run resumes at most once`);
  }
  return stored;
}

function checkDecisions(stored: RunOutput, decisions: ReadonlyMap<string, Decision>): void {
  const pending = new Set((stored.pendingApprovals ?? []).map((p) => p.callId));
  for (const callId of decisions.keys()) {
    if (!pending.has(callId)) {
      throw new HookchainConfigError(
        'UNKNOWN_CALL',
        `continueRun(): call "${callId}" is not waiting for approval in run "${stored.runId}"; the pending calls are ${[...pending].join(', ')}`,
      );
    }
  }
  const missing = [...pending].filter((id) => !decisions.has(id));
  if (missing.length > 0) {
    throw new HookchainConfigError(
      'MISSING_APPROVAL',
      `continueRun(): run "${stored.runId}" needs a decision for every pending call; missing: ${missing.join(', ')}`,
    );
  }
}

function checkSameAgent(engine: RunEngine, stored: RunOutput): void {
  const paused = stored.pausedWith ?? { hooks: [], tools: [] };
  const hooks = new Set(engine.hookFingerprint);
  const missing = paused.hooks.filter((h) => !hooks.has(h)).map((h) => h.replace(':', '-hook '));
  missing.push(...paused.tools.filter((t) => !engine.tools.byName.has(t)).map((t) => `tool ${t}`));
  if (missing.length > 0) {
    throw new HookchainConfigError(
      'RESUME_AGENT_MISMATCH',
      `continueRun(): run "${stored.runId}" paused under an agent with ${missing.join(', ')}, which this agent lacks; ` +
        'build the agent the same way in every process that may resume its runs (no guardrail is skipped on resume)',
    );
  }
}

/**
 * Takes the paused record out of the session and saves it: the store's versioned save lets exactly one of two
 * concurrent resumes through, and a later one finds no paused run. Removing (rather than replacing the record in
 * place with a 'running' one) makes every store write it: a store may skip a run stored at the same position with
 * the same runId ("runs are records", docs/sessions.md), and a shorter list makes it rewrite the runs.
 */
async function claim(engine: RunEngine, session: AgentSession, stored: RunOutput): Promise<void> {
  const index = session.runs.lastIndexOf(stored);
  session.runs.splice(index, 1);
  session.updatedAt = Date.now();
  try {
    await engine.store.save(session);
  } catch (error) {
    session.runs.splice(index, 0, stored);
    if (isHookchainError(error) && error.code === 'SESSION_CONFLICT') {
      throw new RunNotPausedError(
        stored.runId,
        `continueRun(): run "${stored.runId}" was resumed by another agent or process first; a run resumes at most once`,
      );
    }
    throw error;
  }
}

function build(
  engine: RunEngine,
  session: AgentSession,
  stored: RunOutput,
  opts: ContinueOptions<object>,
  decisions: ReadonlyMap<string, Decision>,
  locks: SessionLocks,
  stream: StreamState | undefined,
  signal: AbortSignal | undefined,
): RunState {
  const { pendingApprovals: _pending, pausedWith: _with, ...rest } = stored;
  const output: RunOutput = {
    ...rest,
    status: 'running',
    content: undefined,
    error: undefined,
    messages: stored.messages.slice(),
    toolCalls: stored.toolCalls.map((r) => ({ ...r })),
    metrics: { ...stored.metrics },
  };
  const dependencies = opts.dependencies === undefined ? engine.dependencies : { ...engine.dependencies, ...opts.dependencies };
  const metadata = { ...engine.metadata, ...opts.metadata };
  const debugMode = opts.debugMode ?? engine.debugMode;
  const runSignal = signal ?? new AbortController().signal;
  const ctx = new Context(
    engine.agent,
    stored.runId,
    stored.input,
    output,
    session as AgentSession<object>,
    dependencies,
    metadata,
    stored.userId,
    debugMode,
    runSignal,
  );
  // The paused part's duration counts: durationMs is the run's working time, not the wait for a human.
  const run = new RunState(engine, ctx, stream, true, locks, performance.now() - stored.metrics.durationMs);
  run.request = output.messages;
  const asked = output.messages.findLast((m) => m.role === 'assistant' && m.toolCalls !== undefined);
  run.resume = { callIds: (asked?.toolCalls ?? []).map((c) => c.callId), decisions };
  run.resumed = true;
  stream?.attach(run, ctx as never, engine.emitter);
  return run;
}
