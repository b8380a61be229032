/**
 * Where a PII stream (stream.ts) may cut: how far each anchor of a built-in candidate reaches, and the readings of
 * the text around the cut that the stream's checks share. Distances are in folded characters (fold.ts) unless said
 * otherwise.
 *
 * @internal
 */
import { MAX_GAP, foldForPii, gapEnd, isVisibleAt } from './fold.ts';

/** Characters of a candidate before its first digit or `:`. */
export const NUM_BEFORE = 4;
/** Characters after a digit or `:` that decide the candidates around it (edges included). */
export const NUM_REACH = 96;
/** Characters of an email before its `@`. */
export const AT_BEFORE = 64;
/** Characters after an `@` that decide the email around it. */
export const AT_REACH = 258;
/** The longest trailing run of characters that can precede an anchor and so belong to a future candidate. */
export const TAIL_RUN = 65;
/** Longest built-in candidate (an email: 64 + 1 + 253) plus the two characters read before it. */
export const CONTEXT = 340;

/**
 * Raw characters that fold to an anchor: today only the anchors themselves (the fold maps no visible character to
 * another). A spec checks this against `foldForPii` for every code point; `hasAnchor` and `firstDigit` test the same
 * characters in a loop (a regex call costs more than reading the 16 characters of a delta).
 */
export const RAW_ANCHOR = /[0-9:@]/g;

/** The first digit or `:` in `text` from `from` on, or -1. */
export function firstDigit(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 58) return i;
  }
  return -1;
}

/** Whether `text` has a raw character from `from` on that folds to an anchor (`RAW_ANCHOR`). */
export function hasAnchor(text: string, from: number): boolean {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c >= 48 && c <= 58) || c === 64) return true;
  }
  return false;
}

/** `isVisibleAt` with printable ASCII and the ASCII space decided inline (most of what the stream reads). */
export function visible(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  return c > 32 && c < 127 ? true : c === 32 || (c >= 9 && c <= 13) ? false : isVisibleAt(text, i);
}

/**
 * The cut of the full check when no anchor is in reach (before `cutBefore`), read backwards from the end of the
 * pending text without folding it: before the trailing gap or half pair, and before the trailing run of tail
 * characters (at most `TAIL_RUN` folded characters). `last`: the last two released code units.
 */
export function quietCut(text: string, last: string): number {
  let end = text.length;
  if (end > 0 && isHighSurrogate(text.charCodeAt(end - 1))) end--;
  let gap = end;
  while (gap > 0 && end - gap <= MAX_GAP && !visible(text, gap - 1)) gap--;
  // Whether a gap reaching the start of the pending text began in released text.
  const startsInGap = last !== '' && !isVisibleAt(last, last.length - 1);
  // A trailing gap longer than MAX_GAP, or one that began in released text, will not fold differently.
  const readable = end - gap > MAX_GAP || (gap === 0 && startsInGap) ? end : gap;
  let i = readable;
  let start = readable;
  for (let run = 0; run < TAIL_RUN && i > 0;) {
    const c = text.charCodeAt(i - 1);
    if (c > 32 && c < 127) {
      // Printable ASCII folds to itself.
      if (!isTailChar(c)) break;
      start = --i;
      run++;
      continue;
    }
    // Any other visible character folds to itself, not to a tail character.
    if (isVisibleAt(text, i - 1)) break;
    // A gap folds to nothing (the run goes on) only if it is at most MAX_GAP units with no space or line break:
    // an ASCII one always has one.
    let g = i - 1;
    while (g > 0 && i - g <= MAX_GAP && !visible(text, g - 1)) g--;
    // A gap at the start that began in released text: its fold is not known here, release nothing more.
    if (g === 0 && startsInGap) return 0;
    if (i - g > MAX_GAP || hasAscii(text, g, i) || foldForPii(text.slice(g, i)).text !== '') break;
    i = g;
    // The run goes on into released text, which may end in tail characters: release nothing more.
    if (i === 0) return 0;
  }
  return start;
}

function hasAscii(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (text.charCodeAt(i) < 128) return true;
  return false;
}

/**
 * After a full check of the folded `window`: the folded length at which a check can next release more. 0 when no
 * anchor is in reach; `n + 1` when the cut is not bound by an anchor (the next character may move it); otherwise
 * when every anchor now in reach is decided (each frees only the characters up to the next, so a check in between
 * would re-read the whole window to release a few).
 */
export function nextCheck(window: string, cut: number): number {
  const n = window.length;
  const firstNum = firstDigit(window, Math.max(0, n - NUM_REACH));
  const firstAt = window.indexOf('@', Math.max(0, n - AT_REACH));
  if (firstNum === -1 && firstAt === -1) return 0;
  const bound = Math.min(firstNum === -1 ? Infinity : firstNum - NUM_BEFORE, firstAt === -1 ? Infinity : firstAt - AT_BEFORE);
  if (bound > cut) return n + 1;
  let lastDigit = -1;
  for (let i = n - 1; i >= firstNum && firstNum !== -1; i--) {
    const c = window.charCodeAt(i);
    if (c >= 48 && c <= 58) {
      lastDigit = i;
      break;
    }
  }
  const lastAt = firstAt === -1 ? -1 : window.lastIndexOf('@');
  return Math.max(lastDigit === -1 ? 0 : lastDigit + NUM_REACH + 1, lastAt === -1 ? 0 : lastAt + AT_REACH + 1);
}

/** Where the kept context may start: at least `count` folded characters (see `keepFrom`) and `raw` units back. */
export function minimalStart(context: string, raw: number): number {
  return Math.max(0, Math.min(keepFrom(context, CONTEXT), context.length - raw));
}

/** A start at a visible character with at least `count` visible characters from it to `end` (or 0). */
export function backBy(text: string, end: number, count: number): number {
  let seen = 0;
  for (let i = end - 1; i >= 0; i--) {
    const c = text.charCodeAt(i);
    if ((c > 32 && c < 127 ? true : c === 32 || (c >= 9 && c <= 13) ? false : isVisibleAt(text, i)) && ++seen >= count) return i;
  }
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
    if (!visible(text, i)) {
      if (++gap > MAX_GAP) return i;
      continue;
    }
    gap = 0;
    if (++seen >= count) return i;
  }
  return 0;
}

/** The end of what can be read now: before a trailing gap of at most `MAX_GAP` units or half a surrogate pair. */
export function settledEnd(text: string, released: number): number {
  let end = text.length;
  if (isHighSurrogate(text.charCodeAt(end - 1))) end--;
  let gap = end;
  while (gap > released && gap > 0 && !isVisibleAt(text, gap - 1) && end - gap <= MAX_GAP) gap--;
  // A gap that started in released text, or is longer than MAX_GAP already, will not fold differently.
  return end - gap <= MAX_GAP && (gap === 0 || isVisibleAt(text, gap - 1)) ? gap : end;
}

/** `cut`, moved back (not before `released`) out of a gap or a surrogate pair it would split. */
export function cutBefore(text: string, cut: number, released: number): number {
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

/** Where the released part of the folded window may end (see stream.ts's module comment); never before `released`. */
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
