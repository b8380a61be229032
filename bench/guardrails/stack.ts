/**
 * Per-prompt cost of each guardrail and of the example's stack (examples/support-agent.ts: injection check and PII
 * masking as pre-hooks, PII masking as a post-hook), called the way the agent calls them: `check(args)` on one
 * prompt of about 1 KB of chat text in, and a reply of the same size out. No model, no agent: what is left is what
 * the guardrails themselves add to a run. Median over rounds of the mean over all prompts (shared machine).
 */
import { median, type Row } from '../harness.ts';
import type { BaseGuardrail } from '../../lib/guardrails/base.ts';
import { PIIDetectionGuardrail } from '../../lib/guardrails/pii.ts';
import { PromptInjectionGuardrail } from '../../lib/guardrails/injection.ts';
import type { HookArgs } from '../../lib/types.ts';

/** About 1 KB prompts cut from `text` at line ends (so each reads like one message), flat strings. */
export function prompts(text: string, count: number, size = 1024): string[] {
  const out: string[] = [];
  let at = 0;
  while (out.length < count && at < text.length) {
    let end = text.indexOf('\n', at + size);
    if (end === -1 || end - at > 2 * size) end = at + size;
    out.push(Buffer.from(text.slice(at, end), 'utf8').toString('utf8'));
    at = end + 1;
  }
  return out;
}

const pre = (inputContent: string) => ({ phase: 'pre', runInput: { inputContent }, runContext: {} }) as unknown as HookArgs;
const post = (content: string) => ({ phase: 'post', runOutput: { content }, runContext: {} }) as unknown as HookArgs;

interface Step {
  guard: BaseGuardrail;
  phase: 'pre' | 'post';
}

/** Mean µs per prompt of running `steps` in order over every prompt (the post steps read the same text as output). */
function perPrompt(steps: Step[], texts: string[], rounds: number): number {
  const once = () => {
    const t = performance.now();
    for (const text of texts) {
      // A verdict (a benign prompt the injection rules flag) ends the stack for that prompt, as in a run.
      try {
        for (const s of steps) void s.guard.check(s.phase === 'pre' ? pre(text) : post(text));
      } catch {
        continue;
      }
    }
    return ((performance.now() - t) * 1000) / texts.length;
  };
  once();
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) times.push(once());
  return median(times);
}

export function stackRows(chat: string, rounds = 15): Row[] {
  const texts = prompts(chat, 2000);
  const bytes = texts.reduce((n, t) => n + t.length, 0) / texts.length;
  const injection = new PromptInjectionGuardrail();
  const masking = new PIIDetectionGuardrail({ maskPii: true });
  const rows: [string, Step[], number][] = [
    ['PromptInjectionGuardrail (pre)', [{ guard: injection, phase: 'pre' }], 1],
    ['PIIDetectionGuardrail, masking (pre)', [{ guard: masking, phase: 'pre' }], 1],
    [
      "the example's stack: injection + masking (pre), masking (post)",
      [
        { guard: injection, phase: 'pre' },
        { guard: masking, phase: 'pre' },
        { guard: masking, phase: 'post' },
      ],
      2,
    ],
  ];
  return rows.map(([name, steps, reads]) => {
    const us = perPrompt(steps, texts, rounds);
    return {
      guardrails: name,
      'µs per 1 KB prompt': us.toFixed(1),
      'MB/s': ((bytes * reads) / us).toFixed(0),
    };
  });
}
