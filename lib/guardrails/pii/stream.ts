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
 * The check is incremental, so that its cost follows the new text, not the context it re-reads:
 *   - Quiet: when no anchor reaches the pending text (every anchor seen is decided) and the new text has none, no
 *     scanner can find anything new in it, and the cut is the start of the trailing run (or gap), read backwards
 *     from the end of the pending text without folding or scanning. Candidates decided earlier that reach past the
 *     released text are carried (`carry`) and mask what they cover. So prose is held only by its last partial word
 *     and trailing whitespace: at most `TAIL_RUN` folded characters plus a trailing gap.
 *   - Anchors arriving after quiet text: the cut is before the trailing run and 4 characters before the first digit
 *     or `:` (64 before the first `@`); what is released before it is masked only by carried candidates, so this
 *     needs a fold of the pending text, still no scanner.
 *   - Otherwise the scanners run over the released context and the pending text, as a whole-text check of that
 *     window. After it, the cut cannot move until the first anchor that bounds it is decided, and each decided
 *     anchor frees only the characters up to the next one: so the next check waits (a delta is only held, nothing
 *     is read) until every anchor now in reach is decided (`wake`), and, when anchors keep coming, until
 *     `CLUSTER_STEP` characters have come since the last check. That keeps the re-read (about 100 characters of
 *     context and the ~100 undecided after the cut) to a fraction of what each check releases.
 * So the hold is: with no anchor in reach, the trailing run and gap (at most `TAIL_RUN` folded characters and
 * `MAX_GAP` units); after a digit or `:`, the 100 characters that decide it, and in a cluster of anchors up to
 * 100 + `CLUSTER_STEP` characters plus the last delta; near an `@`, 64 + 258 (+ `CLUSTER_STEP` plus the last delta
 * in a cluster). Each folded character may stand for up to `MAX_GAP + 1` raw units.
 *
 * Custom patterns have no anchor: with any configured, every delta is checked by the scanners, the last
 * `customMaxLength` characters are always held, and equality with the whole-text check holds for patterns whose
 * matches are at most that long and do not depend on text further away (as for `EMP-\d{6}`).
 */
import type { ChunkCheckArgs, ChunkCheckResult } from '../base.ts';
import { MAX_GAP, foldForPii, foldedIndex, isVisibleAt, rawStart } from './fold.ts';
import {
  AT_BEFORE,
  AT_REACH,
  CONTEXT,
  NUM_BEFORE,
  NUM_REACH,
  backBy,
  cutBefore,
  firstDigit,
  hasAnchor,
  minimalStart,
  nextCheck,
  quietCut,
  safeCut,
  settledEnd,
  visible,
} from './cuts.ts';
import type { MaskStyle, PiiScanner } from './scan.ts';
import type { PiiSpan } from './types.ts';

/** Longest numeric candidate (an IPv6 address with zone and prefix, ~82) plus look-behind, rounded up. */
const NUMERIC_CONTEXT = 100;
/** An `@` further back than this many raw units is more than `AT_REACH + 2` folded characters back, or past a long gap. */
const AT_KEEP = (AT_REACH + 3) * (MAX_GAP + 1);

/**
 * In a cluster of anchors (more keep coming), a check waits for this many characters since the last one (see the
 * module comment): the price of keeping the re-read a fraction of the release is up to this much more hold-back.
 */
export const CLUSTER_STEP = 256;

interface StreamState {
  /**
   * Raw text released so far: at least its last `CONTEXT` folded characters and `customMaxLength` raw units (see
   * `keep`).
   */
  context: string;
  /** Offset of `context[0]` in the whole streamed output. */
  offset: number;
  /** Offset of the last `@` released, or -1. */
  lastAt: number;
  /** The last two code units released (or ''): whether a gap at the start of the pending text began before it. */
  last: string;
  /** What the last check held back: the text that came with this call beyond it is new. */
  held: number;
  /**
   * No anchor reaches the pending text any more: every anchor seen is decided, the pending text has none, and
   * `carry` holds the candidates (offsets in the whole output) that started in released text and reach past it.
   */
  quiet: boolean;
  carry: PiiSpan[];
  /** Stream length (offset in the whole output) below which no check can release more than the last one did. */
  wake: number;
  /** The last check's cut was bound by an undecided anchor, at stream length `scanEnd`. */
  bound: boolean;
  scanEnd: number;
  /** An anchor has come since the last check. */
  fresh: boolean;
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
    const key = (args.runContext as object | undefined) ?? this.fallbackKey;
    let state = this.states.get(key);
    if (state === undefined) {
      state = {
        context: '',
        offset: 0,
        lastAt: -1,
        last: '',
        held: 0,
        quiet: true,
        carry: [],
        wake: 0,
        bound: false,
        scanEnd: 0,
        fresh: false,
      };
      this.states.set(key, state);
    }
    const text = args.text;
    if (!args.final) {
      if (state.quiet) {
        if (!this.options.hasCustom) {
          // No anchor in reach and none in the new text: only the trailing run and gap are held.
          if (!hasAnchor(text, state.held)) return this.release(state, text, cutBefore(text, quietCut(text, state.last), 0));
          // The first anchors after quiet text: what comes before them needs no scanner either.
          const arrived = this.arrive(state, text);
          if (arrived) return arrived;
        }
      } else {
        // Nothing can be decided before `wake`. In a cluster (anchors have come since the last check), also wait
        // for CLUSTER_STEP characters since the last check.
        const start = state.offset + state.context.length;
        const end = start + text.length;
        if (
          end < state.wake ||
          (state.bound && end < state.scanEnd + CLUSTER_STEP && (state.fresh ||= hasAnchor(text, state.scanEnd - start)))
        ) {
          state.held = text.length;
          return { hold: text.length };
        }
      }
    }
    return this.scan(args, state, key);
  }

  /** The quiet path: releases `text[0, cut)`, masked where a carried candidate covers it. */
  private release(state: StreamState, text: string, cut: number): ChunkCheckResult {
    const hold = text.length - cut;
    state.held = hold;
    if (cut === 0) return { hold };
    let masked: string | undefined;
    if (state.carry.length > 0) {
      const base = state.offset + state.context.length;
      const spans = state.carry.map((c) => ({ type: c.type, start: c.start - base, end: c.end - base })).filter((c) => c.end > 0);
      if (spans.length > 0) masked = this.options.scanner.render(text, spans, 0, cut, this.options.mask!);
      state.carry = state.carry.filter((c) => c.end > base + cut);
    }
    this.keep(state, text.slice(0, cut));
    return masked === undefined ? { hold } : { text: masked + text.slice(cut), hold };
  }

  /**
   * Anchors have come after quiet text, all still undecided (within reach of the end): the full check would cut
   * before the trailing run and before the first digit (by 4) or `@` (by 64), and mask the released part only where
   * a carried candidate covers it. Undefined when the full check is needed (an anchor already out of reach, or the
   * pending text starting inside a gap that began in released text, whose fold a slice cannot tell).
   */
  private arrive(state: StreamState, text: string): ChunkCheckResult | undefined {
    const digit = firstDigit(text, state.held);
    const at = text.indexOf('@', state.held);
    if ((digit !== -1 && text.length - digit > NUM_REACH) || (at !== -1 && text.length - at > AT_REACH)) return undefined;
    if (!visible(text, 0) && state.last !== '' && !isVisibleAt(state.last, state.last.length - 1)) return undefined;
    const slice = text.slice(0, Math.max(digit, at) + 1);
    const folded = foldForPii(slice);
    const before = (i: number, by: number) => {
      const f = foldedIndex(folded, slice, i) - by;
      return f <= 0 ? 0 : rawStart(folded, slice, f);
    };
    const digitCut = digit === -1 ? Infinity : before(digit, NUM_BEFORE);
    const atCut = at === -1 ? Infinity : before(at, AT_BEFORE);
    const tail = quietCut(text, state.last);
    const cut = cutBefore(text, Math.min(tail, digitCut, atCut), 0);
    const base = state.offset + state.context.length;
    const result = this.release(state, text, cut);
    // The next check: once every anchor that came is decided (as `nextCheck`).
    let lastDigit = digit;
    for (let i = text.length - 1; i > digit; i--) {
      const c = text.charCodeAt(i);
      if (c >= 48 && c <= 58) {
        lastDigit = i;
        break;
      }
    }
    const lastAt = at === -1 ? -1 : text.lastIndexOf('@');
    state.quiet = false;
    state.carry = [];
    state.bound = Math.min(digitCut, atCut) < tail;
    state.wake = state.bound
      ? base + Math.max(lastDigit === -1 ? 0 : lastDigit + NUM_REACH + 1, lastAt === -1 ? 0 : lastAt + AT_REACH + 1)
      : 0;
    state.scanEnd = base + text.length;
    state.fresh = false;
    return result;
  }

  /**
   * Appends released raw text to the context. Once it is four times the least that must be kept, it is cut back to
   * that (`minimalStart`: `CONTEXT` folded characters and the custom patterns' raw reach). Kept small on purpose:
   * appending makes the context a rope, and the next full check flattens it, a copy of all of it.
   */
  private keep(state: StreamState, head: string): void {
    const all = state.context + head;
    const minimum = CONTEXT + (this.options.hasCustom ? this.options.customMaxLength : 0);
    if (all.length > 4 * minimum) {
      const from = minimalStart(all, minimum);
      state.context = all.slice(from);
      state.offset += from;
    } else state.context = all;
    state.last = head.length >= 2 ? head.slice(-2) : (state.last + head).slice(-2);
  }

  /** The full check: the scanners over the released context and the pending text. */
  private scan(args: ChunkCheckArgs, state: StreamState, key: object): ChunkCheckResult {
    const { scanner, mask, customMaxLength, hasCustom } = this.options;
    // Scan only the context a candidate reaching the pending text can need: near an `@` (an email spans up to 318
    // characters) or with custom patterns, the last CONTEXT folded characters (and customMaxLength raw ones),
    // otherwise the last NUMERIC_CONTEXT (numeric candidates span at most 82, plus look-behind). A run cut short at
    // the window's start can only yield candidates too short to reach the pending text.
    const context = state.context;
    const from =
      hasCustom || this.nearAt(state)
        ? minimalStart(context, CONTEXT + (hasCustom ? customMaxLength : 0))
        : backBy(context, context.length, NUMERIC_CONTEXT);
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
    const base = state.offset + from;
    if (mask === undefined && decided.length > 0) {
      this.states.delete(key);
      this.options.detected(scanner.resolve(decided).map((f) => ({ ...f, start: f.start + base, end: f.end + base })));
    }
    if (args.final) this.states.delete(key);
    else {
      // When a check can next release more, and whether the quiet path may take over until an anchor comes.
      const n = folded.text.length;
      const next = nextCheck(folded.text, foldedIndex(folded, window, cut));
      state.quiet = next === 0 && !hasCustom && !candidates.some((c) => c.start >= cut);
      state.carry = state.quiet ? decided.filter((c) => c.end > cut).map((c) => ({ ...c, start: c.start + base, end: c.end + base })) : [];
      state.bound = next > n + 1;
      state.wake = next === 0 || hasCustom ? 0 : base + readable + (next - n);
      state.scanEnd = base + whole.length;
      state.fresh = false;
      state.held = whole.length - cut;
      if (cut > released) {
        const at = window.lastIndexOf('@', cut - 1);
        if (at >= released) state.lastAt = base + at;
        this.keep(state, window.slice(released, cut));
      }
    }
    const head =
      mask === undefined || decided.length === 0 ? window.slice(released, cut) : scanner.render(window, decided, released, cut, mask);
    return { text: head + whole.slice(cut), hold: whole.length - cut };
  }

  /**
   * Whether the last released `@` has at most `AT_REACH + 2` visible characters after it (without a long gap).
   * Once it has more, it always will: that is remembered (`lastAt` set to -1).
   */
  private nearAt(state: StreamState): boolean {
    const at = state.lastAt - state.offset;
    const context = state.context;
    if (at < 0) return false;
    const distance = context.length - at;
    if (distance <= AT_REACH + 3) return true;
    if (distance <= AT_KEEP && at >= backBy(context, context.length, AT_REACH + 3)) return true;
    state.lastAt = -1;
    return false;
  }
}
