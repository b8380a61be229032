/**
 * Test helpers: hand-built hook arguments, and a driver that calls `checkChunk` exactly as the framework's release
 * buffer does (held text first in line, `released` window, a final call that may hold nothing).
 */
import type { BaseGuardrail, ChunkCheckResult } from '../../lib/guardrails/base.ts';
import type { ChatMessage, HookArgs, PostHookArgs, PreHookArgs, RunContext } from '../../lib/types.ts';

export function preArgs(inputContent: string | ChatMessage[], runContext: object = {}): PreHookArgs {
  return { phase: 'pre', runInput: { inputContent }, runContext } as unknown as PreHookArgs;
}

export function postArgs(content: string | undefined, runContext: object = {}): PostHookArgs {
  return { phase: 'post', runOutput: { content }, runContext } as unknown as PostHookArgs;
}

export function contentOf(args: HookArgs): unknown {
  return args.phase === 'pre' ? args.runInput.inputContent : args.runOutput.content;
}

export interface DriveResult {
  /** What each call released, in order. */
  releases: string[];
  released: string;
  /** The error a check threw, if any; `released` is what had left before it. */
  error?: unknown;
}

/** Feeds `deltas` to `guardrail.checkChunk` and then a final call, as the release buffer does. */
export async function driveChunks(guardrail: BaseGuardrail, deltas: readonly string[], runContext: object = {}): Promise<DriveResult> {
  const releases: string[] = [];
  let pending = '';
  let window = '';
  const lookBehind = guardrail.chunkLookBehind;
  const calls = deltas.map((delta) => ({ delta, final: false })).concat([{ delta: '', final: true }]);
  try {
    for (const { delta, final } of calls) {
      const text = pending + delta;
      if (text === '' && !final) continue;
      const verdict = (await guardrail.checkChunk!({
        text,
        released: window,
        final,
        runContext: runContext as RunContext,
      })) as ChunkCheckResult | void;
      const out = verdict && typeof verdict.text === 'string' ? verdict.text : text;
      let hold = final || !verdict || verdict.hold === undefined ? 0 : Math.floor(verdict.hold);
      hold = Math.max(0, Math.min(hold, out.length));
      const release = out.slice(0, out.length - hold);
      pending = out.slice(out.length - hold);
      releases.push(release);
      if (lookBehind > 0) window = (window + release).slice(-lookBehind);
    }
  } catch (error) {
    return { releases, released: releases.join(''), error };
  }
  return { releases, released: releases.join('') };
}

/** Cuts `text` at the given (sorted, deduplicated) offsets. */
export function cutAt(text: string, offsets: readonly number[]): string[] {
  const points = [...new Set(offsets.map((o) => Math.max(0, Math.min(text.length, o))))].sort((a, b) => a - b);
  const out: string[] = [];
  let last = 0;
  for (const p of points) {
    out.push(text.slice(last, p));
    last = p;
  }
  out.push(text.slice(last));
  return out;
}

/** No half of a surrogate pair without its other half (`String.prototype.isWellFormed`, not in the ES2022 lib). */
export function isWellFormed(text: string): boolean {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
}
