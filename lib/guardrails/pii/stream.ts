/**
 * PII checks on a stream, equal to the whole-text check for every way the text is cut into chunks.
 *
 * The built-in scanners read the folded text (fold.ts), so every distance below is in folded characters, and the
 * raw text is cut where a folded character starts, never inside a gap of whitespace and invisible characters (its
 * fold depends on the whole gap). A gap or half a surrogate pair at the very end is not read yet: what follows may
 * change it. A folded character stands for at most `MAX_GAP + 1` raw units, so the hold stays bounded.
 *
 * Every built-in candidate is decided by a bounded window around an anchor character: a digit or `:` (at most 4
 * characters of the candidate before it and 96 after, including the characters read to decide its edges) or an `@`
 * (64 before, 258 after). So a character can be released once
 *   - every anchor close enough to reach it has enough text after it to be decided, and
 *   - no anchor still to come can reach back to it: only a run of characters that can precede an anchor (letters,
 *     digits, `._%+-(:`) at the very end of the pending text can belong to a future candidate, and at most 64 of them.
 * The cut is the smallest of those bounds. The raw text already released (enough for `CONTEXT` folded characters)
 * is kept per run, because a masked look-behind has lost the digits a boundary check needs to see.
 *
 * Custom patterns have no anchor: with any configured, the last `customMaxLength` characters are always held, and
 * equality with the whole-text check holds for patterns whose matches are at most that long and do not depend on
 * text further away (as for `EMP-\d{6}`).
 */
import type { ChunkCheckArgs, ChunkCheckResult } from '../base.ts';
import { MAX_GAP, foldForPii, foldedIndex, gapEnd, isVisibleAt, rawStart } from './fold.ts';
import type { MaskStyle, PiiScanner } from './scan.ts';
import type { PiiSpan } from './types.ts';

const NUM_BEFORE = 4;
const NUM_REACH = 96;
const AT_BEFORE = 64;
const AT_REACH = 258;
const TAIL_RUN = 65;
/** Longest built-in candidate (an email: 64 + 1 + 253) plus the two characters read before it. */
const CONTEXT = 340;
/** Longest numeric candidate (an IPv6 address with zone and prefix, ~82) plus look-behind, rounded up. */
const NUMERIC_CONTEXT = 100;

interface StreamState {
  /** Raw text released so far: at least its last `CONTEXT` folded and `CONTEXT + customMaxLength` raw characters. */
  context: string;
  /** Offset of `context[0]` in the whole streamed output. */
  offset: number;
  /** What the last check held back: the text that came with this call beyond it is new. */
  held: number;
}

/**
 * A check reads the released context and the held text again, about 200 characters, whatever the size of the
 * delta: done for every 16-character delta, that costs 15–60× the whole-text check per character. So new text is
 * gathered until there are `BATCH` characters of it (or the stream ends) and checked at once, which keeps the
 * re-read to a fraction of what is checked; the price is up to `BATCH` more characters of hold-back.
 */
export const BATCH = 512;

export interface PiiStreamOptions {
  readonly scanner: PiiScanner;
  /** Undefined in detect mode. */
  readonly mask: MaskStyle | undefined;
  readonly customMaxLength: number;
  readonly hasCustom: boolean;
  /** Throws the verdict; `findings` are offsets in the whole streamed output. */
  readonly detected: (findings: PiiSpan[]) => never;
}

export class PiiStream {
  private readonly states = new WeakMap<object, StreamState>();
  private readonly fallbackKey = {};
  private readonly options: PiiStreamOptions;

  constructor(options: PiiStreamOptions) {
    this.options = options;
  }

  check(args: ChunkCheckArgs): ChunkCheckResult {
    const { scanner, mask, customMaxLength, hasCustom } = this.options;
    const key = (args.runContext as object | undefined) ?? this.fallbackKey;
    const state = this.states.get(key) ?? { context: '', offset: 0, held: 0 };
    if (!args.final && args.text.length - state.held < BATCH) return { hold: args.text.length };
    // Scan only the context a candidate reaching the pending text can need: all of it near an `@` (an email spans
    // up to 318 characters) or with custom patterns, otherwise the last NUMERIC_CONTEXT (numeric candidates span
    // at most 82, plus look-behind). A run cut short at the window's start can only yield candidates too short to
    // reach the pending text.
    const context = state.context;
    const at = context.lastIndexOf('@');
    const nearAt = at !== -1 && (context.length - at <= AT_REACH + 3 || !hasVisible(context, at + 1, context.length, AT_REACH + 2));
    const from = hasCustom || nearAt ? 0 : backBy(context, context.length, NUMERIC_CONTEXT);
    const whole = context.slice(from) + args.text;
    const released = context.length - from;
    // What is read now: not a trailing gap or half a surrogate pair, which the next chunk may still change.
    const readable = args.final ? whole.length : settledEnd(whole, released);
    const window = whole.slice(0, readable);
    const folded = foldForPii(window);
    let cut = window.length;
    if (!args.final) {
      cut = rawStart(folded, window, safeCut(folded.text, foldedIndex(folded, window, released)));
      if (hasCustom) cut = Math.min(cut, window.length - customMaxLength - 2);
      cut = cutBefore(window, Math.max(cut, released), released);
    }
    const candidates = scanner.candidates(window, folded).filter((c) => c.end > released);
    const decided = candidates.filter((c) => c.start < cut);
    if (mask === undefined && decided.length > 0) {
      this.states.delete(key);
      const base = state.offset + from;
      this.options.detected(scanner.resolve(decided).map((f) => ({ ...f, start: f.start + base, end: f.end + base })));
    }
    if (args.final) this.states.delete(key);
    else {
      const all = context + window.slice(released, cut);
      // Trimmed only once it has grown doubled, so the walk back over it costs O(1) per released character.
      const minimum = CONTEXT + (hasCustom ? customMaxLength : 0);
      const drop = all.length <= 2 * minimum ? 0 : Math.min(keepFrom(all, CONTEXT), all.length - minimum);
      this.states.set(key, { context: all.slice(drop), offset: state.offset + drop, held: whole.length - cut });
    }
    const head =
      mask === undefined || decided.length === 0 ? window.slice(released, cut) : scanner.render(window, decided, released, cut, mask);
    return { text: head + whole.slice(cut), hold: whole.length - cut };
  }
}

/** Whether `text[from, to)` has more than `count` visible characters (each is at least one folded character). */
function hasVisible(text: string, from: number, to: number, count: number): boolean {
  let seen = 0;
  for (let i = from; i < to; i++) if (isVisibleAt(text, i) && ++seen > count) return true;
  return false;
}

/** A start at a visible character with at least `count` visible characters from it to `end` (or 0). */
function backBy(text: string, end: number, count: number): number {
  let seen = 0;
  for (let i = end - 1; i >= 0; i--) if (isVisibleAt(text, i) && ++seen >= count) return i;
  return 0;
}

/**
 * Where the kept context may start: `count` visible characters back, or inside a gap longer than `MAX_GAP` with
 * more than `MAX_GAP` of it kept (its fold stays the same, and no built-in candidate crosses it).
 */
function keepFrom(text: string, count: number): number {
  let seen = 0;
  let gap = 0;
  for (let i = text.length - 1; i >= 0; i--) {
    if (!isVisibleAt(text, i)) {
      if (++gap > MAX_GAP) return i;
      continue;
    }
    gap = 0;
    if (++seen >= count) return i;
  }
  return 0;
}

/** The end of what can be read now: before a trailing gap of at most `MAX_GAP` units or half a surrogate pair. */
function settledEnd(text: string, released: number): number {
  let end = text.length;
  if (isHighSurrogate(text.charCodeAt(end - 1))) end--;
  let gap = end;
  while (gap > released && gap > 0 && !isVisibleAt(text, gap - 1) && end - gap <= MAX_GAP) gap--;
  // A gap that started in released text, or is longer than MAX_GAP already, will not fold differently.
  return end - gap <= MAX_GAP && (gap === 0 || isVisibleAt(text, gap - 1)) ? gap : end;
}

/** `cut`, moved back (not before `released`) out of a gap or a surrogate pair it would split. */
function cutBefore(text: string, cut: number, released: number): number {
  if (cut <= released || cut >= text.length) return cut;
  if (!isVisibleAt(text, cut) && !isVisibleAt(text, cut - 1)) {
    let start = cut;
    while (start > released && !isVisibleAt(text, start - 1)) start--;
    if (gapEnd(text, start) - start <= MAX_GAP) cut = start;
  }
  if (cut > released && isHighSurrogate(text.charCodeAt(cut - 1))) cut--;
  return cut;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isTailChar(c: number): boolean {
  const lower = c | 32;
  return (lower >= 97 && lower <= 122) || (c >= 48 && c <= 58) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45 || c === 40;
}

/** Where the released part of the folded window may end (see the module comment); never before `released`. */
export function safeCut(window: string, released: number): number {
  const n = window.length;
  let run = 0;
  while (run < TAIL_RUN && run < n && isTailChar(window.charCodeAt(n - 1 - run))) run++;
  let cut = n - run;
  const at = window.indexOf('@', Math.max(0, n - AT_REACH));
  if (at !== -1) cut = Math.min(cut, at - AT_BEFORE);
  for (let i = Math.max(0, n - NUM_REACH); i < n; i++) {
    const c = window.charCodeAt(i);
    if (c >= 48 && c <= 58) {
      cut = Math.min(cut, i - NUM_BEFORE);
      break;
    }
  }
  return Math.max(cut, released);
}
