/**
 * PII checks on a stream, equal to the whole-text check for every way the text is cut into chunks.
 *
 * Every built-in candidate is decided by a bounded window around an anchor character: a digit or `:` (at most 4
 * characters of the candidate before it and 96 after, including the characters read to decide its edges) or an `@`
 * (64 before, 258 after). So a character can be released once
 *   - every anchor close enough to reach it has enough text after it to be decided, and
 *   - no anchor still to come can reach back to it: only a run of characters that can precede an anchor (letters,
 *     digits, `._%+-(:`) at the very end of the pending text can belong to a future candidate, and at most 64 of them.
 * The cut is the smallest of those bounds. The raw text already released (the last `CONTEXT` characters) is kept
 * per run, because a masked look-behind has lost the digits a boundary check needs to see.
 *
 * Custom patterns have no anchor: with any configured, the last `customMaxLength` characters are always held, and
 * equality with the whole-text check holds for patterns whose matches are at most that long and do not depend on
 * text further away (as for `EMP-\d{6}`).
 */
import type { ChunkCheckArgs, ChunkCheckResult } from '../base.ts';
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
  /** Raw text released so far, its last `CONTEXT + customMaxLength` characters. */
  context: string;
  /** Offset of `context[0]` in the whole streamed output. */
  offset: number;
}

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
    const state = this.states.get(key) ?? { context: '', offset: 0 };
    // Scan only the context a candidate reaching the pending text can need: all of it near an `@` (an email spans
    // up to 318 characters) or with custom patterns, otherwise the last NUMERIC_CONTEXT (numeric candidates span
    // at most 82, plus look-behind). A run cut short at the window's start can only yield candidates too short to
    // reach the pending text.
    const context = state.context;
    const nearAt = context.lastIndexOf('@') >= context.length - AT_REACH - 2;
    const from = hasCustom || nearAt ? 0 : Math.max(0, context.length - NUMERIC_CONTEXT);
    const window = context.slice(from) + args.text;
    const released = context.length - from;
    const cut = args.final ? window.length : safeCut(window, released, hasCustom ? customMaxLength : 0);
    const candidates = scanner.candidates(window).filter((c) => c.end > released);
    const decided = candidates.filter((c) => c.start < cut);
    if (mask === undefined && decided.length > 0) {
      this.states.delete(key);
      const base = state.offset + from;
      this.options.detected(scanner.resolve(decided).map((f) => ({ ...f, start: f.start + base, end: f.end + base })));
    }
    const keep = CONTEXT + (hasCustom ? customMaxLength : 0);
    if (args.final) this.states.delete(key);
    else {
      const all = context + window.slice(released, cut);
      const drop = Math.max(0, all.length - keep);
      this.states.set(key, { context: all.slice(drop), offset: state.offset + drop });
    }
    const head = mask === undefined || decided.length === 0 ? window.slice(released, cut) : scanner.render(window, decided, released, cut, mask);
    return { text: head + window.slice(cut), hold: window.length - cut };
  }
}

function isTailChar(c: number): boolean {
  const lower = c | 32;
  return (lower >= 97 && lower <= 122) || (c >= 48 && c <= 58) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45 || c === 40;
}

/** Where the released part may end (see the module comment); never before what was already released. */
export function safeCut(window: string, released: number, customMaxLength: number): number {
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
  if (customMaxLength > 0) cut = Math.min(cut, n - customMaxLength - 2);
  cut = Math.max(cut, released);
  // Never split a surrogate pair between two releases.
  const before = window.charCodeAt(cut - 1);
  if (cut > released && before >= 0xd800 && before <= 0xdbff) cut--;
  return cut;
}
