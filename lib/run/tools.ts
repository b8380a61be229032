/**
 * The tool calls of one model answer (docs/tools.md): checked, run through the tool onion (tool hooks, then the
 * tool) at most `toolConcurrency` at a time, recorded in the model's order, and answered as `tool` messages.
 *
 * Two kinds of failure, two rules (DESIGN §9). A tool hook's verdict or crash is a guardrail's: the run fails
 * closed (unless that hook is `failOpen`). The tool's own failure (arguments that are not JSON or miss the schema,
 * a throw, a timeout) is the model's to handle: it reads `{ "error": … }`, unless the agent says `toolErrors: 'fail'`.
 */
import compose from 'koa-compose';
import { HookchainConfigError, ToolCallError, ToolTimeoutError, errorSummary, type ToolFailureReason } from '../errors.ts';
import { hookOptionsOf, hookTargetOf } from '../hooks/hook.ts';
import { failClosed, isThenable, withTimeout } from '../hooks/run-hook.ts';
import type { ModelToolCall } from '../models/model.ts';
import { describe } from '../options.ts';
import { jsonProblem, type Tool } from '../tools/tool.ts';
import type { PendingApproval, RunContext, ToolCall, ToolCallRecord, ToolHook } from '../types.ts';
import { runStateOf, type Decision, type RunState, type ToolSetup } from './state.ts';

/** The engine's own part of a tool call, behind a symbol: hooks see only the `ToolCall` fields. */
const INNER: unique symbol = Symbol('hookchain.toolCall');

interface Inner {
  readonly tool: Tool;
  readonly signal: AbortSignal;
  /** Set when the tool's own failure was recorded (the hooks may still replace the result after it). */
  reason: ToolFailureReason | undefined;
  cause: unknown;
  /** The call's `execute_tool` span when the run is traced; its tool hooks' spans go under it. */
  span: unknown;
}

/** One call's context: a class so that every call has the same shape. */
export class ToolCallContext implements ToolCall<object, object> {
  readonly runContext: RunContext<object, object>;
  readonly toolName: string;
  readonly callId: string;
  args: unknown;
  result: unknown = undefined;
  error: string | undefined = undefined;
  readonly [INNER]: Inner;

  constructor(runContext: RunContext<object, object>, tool: Tool, callId: string, args: unknown, signal: AbortSignal, span: unknown) {
    this.runContext = runContext;
    this.toolName = tool.name;
    this.callId = callId;
    this.args = args;
    this[INNER] = { tool, signal, reason: undefined, cause: undefined, span };
  }
}

interface ToolHookMeta {
  readonly name: string;
  readonly failOpen: boolean;
  readonly timeoutMs: number | undefined;
}

/** Checks and composes the tool hooks (koa-compose, once per agent) around the tool itself. */
export function toolSetup(tools: readonly Tool[], hooks: unknown, toolErrors: 'model' | 'fail', concurrency: number): ToolSetup {
  if (hooks !== undefined && !Array.isArray(hooks)) {
    throw new HookchainConfigError(
      'INVALID_OPTION',
      `Agent: option "toolHooks" must be an array of (call, next) => … functions, got ${describe(hooks)}`,
    );
  }
  const seen = new Map<string, number>();
  const layers = ((hooks ?? []) as unknown[]).map((fn, i) => {
    if (typeof fn !== 'function') {
      throw new HookchainConfigError(
        'INVALID_OPTION',
        `Agent: toolHooks[${i}] must be a function (call, next) => …, got ${describe(fn)}; a guardrail checks runs, not tool calls`,
      );
    }
    const options = hookOptionsOf(fn as never);
    if (options.runInBackground || options.everyChunk) {
      throw new HookchainConfigError(
        'INVALID_OPTION',
        `Agent: toolHooks[${i}] is marked ${options.runInBackground ? 'runInBackground' : 'everyChunk'}, which a tool hook cannot be; use only name, failOpen and timeoutMs`,
      );
    }
    const target = hookTargetOf(fn as never) as unknown as ToolHook<object, object>;
    const name = options.name ?? (target.name || `toolHooks[${i}]`);
    const first = seen.get(name);
    if (first !== undefined) {
      throw new HookchainConfigError(
        'DUPLICATE_HOOK_NAME',
        `Agent: toolHooks[${first}] and toolHooks[${i}] are both named "${name}"; name one with hook({ name })(fn)`,
      );
    }
    seen.set(name, i);
    return guardToolHook(target, { name, failOpen: options.failOpen === true, timeoutMs: options.timeoutMs });
  });
  const onion =
    layers.length === 0
      ? (call: ToolCallContext) => executeTool(call)
      : (compose([...layers, (call: ToolCallContext) => executeTool(call)]) as unknown as (call: ToolCallContext) => Promise<void>);
  // The engine's type sees a ToolCall; every call it passes is a ToolCallContext built by runOne.
  return {
    byName: new Map(tools.map((t) => [t.name, t])),
    onion: onion as ToolSetup['onion'],
    hookNames: [...seen.keys()],
    toolErrors,
    concurrency,
  };
}

function settle(result: Promise<void> | void): Promise<void> {
  return result === undefined ? RESOLVED : result;
}
const RESOLVED: Promise<void> = Promise.resolve();

/**
 * A tool hook as a koa-compose layer: the fail-closed rule on its throw; a `failOpen` hook that crashed before
 * `next()` is stepped over (the rest of the onion still runs), as if it were not there.
 */
function guardToolHook(fn: ToolHook<object, object>, meta: ToolHookMeta) {
  /**
   * The general form: a `failOpen` hook that crashed before `next()` is stepped over (the rest of the onion still
   * runs), and a bounded one is timed. `key` is what failClosed reports (a traced call passes its own, for its span).
   */
  const guarded = (call: ToolCallContext, next: () => Promise<void>, key: ToolHookMeta): Promise<void> => {
    let called = false;
    const watched = () => {
      called = true;
      return next();
    };
    const failed = (error: unknown): Promise<void> | undefined => {
      failClosed(runStateOf(call.runContext as never), key, error, 'tool');
      return called ? undefined : next();
    };
    let result: unknown;
    try {
      result = fn(call as ToolCall<object, object>, watched);
    } catch (error) {
      return settle(failed(error));
    }
    if (!isThenable(result)) return RESOLVED;
    const bounded = meta.timeoutMs === undefined ? result : withTimeout(result, meta.name, meta.timeoutMs);
    return Promise.resolve(bounded).then(() => undefined, failed);
  };
  /** A traced run: a `hook <name>` span under the call's `execute_tool` span, one per call (calls run side by side). */
  const traced = (call: ToolCallContext, next: () => Promise<void>, parent: unknown): Promise<void> => {
    const trace = runStateOf(call.runContext as never).span!;
    const key: ToolHookMeta = { name: meta.name, failOpen: meta.failOpen, timeoutMs: meta.timeoutMs };
    trace.hookStarted(key, 'tool', parent);
    return guarded(call, next, key).then(() => trace.hookPassed(key));
  };
  // The common hook (neither failOpen nor bounded) gets `next` as it is: no closure per call. On a throw it only
  // records the fail-closed verdict, and the rejection goes on up the onion.
  if (!meta.failOpen && meta.timeoutMs === undefined) {
    const closed = (run: RunState, error: unknown): never => {
      failClosed(run, meta, error, 'tool');
      throw error; // failClosed throws for a hook that is not failOpen; this line is for the type checker
    };
    return function tool_hook(call: ToolCallContext, next: () => Promise<void>): Promise<void> | void {
      const parent = call[INNER].span;
      if (parent !== undefined) return traced(call, next, parent);
      let result: unknown;
      try {
        result = fn(call as ToolCall<object, object>, next);
      } catch (error) {
        closed(runStateOf(call.runContext as never), error);
      }
      if (result instanceof Promise) return result.then(undefined, (error: unknown) => closed(runStateOf(call.runContext as never), error));
      return undefined;
    };
  }
  return function tool_hook(call: ToolCallContext, next: () => Promise<void>): Promise<void> {
    const parent = call[INNER].span;
    return parent !== undefined ? traced(call, next, parent) : guarded(call, next, meta);
  };
}

/** The onion's core: arguments checked against the schema (hooks may have edited them), then `execute`. */
function executeTool(call: ToolCallContext): Promise<void> | void {
  const inner = call[INNER];
  const tool = inner.tool;
  const checked = tool.validate(call.args);
  if (!checked.ok) return toolFailed(call, 'invalid_arguments', checked.error, undefined);
  call.args = checked.args;
  const timeoutMs = tool.timeoutMs;
  let signal = inner.signal;
  let controller: AbortController | undefined;
  if (timeoutMs !== undefined) {
    controller = new AbortController();
    signal = AbortSignal.any([inner.signal, controller.signal]);
  }
  let result: unknown;
  try {
    result = tool.execute(checked.args, { runContext: call.runContext as never, signal, callId: call.callId });
  } catch (error) {
    return toolFailed(call, 'error', errorSummary(error).message, error);
  }
  if (!isThenable(result)) {
    call.result = result;
    return undefined;
  }
  const done = (value: unknown) => void (call.result = value);
  const failed = (error: unknown) => {
    const timedOut = error instanceof ToolTimeoutError;
    if (timedOut) controller!.abort(error);
    toolFailed(call, timedOut ? 'timeout' : 'error', errorSummary(error).message, error);
  };
  if (timeoutMs === undefined) return Promise.resolve(result).then(done, failed);
  return new Promise<unknown>((resolve, reject) => {
    const timer = setTimeout(() => reject(new ToolTimeoutError(tool.name, timeoutMs)), timeoutMs);
    result.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  }).then(done, failed);
}

function toolFailed(call: ToolCallContext, reason: ToolFailureReason, message: string, cause: unknown): void {
  const inner = call[INNER];
  inner.reason = reason;
  inner.cause = cause;
  call.error = message;
  call.result = { error: message };
}

// ---------------------------------------------------------------------------------------------------------------
// One answer's calls

/** One call of a batch: its record in `RunOutput.toolCalls`, and what is still to do. */
interface Item {
  readonly record: ToolCallRecord;
  /** Run it through the onion with these (parsed, not yet validated) arguments; undefined when it is settled. */
  args?: unknown;
  run: boolean;
  /** The `tool` message's content, once settled in this process (else built from the record). */
  content?: string;
}

/**
 * The model asked for tools: record each call in its order, run those that may run, and return the calls that
 * wait for approval (empty when none). The `tool` messages are appended only once every call is settled.
 */
export function runToolCalls(run: RunState, calls: readonly ModelToolCall[]): PendingApproval[] | Promise<PendingApproval[]> {
  const setup = run.engine.tools;
  const output = run.ctx.output;
  const items: Item[] = [];
  let asking: Promise<void>[] | undefined;
  let pending: PendingApproval[] = NONE_PENDING;
  for (const call of calls) {
    const record: ToolCallRecord = { callId: call.callId, toolName: call.name, args: call.arguments, status: 'failed' };
    output.toolCalls.push(record);
    const item: Item = { record, run: false };
    items.push(item);
    // Results and approvals are matched to calls by id: a second call with an id already used cannot be answered.
    if (calls.length > 1 && items.some((i) => i !== item && i.record.callId === call.callId)) {
      failBeforeOnion(run, record, `the call id "${call.callId}" is used twice in one answer; give each call its own id`);
      continue;
    }
    const tool = setup.byName.get(call.name);
    if (tool === undefined) {
      const known = [...setup.byName.keys()].join(', ') || 'none';
      failBeforeOnion(run, record, `unknown tool "${call.name}"; the tools are: ${known}`);
      continue;
    }
    let parsed: unknown;
    try {
      // Some OpenAI-compatible servers send '' for a call without arguments: that means {}, not bad JSON.
      parsed = call.arguments === '' ? {} : JSON.parse(call.arguments);
    } catch (error) {
      failBeforeOnion(
        run,
        record,
        `Tool "${tool.name}": the arguments are not valid JSON (${jsonProblem(error)}); send one JSON object that matches the tool's parameters`,
      );
      continue;
    }
    record.args = parsed;
    item.args = parsed;
    item.run = true;
    if (tool.requiresApproval === false) continue;
    const checked = tool.validate(parsed);
    if (!checked.ok) {
      item.run = false;
      failBeforeOnion(run, record, checked.error);
      continue;
    }
    if (pending === NONE_PENDING) pending = [];
    const list = pending;
    const decide = (ask: boolean) => {
      if (ask !== true) return;
      item.run = false;
      record.args = checked.args;
      record.status = 'pending_approval';
      list.push({ callId: record.callId, toolName: record.toolName, args: checked.args });
    };
    if (tool.requiresApproval === true) decide(true);
    else (asking ??= []).push(Promise.resolve(tool.requiresApproval(checked.args, run.ctx as never)).then(decide));
  }
  const answer = (): PendingApproval[] => {
    if (pending.length === 0) appendToolMessages(run, items);
    return pending;
  };
  const settled = (): PendingApproval[] | Promise<PendingApproval[]> => {
    // The calls that wait keep the model's order in pendingApprovals.
    if (pending.length > 1) pending.sort((a, b) => indexOf(items, a.callId) - indexOf(items, b.callId));
    const running = runItems(run, items);
    return running === undefined ? answer() : running.then(answer);
  };
  return asking === undefined ? settled() : Promise.all(asking).then(settled);
}

const NONE_PENDING: PendingApproval[] = [];

function indexOf(items: readonly Item[], callId: string): number {
  return items.findIndex((i) => i.record.callId === callId);
}

/**
 * A paused answer, resumed: approved calls run through the onion, denied ones answer `denied: <reason>`; the
 * calls settled before the pause keep their results. Then every call of the answer gets its `tool` message.
 */
export async function resumeToolCalls(run: RunState, callIds: readonly string[], decisions: ReadonlyMap<string, Decision>): Promise<void> {
  const byId = new Map<string, ToolCallRecord>();
  // The first record of an id is the call; a later one with the same id was refused when it came (see runToolCalls).
  for (const r of run.ctx.output.toolCalls) if (!byId.has(r.callId)) byId.set(r.callId, r);
  const items: Item[] = [];
  for (const callId of callIds) {
    const record = byId.get(callId)!;
    const item: Item = { record, run: false };
    items.push(item);
    if (record.status !== 'pending_approval') continue;
    const decision = decisions.get(callId)!;
    if (decision.approved) {
      item.args = record.args;
      item.run = true;
      continue;
    }
    const message = `denied: ${decision.reason ?? 'not approved'}`;
    record.status = 'denied';
    record.error = message;
    if (run.wants('tool_call_started')) run.emit('tool_call_started', { runId: run.runId, toolName: record.toolName, callId });
    if (run.span !== undefined) run.span.toolRefused(record, 'denied');
    emitFailed(run, record, 'ApprovalDenied', message, 'denied');
  }
  await runItems(run, items);
  appendToolMessages(run, items);
}

/** Runs the items that may run, at most `concurrency` at once; the first fail-closed error stops the batch. */
function runItems(run: RunState, items: readonly Item[]): Promise<void> | void {
  if (items.length === 1) return items[0]!.run ? runOne(run, items[0]!, run.signal) : undefined;
  const todo = items.filter((i) => i.run);
  if (todo.length === 0) return undefined;
  if (todo.length === 1) return runOne(run, todo[0]!, run.signal);
  if (run.engine.tools.concurrency === 1) {
    return todo.reduce<Promise<void>>((chain, item) => chain.then(() => runOne(run, item, run.signal)), RESOLVED);
  }
  // Siblings of a call that failed the run are told to stop through their signal.
  const batch = new AbortController();
  const signal = AbortSignal.any([run.signal, batch.signal]);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < todo.length) await runOne(run, todo[next++]!, signal);
  };
  const workers = Array.from({ length: Math.min(run.engine.tools.concurrency, todo.length) }, worker);
  return Promise.all(workers).then(
    () => undefined,
    (error: unknown) => {
      batch.abort(error);
      throw error;
    },
  );
}

/** One call through the onion. Synchronous (no promise) when the tool and its hooks are: a sync tool without hooks. */
function runOne(run: RunState, item: Item, signal: AbortSignal): Promise<void> | void {
  const record = item.record;
  const tool = run.engine.tools.byName.get(record.toolName)!;
  const span = run.span === undefined ? undefined : run.span.toolStarted(record);
  const call = new ToolCallContext(run.ctx as never, tool, record.callId, item.args, signal, span);
  if (run.wants('tool_call_started')) run.emit('tool_call_started', { runId: run.runId, toolName: record.toolName, callId: record.callId });
  const t0 = run.wants('tool_call_completed') ? performance.now() : -1;
  let done: Promise<void> | void;
  try {
    done = run.engine.tools.onion(call as ToolCall<object, object>);
  } catch (error) {
    return hookFailed(run, record, error, span);
  }
  if (done === undefined)
    return span === undefined ? settleCall(run, item, call, signal, t0) : tracedSettle(run, item, call, signal, t0, span);
  return done.then(
    () => (span === undefined ? settleCall(run, item, call, signal, t0) : tracedSettle(run, item, call, signal, t0, span)),
    (error: unknown) => hookFailed(run, record, error, span),
  );
}

/** A tool hook's verdict or crash: the run fails closed (failClosed recorded it); the call is not answered. */
function hookFailed(run: RunState, record: ToolCallRecord, error: unknown, span: unknown): never {
  const { name, message } = errorSummary(error);
  record.error = message;
  emitFailed(run, record, name, message, 'error');
  if (span !== undefined) run.span!.toolEnded(span, record, { name, error });
  throw error;
}

/** settleCall, then the call's span ends with how it went (a tool failure the model reads is still an error there). */
function tracedSettle(run: RunState, item: Item, call: ToolCallContext, signal: AbortSignal, t0: number, span: unknown): void {
  try {
    settleCall(run, item, call, signal, t0);
  } catch (error) {
    run.span!.toolEnded(span, item.record, { name: errorSummary(error).name, error });
    throw error;
  }
  const inner = call[INNER];
  const record = item.record;
  if (record.status === 'completed') run.span!.toolEnded(span, record);
  else
    run.span!.toolEnded(span, record, {
      name: inner.reason === 'invalid_arguments' ? 'ToolArgumentsError' : errorSummary(inner.cause).name,
      error: inner.cause,
    });
}

function settleCall(run: RunState, item: Item, call: ToolCallContext, signal: AbortSignal, t0: number): void {
  if (signal.aborted) throw signal.reason;
  const record = item.record;
  record.args = call.args;
  const inner = call[INNER];
  // A hook that answered for a failed tool (a fallback value) clears `call.error`; then the call completed.
  if (inner.reason !== undefined && call.error !== undefined) {
    record.status = 'failed';
    record.error = call.error;
    const name = inner.reason === 'invalid_arguments' ? 'ToolArgumentsError' : errorSummary(inner.cause).name;
    emitFailed(run, record, name, call.error, inner.reason);
    if (run.engine.tools.toolErrors === 'fail')
      throw new ToolCallError(record.toolName, record.callId, inner.reason, call.error, inner.cause);
    return;
  }
  const result = call.result;
  let content: string;
  try {
    content = typeof result === 'string' ? result : (JSON.stringify(result) ?? 'null');
  } catch (error) {
    const message = `the result cannot be sent to the model as JSON (${errorSummary(error).message}); return plain JSON data`;
    record.status = 'failed';
    record.error = message;
    emitFailed(run, record, 'TypeError', message, 'error');
    if (run.engine.tools.toolErrors === 'fail') throw new ToolCallError(record.toolName, record.callId, 'error', message, error);
    return;
  }
  item.content = content;
  record.status = 'completed';
  // As the tool returned it: it passed JSON.stringify above, and a store keeps it as JSON.
  record.result = result;
  if (t0 >= 0) {
    run.emit('tool_call_completed', {
      runId: run.runId,
      toolName: record.toolName,
      callId: record.callId,
      durationMs: performance.now() - t0,
    });
  }
}

/** The model's own mistake (an unknown tool, bad JSON, a schema miss before approval): answered without the onion. */
function failBeforeOnion(run: RunState, record: ToolCallRecord, message: string): void {
  record.status = 'failed';
  record.error = message;
  if (run.wants('tool_call_started')) run.emit('tool_call_started', { runId: run.runId, toolName: record.toolName, callId: record.callId });
  if (run.span !== undefined) run.span.toolRefused(record, 'invalid_arguments');
  emitFailed(run, record, 'ToolArgumentsError', message, 'invalid_arguments');
  if (run.engine.tools.toolErrors === 'fail') throw new ToolCallError(record.toolName, record.callId, 'invalid_arguments', message);
}

function emitFailed(run: RunState, record: ToolCallRecord, name: string, message: string, reason: ToolFailureReason): void {
  if (!run.wants('tool_call_failed')) return;
  run.emit('tool_call_failed', { runId: run.runId, toolName: record.toolName, callId: record.callId, error: { name, message }, reason });
}

function appendToolMessages(run: RunState, items: readonly Item[]): void {
  for (const item of items) run.record({ role: 'tool', toolCallId: item.record.callId, content: item.content ?? toolMessage(item.record) });
}

/** What the model reads for a call: its result as JSON (a string as it is), or `{ "error": … }`. */
export function toolMessage(record: ToolCallRecord): string {
  if (record.status !== 'completed') return JSON.stringify({ error: record.error ?? 'failed' });
  const result = record.result;
  if (typeof result === 'string') return result;
  return JSON.stringify(result) ?? 'null';
}
