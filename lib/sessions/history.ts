/**
 * The earlier turns of a session that go to the model before the new input (`addHistoryToContext`). Built from the
 * stored runs, so the model sees each earlier input as the pre-hooks left it (masked PII stays masked).
 */
import type { ChatMessage, RunOutput } from '../types.ts';

/** The last `limit` runs that have something to say, oldest first, as user and assistant messages. */
export function sessionHistory(runs: readonly RunOutput[], limit: number): ChatMessage[] | undefined {
  let from = runs.length;
  let taken = 0;
  while (from > 0 && taken < limit) {
    if (contributes(runs[--from]!)) taken++;
  }
  if (taken === 0) return undefined;
  const messages: ChatMessage[] = [];
  for (let i = from; i < runs.length; i++) {
    const run = runs[i]!;
    if (!contributes(run)) continue;
    const content = run.input.inputContent;
    if (typeof content === 'string') messages.push({ role: 'user', content });
    else for (const m of content) if (m.role === 'user' || m.role === 'assistant') messages.push(m);
    // A failed run has no answer (its content was removed); its question still gives the next turn context.
    if (run.status === 'completed' && typeof run.content === 'string') {
      // The tools it called, and what they answered, come before its answer, as the model saw them.
      for (const m of toolTurns(run)) messages.push(m);
      messages.push({ role: 'assistant', content: run.content });
    }
  }
  return messages;
}

/**
 * The run's own tool-call messages: the block of assistant tool-call and `tool` messages just before its answer
 * (the loop appends them after the input, and the answer after them).
 */
function toolTurns(run: RunOutput): readonly ChatMessage[] {
  if (run.toolCalls === undefined || run.toolCalls.length === 0) return [];
  const messages = run.messages;
  const end = messages.length - 1; // the answer
  let from = end;
  while (from > 0 && (messages[from - 1]!.role === 'tool' || messages[from - 1]!.toolCalls !== undefined)) from--;
  return messages.slice(from, end);
}

/**
 * An input that a guardrail rejected stays out: sending it as history would hand the model the very text the
 * guardrail stopped. Every other run counts, failed or cancelled.
 */
function contributes(run: RunOutput): boolean {
  return run.error?.type !== 'input_check_error';
}
