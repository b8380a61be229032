/**
 * Per-run streaming state: the release pipeline from model deltas to `content` events, the text the checks
 * cleared (`checkedText`, which becomes `runOutput.content` for the post-hooks), and the gate that holds text
 * back while a post-hook guardrail without a chunk check still has to see the whole output.
 */
import type { RunContextImpl } from '../context.ts';
import type { AgentEventName, AgentEvents, RunEvent } from '../events/types.ts';
import type { CompiledHook } from '../hooks/compile.ts';
import { isThenable } from '../hooks/run-hook.ts';
import type { EventQueue } from './event-queue.ts';
import { ReleasePipeline } from './release.ts';

export class StreamState {
  readonly controller = new AbortController();
  readonly signal: AbortSignal = this.controller.signal;
  checkedText = '';
  private pipeline: ReleasePipeline | undefined;
  private ctx: RunContextImpl | undefined;
  private readonly queue: EventQueue;
  private readonly gated: boolean;
  private readonly chunkHooks: CompiledHook[];
  private held = '';

  constructor(queue: EventQueue, postHooks: readonly CompiledHook[]) {
    this.queue = queue;
    this.chunkHooks = postHooks.filter((h) => h.chunk !== undefined);
    this.gated = postHooks.some((h) => h.gatesStream);
  }

  attach(ctx: RunContextImpl): void {
    this.ctx = ctx;
    if (this.chunkHooks.length > 0) this.pipeline = new ReleasePipeline(this.chunkHooks, ctx);
  }

  push<K extends AgentEventName>(event: K, payload: AgentEvents[K]): void {
    this.queue.push({ type: event, ...payload } as RunEvent);
  }

  /** A model delta: through the chunk checks, then out (or into the gate). Waits while the consumer is behind. */
  write(delta: string): void | Promise<void> {
    const cleared = this.pipeline === undefined ? delta : this.pipeline.push(delta, false);
    if (isThenable(cleared)) return (cleared as Promise<string>).then((text) => this.out(text));
    return this.out(cleared as string);
  }

  /** The model's stream has ended: checks release what they held (final call). */
  endOfModel(): void | Promise<void> {
    if (this.pipeline === undefined) return undefined;
    const cleared = this.pipeline.push('', true);
    if (isThenable(cleared)) return (cleared as Promise<string>).then((text) => void this.out(text));
    void this.out(cleared as string);
    return undefined;
  }

  /** The post-hooks passed: the gate opens. */
  releaseHeld(): void {
    const text = this.held;
    this.held = '';
    if (text !== '') this.emitDelta(text);
  }

  /** The run failed: nothing held may leave. */
  discard(): void {
    this.held = '';
  }

  private out(text: string): void | Promise<void> {
    if (text === '') return undefined;
    this.checkedText += text;
    if (this.gated) this.held += text;
    else this.emitDelta(text);
    return this.queue.room();
  }

  /** The hottest event of a stream: one object serves the consumer and the agent's listeners. */
  private emitDelta(delta: string): void {
    const ctx = this.ctx!;
    const event = { type: 'content' as const, runId: ctx.runId, delta };
    this.queue.push(event);
    if (ctx.agent.hasListeners('content')) ctx.agent.emit('content', event);
  }
}
