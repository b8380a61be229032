/** What the loopback and guardrail-stack benchmarks share: a 1 KB prompt, a reply, the example's guardrail stack. */
import { PIIDetectionGuardrail, PromptInjectionGuardrail, type PostHook, type PreHook } from 'hookchain';

/** A flat string (a concatenated one is a rope, slower to read until flattened). */
export const flat = (s: string): string => Buffer.from(s, 'utf8').toString('utf8');

function sized(sentences: string[], bytes: number): string {
  let text = '';
  for (let i = 0; text.length < bytes; i++) text += (text ? ' ' : '') + sentences[i % sentences.length]!;
  return flat(text.slice(0, bytes));
}

/** A 1,024-character support request: benign, one e-mail address (so the PII mask has something to do). */
export const PROMPT_1K = sized(
  [
    'Hi, I ordered a pair of running shoes last Tuesday and the tracking page has said "label created" ever since.',
    'Could you check whether the parcel actually left your warehouse, and if not, when it will?',
    'You can reach me at jane.doe@example.com if anything is unclear.',
    'I also wanted to ask about your return policy: the size chart suggested a 42, but I usually wear a 43.',
    'If I need to exchange them, do I pay for the return shipping, and how long does a refund take to appear?',
    'Thanks a lot for your help, and sorry for the long message; the order was a birthday present for my brother.',
  ],
  1_024,
);

/** A 1 KB answer without PII, as a support model would write. */
export const REPLY_1K = sized(
  [
    'Thanks for reaching out, and sorry about the delay.',
    'I checked the order: the parcel was handed to the carrier this morning and should arrive within three working days.',
    'Exchanges are free within thirty days; print the prepaid label from your account page and drop the box at any post office.',
    'Refunds appear on your statement three to five working days after the warehouse receives the return.',
    'Is there anything else I can help you with today?',
  ],
  1_024,
);

/** The guardrails of examples/support-agent.ts: injection and PII mask on the input, PII mask on the output. */
export function exampleStack(): { preHooks: PreHook[]; postHooks: PostHook[] } {
  return {
    preHooks: [new PromptInjectionGuardrail({ name: 'injection' }), new PIIDetectionGuardrail({ maskPii: true, name: 'pii-in' })],
    postHooks: [new PIIDetectionGuardrail({ maskPii: true, name: 'pii-out' })],
  };
}
