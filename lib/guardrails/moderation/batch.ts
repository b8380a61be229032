/**
 * Where a stream may be sent for moderation: at the last sentence end once a batch is long enough, so each call
 * sees whole sentences and a stream costs one call per batch, never one per token (Mastra made 186 calls for one
 * answer). A batch with no sentence end is cut at the last space once it reaches `maxChars` (or, with no space, at
 * its end, never between the two halves of a surrogate pair).
 */
const SENTENCE_END = /[.!?。！？…](?=\s)|\n/g;

export function batchEnd(text: string, minChars: number, maxChars: number): number {
  let end = 0;
  SENTENCE_END.lastIndex = 0;
  for (let m = SENTENCE_END.exec(text); m !== null; m = SENTENCE_END.exec(text)) end = m.index + m[0].length;
  if (end >= minChars) return end;
  if (text.length < maxChars) return 0;
  if (end > 0) return end;
  const space = text.lastIndexOf(' ');
  if (space > 0) return space + 1;
  // Not after the first half of a surrogate pair: both the batch sent and the text released would be malformed.
  const last = text.charCodeAt(text.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? text.length - 1 : text.length;
}
