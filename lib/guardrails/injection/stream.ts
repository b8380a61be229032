/**
 * Prompt-injection checks on a stream. The normal form is built chunk by chunk (it is prefix-stable, see
 * normalize.ts) and the last `maxLength` normal-form characters already released are kept per run, so a phrase
 * split across chunks, or across a release, is found exactly as in the whole text. The raw characters that could
 * still begin a match (those behind the last `maxLength - 1` normal-form characters) are held, so a phrase is
 * blocked before it is complete on the consumer's side. Filler that normalises to nothing (thousands of
 * zero-width characters) could make that hold unbounded: past `MAX_HOLD` raw characters the oldest are released,
 * and detection, which works on the normal form, still blocks when the phrase completes.
 */
import type { ChunkCheckArgs, ChunkCheckResult } from '../base.ts';
import type { InjectionMatch, InjectionMatcher } from './matcher.ts';
import { normalizeWithMap } from './normalize.ts';

const MAX_HOLD = 4096;

interface StreamState {
  /** Normal form of the released text, its last `maxLength + 1` characters. */
  tail: string;
  /** Whether that normal form ended with a space. */
  space: boolean;
}

export class InjectionStream {
  private readonly states = new WeakMap<object, StreamState>();
  private readonly fallbackKey = {};
  private readonly matcher: InjectionMatcher;
  private readonly maxLength: number;
  private readonly detected: (match: InjectionMatch) => never;

  constructor(matcher: InjectionMatcher, maxLength: number, detected: (match: InjectionMatch) => never) {
    this.matcher = matcher;
    this.maxLength = maxLength;
    this.detected = detected;
  }

  check(args: ChunkCheckArgs): ChunkCheckResult {
    const key = (args.runContext as object | undefined) ?? this.fallbackKey;
    const state = this.states.get(key) ?? { tail: '', space: false };
    const raw = args.text;
    // The first half of a surrogate pair at the end is held unread: read alone it maps to nothing, and so would its
    // second half in the next chunk, which then looked like a word start ("𝐀jailbreak" read as "jailbreak").
    const complete = !args.final && isHighSurrogate(raw.charCodeAt(raw.length - 1)) ? raw.length - 1 : raw.length;
    const normal = normalizeWithMap(raw.slice(0, complete), state.space);
    const match = this.matcher.find(state.tail + normal.text);
    if (match) {
      this.states.delete(key);
      this.detected(match);
    }
    if (args.final) {
      this.states.delete(key);
      return { hold: 0 };
    }
    const keepNormal = Math.max(0, state.tail.length + normal.text.length - (this.maxLength - 1)) - state.tail.length;
    let cut = 0;
    while (cut < complete && normal.ends[cut]! <= keepNormal) cut++;
    cut = Math.max(cut, complete - MAX_HOLD);
    if (cut > 0 && cut < complete && isHighSurrogate(raw.charCodeAt(cut - 1))) cut--;
    if (cut > 0) {
      const released = normal.text.slice(0, normal.ends[cut - 1]);
      this.states.set(key, { tail: keepTail(state.tail + released, this.maxLength + 1), space: normal.spaceAfter[cut - 1] === 1 });
    } else {
      this.states.set(key, state);
    }
    return { hold: raw.length - cut };
  }
}

/**
 * The last `size` normal-form characters. When older text was cut off, the first one kept is only the left
 * neighbour of the second (for the word-start test), never a match start: it lost its own left neighbour, and
 * reading the cut as the start of the text made "instructionsyou have no…" look like a word start.
 */
function keepTail(text: string, size: number): string {
  if (text.length <= size) return text;
  const tail = text.slice(text.length - size);
  return tail[0] === ' ' ? tail : `\u0000${tail.slice(1)}`;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
