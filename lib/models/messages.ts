/** What the model is sent: instructions, then (with history on) earlier turns, then the input as the pre-hooks left it. */
import type { ChatMessage, RunInput } from '../types.ts';

export function buildMessages(instructions: string | undefined, history: ChatMessage[] | undefined, input: RunInput): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (instructions !== undefined) messages.push({ role: 'system', content: instructions });
  if (history !== undefined) for (const m of history) messages.push(m);
  const content = input.inputContent;
  if (typeof content === 'string') messages.push({ role: 'user', content });
  else for (const m of content) messages.push(m);
  return messages;
}
