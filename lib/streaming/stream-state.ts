/**
 * Per-run streaming state: the release pipeline from model deltas to `content` events, the text the checks
 * cleared (`checkedText`, which becomes `runOutput.content` for the post-hooks), and the gate that holds text
 * back while a post-hook guardrail without a chunk check still has to see the whole output.
 */
import type { SafeEmitter } from '../events/emitter.ts';
import type { AgentEventName, AgentEvents, RunEvent } from '../events/types.ts';
import type { ChunkCheckArgs } from '../guardrails/base.ts';
import type { CompiledHook } from '../hooks/compile.ts';
import { isThenable, type HookRun } from '../hooks/run-hook.ts';
import type { EventQueue } from './event-queue.ts';
import { ReleasePipeline } from './release.ts';

export class StreamState {
  readonly controller = new AbortController();
  readonly signal: AbortSignal = this.controller.signal;
  checkedText = '';
  private pipeline: ReleasePipeline | undefined;
  private runId = '';
  private emitter: SafeEmitter<AgentEvents> | undefined;
  private readonly queue: EventQueue;
  private gated: boolean;
  private readonly gates: readonly CompiledHook[];
  private chunkHooks: readonly CompiledHook[];
  /** A high surrogate that ended the last delta: never released (or checked) without its other half. */
  private split = '';
  private held = false;

  constructor(queue: EventQueue, postHooks: readonly CompiledHook[]) {
    this.queue = queue;
    this.chunkHooks = postHooks.filter((h) => h.chunk !== undefined);
    this.gates = postHooks.filter((h) => h.gatesStream);
    this.gated = this.gates.length > 0;
  }

  attach(run: HookRun, runContext: ChunkCheckArgs['runContext'], emitter: SafeEmitter<AgentEvents>): void {
    this.runId = run.runId;
    this.emitter = emitter;
    // Hooks sampled out of this run neither check its chunks nor hold its stream.
    if (this.chunkHooks.some((h) => h.sampleRate < 1)) this.chunkHooks = this.chunkHooks.filter((h) => run.sampled(h.sampleRate));
    if (this.gated) this.gated = this.gates.some((h) => run.sampled(h.sampleRate));
    if (this.chunkHooks.length > 0) this.pipeline = new ReleasePipeline(this.chunkHooks, run, runContext);
  }

  push<K extends AgentEventName>(event: K, payload: AgentEvents[K]): void {
    this.queue.push({ type: event, ...payload } as RunEvent);
  }

  /** A model delta: through the chunk checks, then out (or into the gate). Waits while the consumer is behind. */
  write(delta: string): void | Promise<void> {
    if (this.split !== '') {
      delta = this.split + delta;
      this.split = '';
    }
    const last = delta.charCodeAt(delta.length - 1);
    if (last >= 0xd800 && last <= 0xdbff) {
      this.split = delta.slice(-1);
      delta = delta.slice(0, -1);
      if (delta === '') return undefined;
    }
    const cleared = this.pipeline === undefined ? delta : this.pipeline.push(delta, false);
    if (isThenable(cleared)) return (cleared as Promise<string>).then((text) => this.out(text));
    return this.out(cleared as string);
  }

  /**
   * True when no checked text has reached the consumer yet because a gating post-hook holds it all: only then may a
   * rejected answer be replaced by another (an output retry).
   */
  get holdsText(): boolean {
    return this.gated;
  }

  /** The model's stream has ended: checks release what they held (final call). */
  endOfModel(): void | Promise<void> {
    const rest = this.split;
    this.split = '';
    if (this.pipeline === undefined) {
      if (rest !== '') void this.out(rest);
      return undefined;
    }
    const cleared = this.pipeline.push(rest, true);
    if (isThenable(cleared)) return (cleared as Promise<string>).then((text) => void this.out(text));
    void this.out(cleared as string);
    return undefined;
  }

  /**
   * The post-hooks passed: the gate opens on what they left (a gating guardrail may have masked the text), never on
   * the raw model text it held.
   */
  releaseHeld(finalText: string | undefined): void {
    if (!this.held) return;
    this.held = false;
    if (finalText !== undefined && finalText !== '') this.emitDelta(finalText);
  }

  /** The run failed: nothing held may leave. */
  discard(): void {
    this.held = false;
  }

  private out(text: string): void | Promise<void> {
    if (text === '') return undefined;
    this.checkedText += text;
    if (this.gated) this.held = true;
    else this.emitDelta(text);
    return this.queue.room();
  }

  /** The hottest event of a stream: one object serves the consumer and the agent's listeners. */
  private emitDelta(delta: string): void {
    const event = { type: 'content' as const, runId: this.runId, delta };
    this.queue.push(event);
    if (this.emitter!.hasListeners('content')) this.emitter!.emit('content', event);
  }
}
