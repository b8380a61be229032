/**
 * OpenAI chat messages → the agent's `ChatMessage`s: system, developer, user and assistant text (string or text
 * and image parts). Tool messages and assistant tool calls are refused: the agent runs its own tools.
 */
import type { ChatMessage, ContentPart } from '../../types.ts';
import { badField } from '../http/errors.ts';

const ROLES = new Set(['system', 'developer', 'user', 'assistant']);

export function toChatMessages(messages: unknown[]): ChatMessage[] {
  return messages.map((m, i) => {
    const where = `messages[${i}]`;
    if (m === null || typeof m !== 'object' || Array.isArray(m)) throw badField(where, 'an object { role, content }');
    const { role, content, name } = m as { role?: unknown; content?: unknown; name?: unknown };
    if (typeof role !== 'string' || !ROLES.has(role)) {
      throw badField(`${where}.role`, "'system', 'developer', 'user' or 'assistant' (this endpoint runs the agent's own tools)");
    }
    const message: ChatMessage = { role: role as ChatMessage['role'], content: toContent(content, `${where}.content`) };
    if (typeof name === 'string' && name !== '') message.name = name;
    return message;
  });
}

function toContent(content: unknown, where: string): string | ContentPart[] {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content) || content.length === 0) throw badField(where, 'a string or a non-empty array of text and image_url parts');
  return content.map((part: unknown, p) => {
    const x = part as { type?: unknown; text?: unknown; image_url?: { url?: unknown; detail?: unknown } } | null;
    if (x?.type === 'text' && typeof x.text === 'string') return { type: 'text', text: x.text };
    if (x?.type === 'image_url' && typeof x.image_url?.url === 'string') {
      const image: { url: string; detail?: 'auto' | 'low' | 'high' } = { url: x.image_url.url };
      if (x.image_url.detail === 'auto' || x.image_url.detail === 'low' || x.image_url.detail === 'high') image.detail = x.image_url.detail;
      return { type: 'image_url', image_url: image };
    }
    throw badField(`${where}[${p}]`, "{ type: 'text', text } or { type: 'image_url', image_url: { url } }");
  });
}
