/**
 * Reading and rewriting the text a guardrail checks, without changing its shape.
 *
 * Input is a string or chat messages; output is a string. Agno turns messages into their JSON dump before
 * masking (ids and roles included) and hands that string to the model; here text is read and rewritten where it
 * lives — a message's string content or the `text` of its parts — and everything else (roles, names, image parts)
 * is left exactly as it was.
 */
import type { ChatMessage, ContentPart, HookArgs } from '../types.ts';

/** The content a guardrail checks: the input (a string or chat messages) or the output (a string). */
export type CheckedContent = string | ChatMessage[];

/** Where one piece of text came from: the whole string, or a message (and part) of a message array. */
export interface TextLocation {
  /** Index of the message in the message array; undefined for a plain string. */
  messageIndex?: number;
  /** Index of the text part in that message's `content`; undefined when the content is a string. */
  partIndex?: number;
}

/** One checked piece of text and where it came from. */
export interface TextSegment extends TextLocation {
  /** The text itself. */
  text: string;
}

/**
 * Every message is checked, `system` and `developer` ones too: they arrive in the run's input like the rest, so a
 * caller (or whoever shapes the input) could otherwise carry anything past the guardrails in a system message.
 */
/** The content this guardrail checks in this phase: the run's input for a pre-hook, its output for a post-hook. */
export function readTarget(args: HookArgs): CheckedContent | undefined {
  if (args.phase === 'pre') return args.runInput.inputContent;
  return args.runOutput.content;
}

/** Writes back a rewritten string (message arrays are rewritten in place and need no write). */
export function writeTarget(args: HookArgs, value: CheckedContent): void {
  if (args.phase === 'pre') {
    if (args.runInput.inputContent !== value) args.runInput.inputContent = value;
  } else if (typeof value === 'string' && args.runOutput.content !== value) {
    args.runOutput.content = value;
  }
}

/** Every checked piece of text, in order. Image parts are skipped (see `imageUrls`). */
export function textSegments(content: CheckedContent | undefined): TextSegment[] {
  if (typeof content === 'string') return [{ text: content }];
  if (!Array.isArray(content)) return [];
  const out: TextSegment[] = [];
  content.forEach((message, messageIndex) => {
    if (!isMessage(message)) return;
    if (typeof message.content === 'string') {
      out.push({ text: message.content, messageIndex });
      return;
    }
    if (!Array.isArray(message.content)) return;
    message.content.forEach((part, partIndex) => {
      if (hasText(part)) out.push({ text: part.text, messageIndex, partIndex });
    });
  });
  return out;
}

/** Image URLs (or data URLs) of the checked messages, for checks that can see images. */
export function imageUrls(content: CheckedContent | undefined): string[] {
  if (!Array.isArray(content)) return [];
  const urls: string[] = [];
  for (const message of content) {
    if (!isMessage(message) || !Array.isArray(message.content)) continue;
    for (const part of message.content) {
      if (part?.type === 'image_url' && typeof part.image_url?.url === 'string') urls.push(part.image_url.url);
    }
  }
  return urls;
}

/**
 * Rewrites every checked piece of text with `rewrite`. A string comes back as a new string; a message array is
 * edited in place (only the text that changed is assigned) and returned as the same array.
 */
export function rewriteText(content: CheckedContent, rewrite: (text: string) => string): CheckedContent {
  if (typeof content === 'string') return rewrite(content);
  for (const message of content) {
    if (!isMessage(message)) continue;
    if (typeof message.content === 'string') {
      const next = rewrite(message.content);
      if (next !== message.content) message.content = next;
      continue;
    }
    if (!Array.isArray(message.content)) continue;
    for (const part of message.content) {
      if (!hasText(part)) continue;
      const next = rewrite(part.text);
      if (next !== part.text) part.text = next;
    }
  }
  return content;
}

function isMessage(message: unknown): message is ChatMessage {
  return message !== null && typeof message === 'object';
}

/**
 * Any part with a string `text` is text, whatever its `type` (`input_text`, `output_text`, a provider's own): a
 * part type the guardrails do not know must not be a way to carry text past them.
 */
function hasText(part: ContentPart): part is ContentPart & { text: string } {
  return part !== null && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string';
}

/** A location as JSON-safe fields to spread into a finding (nothing for a plain string). */
export function locationOf(segment: TextLocation): TextLocation {
  const out: TextLocation = {};
  if (segment.messageIndex !== undefined) out.messageIndex = segment.messageIndex;
  if (segment.partIndex !== undefined) out.partIndex = segment.partIndex;
  return out;
}
