/**
 * One traced run: its root span (`invoke_agent <agent>`) and the spans under it — a span per hook (`hook <name>`),
 * per model call (`chat <model>`) and per tool call (`execute_tool <tool>`). Every child is started with the run's
 * context passed explicitly (no context manager, no AsyncLocalStorage).
 *
 * What never goes into a span: message content unless `captureContent` (and then only what passed every check:
 * a failed run records none), verdict messages, and the text a check blocked.
 */
import type * as Api from '@opentelemetry/api';
import { errorSummary, isCheckError } from '../errors.ts';
import type { ModelUsage } from '../models/model.ts';
import type { ChatMessage, RunErrorInfo, RunOutput, ToolCallRecord } from '../types.ts';
import { A, SPAN_KIND_CLIENT, SPAN_KIND_INTERNAL, STATUS_ERROR } from './attributes.ts';
import type { HookOutcome, SpanContextLike } from './types.ts';

/** What a run's spans need of the agent's tracing (tracing.ts implements it). */
export interface TraceSetup {
  readonly api: typeof Api;
  readonly tracer: Api.Tracer;
  readonly captureContent: boolean;
}

/** What a hook span is started for: the compiled hook (or, for a tool hook, one call of it). */
export interface TracedHook {
  readonly name: string;
  readonly kind?: string;
}

export type HookSpanPhase = 'pre' | 'post' | 'chunk' | 'tool';

export class RunTrace {
  private readonly tracing: TraceSetup;
  private readonly root: Api.Span;
  /** The run's context: the caller's, with the root span set. Every child span is started under it. */
  private readonly ctx: Api.Context;
  /** Hook spans still open, by the hook (each hook runs once at a time in a run). */
  private readonly open = new Map<TracedHook, Api.Span>();
  /** The model call under way (the loop makes one at a time). */
  private chat: Api.Span | undefined = undefined;
  private ended = false;

  constructor(tracing: TraceSetup, root: Api.Span, ctx: Api.Context) {
    this.tracing = tracing;
    this.root = root;
    this.ctx = ctx;
  }

  /** The root span's identity, for the run's background hooks to link to. */
  link(): SpanContextLike {
    return this.root.spanContext();
  }

  // --- hooks -------------------------------------------------------------------------------------------------

  hookStarted(hook: TracedHook, phase: HookSpanPhase, parent?: unknown): void {
    const ctx = parent === undefined ? this.ctx : this.tracing.api.trace.setSpan(this.ctx, parent as Api.Span);
    this.open.set(hook, this.tracing.tracer.startSpan(`hook ${hook.name}`, hookSpanOptions(hook, phase), ctx));
  }

  /** The hook has passed (or its span was already ended by a failure it survived). */
  hookPassed(hook: TracedHook): void {
    const span = this.open.get(hook);
    if (span === undefined) return;
    this.open.delete(hook);
    span.setAttributes({ [A.outcome]: 'passed', [A.verdict]: 'allow', [A.action]: 'allow' });
    span.end();
  }

  /**
   * The hook failed: a verdict (`blocked`, or a shadow verdict, reported as passed), a crash the run survived
   * (`failed_open`) or one that ended it (`error`). A chunk check has no open span: it gets one now, under the
   * model call whose text it checked.
   */
  hookFailed(hook: TracedHook, phase: HookSpanPhase, outcome: HookOutcome, error: unknown, flags?: 'shadow' | 'retry'): void {
    let span = this.open.get(hook);
    if (span === undefined) {
      const ctx = this.chat === undefined ? this.ctx : this.tracing.api.trace.setSpan(this.ctx, this.chat);
      span = this.tracing.tracer.startSpan(`hook ${hook.name}`, hookSpanOptions(hook, phase), ctx);
    } else {
      this.open.delete(hook);
    }
    const verdict = isCheckError(error);
    span.setAttribute(A.outcome, outcome);
    if (verdict) {
      span.setAttributes({
        [A.checkTrigger]: error.checkTrigger,
        [A.verdictCode]: error.checkTrigger,
        [A.verdict]: 'deny',
        [A.action]: flags === 'shadow' ? 'allow' : 'block',
      });
      if (flags !== undefined) span.setAttribute(flags === 'shadow' ? A.shadow : A.retry, true);
    } else {
      this.errorStatus(span, errorSummary(error).name, error);
    }
    span.end();
  }

  // --- model calls -------------------------------------------------------------------------------------------

  modelStarted(model: string, step: number): void {
    this.chat = this.tracing.tracer.startSpan(
      `chat ${model}`,
      { kind: SPAN_KIND_CLIENT, attributes: { [A.operation]: 'chat', [A.requestModel]: model, [A.step]: step } },
      this.ctx,
    );
  }

  modelAnswered(answeredBy: string, usage: ModelUsage | undefined): void {
    const span = this.chat;
    if (span === undefined) return;
    this.chat = undefined;
    span.setAttribute(A.responseModel, answeredBy);
    if (usage !== undefined) span.setAttributes({ [A.inputTokens]: usage.inputTokens, [A.outputTokens]: usage.outputTokens });
    span.end();
  }

  /** The call failed; `ownFailure` is false when a check stopped it (a chunk check's verdict inside the stream). */
  modelFailed(error: unknown, ownFailure: boolean): void {
    const span = this.chat;
    if (span === undefined) return;
    this.chat = undefined;
    if (ownFailure) this.errorStatus(span, errorSummary(error).name, error);
    span.end();
  }

  // --- tool calls --------------------------------------------------------------------------------------------

  toolStarted(record: ToolCallRecord): Api.Span {
    return this.tracing.tracer.startSpan(
      `execute_tool ${record.toolName}`,
      {
        kind: SPAN_KIND_INTERNAL,
        attributes: {
          [A.operation]: 'execute_tool',
          [A.toolName]: record.toolName,
          [A.toolCallId]: record.callId,
          [A.toolType]: 'function',
        },
      },
      this.ctx,
    );
  }

  /** The call is settled: `record.status` says how. Content only for a completed call, and only when captured. */
  toolEnded(span: unknown, record: ToolCallRecord, failure?: { name: string; error: unknown }): void {
    const s = span as Api.Span;
    s.setAttribute(A.toolStatus, record.status);
    if (failure !== undefined) {
      this.errorStatus(s, failure.name, failure.error);
    } else if (record.status === 'completed' && this.tracing.captureContent) {
      s.setAttributes({ [A.toolArguments]: json(record.args), [A.toolResult]: json(record.result) });
    }
    s.end();
  }

  /** A call settled without running (unknown tool, bad arguments, denied): an instant span. */
  toolRefused(record: ToolCallRecord, reason: string): void {
    const span = this.toolStarted(record);
    span.setAttribute(A.toolStatus, record.status);
    span.setAttribute(A.errorType, reason);
    span.setStatus({ code: STATUS_ERROR, message: reason });
    span.end();
  }

  // --- the end of the run ------------------------------------------------------------------------------------

  completed(output: RunOutput, instructions: string | undefined): void {
    const root = this.end();
    if (root === undefined) return;
    this.usage(root, output);
    root.setAttribute(A.runStatus, output.status);
    if (output.model !== undefined) root.setAttribute(A.responseModel, output.model);
    if (this.tracing.captureContent) {
      root.setAttribute(A.inputMessages, json(inputMessages(output.input.inputContent)));
      if (instructions !== undefined) root.setAttribute(A.systemInstructions, json([{ type: 'text', content: instructions }]));
      if (output.content !== undefined) {
        root.setAttribute(
          A.outputMessages,
          json([{ role: 'assistant', parts: [{ type: 'text', content: output.content }], finish_reason: 'stop' }]),
        );
      }
    }
    root.end();
  }

  paused(output: RunOutput): void {
    const root = this.end();
    if (root === undefined) return;
    this.usage(root, output);
    root.setAttributes({ [A.runStatus]: 'paused', [A.pendingApprovals]: output.pendingApprovals?.length ?? 0 });
    root.end();
  }

  /** A blocked or failed run: status ERROR, its verdict as `error.type` and check trigger; no content at all. */
  failed(output: RunOutput, info: RunErrorInfo, error: unknown): void {
    const root = this.end();
    if (root === undefined) return;
    this.usage(root, output);
    root.setAttributes({ [A.runStatus]: output.status, [A.errorType]: info.type });
    if (info.checkTrigger !== undefined) root.setAttribute(A.checkTrigger, info.checkTrigger);
    if (info.hookName !== undefined) root.setAttribute(A.failedHook, info.hookName);
    const message = info.checkTrigger === undefined ? info.name : `${info.name} (${info.checkTrigger})`;
    root.setStatus({
      code: STATUS_ERROR,
      message: this.tracing.captureContent && !isCheckError(error) ? `${message}: ${info.message}` : message,
    });
    root.end();
  }

  /** Closes what is still open (a model call cut short, parallel hooks cancelled by a sibling's verdict). */
  private end(): Api.Span | undefined {
    if (this.ended) return undefined;
    this.ended = true;
    if (this.chat !== undefined) {
      this.chat.end();
      this.chat = undefined;
    }
    for (const span of this.open.values()) {
      span.setAttribute(A.cancelled, true);
      span.end();
    }
    this.open.clear();
    return this.root;
  }

  private usage(root: Api.Span, output: RunOutput): void {
    const m = output.metrics;
    root.setAttributes({ [A.inputTokens]: m.inputTokens, [A.outputTokens]: m.outputTokens });
  }

  /** ERROR with the error's class as `error.type`; its message only under captureContent (it may quote content). */
  private errorStatus(span: Api.Span, name: string, error: unknown): void {
    span.setAttribute(A.errorType, name);
    span.setStatus({
      code: STATUS_ERROR,
      message: this.tracing.captureContent && !isCheckError(error) ? `${name}: ${errorSummary(error).message}` : name,
    });
  }
}

function hookSpanOptions(hook: TracedHook, phase: HookSpanPhase): Api.SpanOptions {
  const background = hook.kind === 'background';
  const attributes: Api.Attributes = {
    [A.hookName]: hook.name,
    [A.phase]: phase,
    [A.kind]: phase === 'tool' ? 'tool' : (hook.kind ?? 'function'),
  };
  if (!background) {
    // An inline hook can stop the run: a guardrail in the terms of the GenAI guardrail proposal.
    attributes[A.operation] = 'run_guardrail';
    attributes[A.guardrailName] = hook.name;
    attributes[A.guardrailTarget] = phase === 'pre' ? 'input' : 'output';
    attributes[A.guardrailSubtype] = phase === 'tool' ? 'tool_call' : 'llm';
  }
  return { kind: SPAN_KIND_INTERNAL, attributes };
}

function json(value: unknown): string {
  try {
    return typeof value === 'string' ? value : (JSON.stringify(value) ?? 'null');
  } catch {
    return '"[unserializable]"';
  }
}

/** The run's input in the GenAI conventions' message shape: `[{ role, parts: [{ type: 'text', content }] }]`. */
function inputMessages(content: string | ChatMessage[]): unknown[] {
  if (typeof content === 'string') return [{ role: 'user', parts: [{ type: 'text', content }] }];
  return content.map((m) => ({
    role: m.role,
    parts:
      typeof m.content === 'string'
        ? [{ type: 'text', content: m.content }]
        : m.content.map((p) =>
            p.type === 'text' ? { type: 'text', content: p.text } : { type: 'uri', modality: 'image', uri: p.image_url.url },
          ),
  }));
}
