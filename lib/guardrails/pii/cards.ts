/**
 * Payment card numbers: 13–19 digits, Luhn-valid, with a length that fits the issuer prefix (first digit 1–6, the
 * ISO/IEC 7812 industries that issue cards), not glued to letters. Written as one run of digits or in groups with
 * one separator (space or dash) used throughout.
 *
 * Every start inside a run of digits is tried, so a card glued to other digits ("ref 0004111111111111111") is still
 * found; a grouped candidate must start and end on group edges ("4111 1111 1111 1111 2024" finds the card, not a
 * window shifted into the year). Luhn sums come from prefix sums, so each start costs O(1) per length tried and a
 * megabyte of digits is scanned in linear time.
 */
import { isDigit, isLetter } from './chars.ts';
import type { Emit } from './types.ts';

const MIN = 13;
const MAX = 19;

/**
 * Per-run buffers, reused (scanning is synchronous) and sized for the whole run before it is read. Index x holds
 * the state after the first x digits: `spaces`/`dashes` count the separators met, and the Luhn residues are
 * `even[x]` (digits at even indexes plus Luhn doubles of digits at odd indexes, mod 10) and `odd[x]` (parities
 * swapped). A window [k, j) is Luhn-valid when the residues at k and j agree, in `even` if its last digit (j - 1)
 * has an even index, else in `odd`. The digit at index k sits at text position `start + k + spaces[k + 1]`.
 */
let cap = 0;
let digit = new Int8Array(0);
let spaces = new Int32Array(0);
let dashes = new Int32Array(0);
let even = new Uint8Array(0);
let odd = new Uint8Array(0);

function ensure(size: number): void {
  if (size <= cap) return;
  cap = Math.max(size, cap * 2, 64);
  digit = new Int8Array(cap + 1);
  spaces = new Int32Array(cap + 1);
  dashes = new Int32Array(cap + 1);
  even = new Uint8Array(cap + 1);
  odd = new Uint8Array(cap + 1);
}

/**
 * Where a run long enough to hold a card may start: 13 digits with single separators. The repetition is bounded,
 * so the regex engine's backtracking stays shallow; the run is then extended by hand (`runEnd`). An unbounded
 * `(?:[ -]?\d){12,}` overflowed the stack at 7M digits.
 */
const RUN_START = /\d(?:[ -]?\d){12}/g;

export function scanCards(text: string, emit: Emit): void {
  RUN_START.lastIndex = 0;
  for (let m = RUN_START.exec(text); m !== null; m = RUN_START.exec(text)) {
    const start = m.index;
    const end = runEnd(text, start + m[0].length);
    RUN_START.lastIndex = end;
    // A run glued to letters is part of an identifier (`WEST1234…`, a hash), not a written card number.
    if ((start > 0 && isLetter(text.charCodeAt(start - 1))) || (end < text.length && isLetter(text.charCodeAt(end)))) continue;
    findCards(start, readRun(text, start, end), emit);
  }
}

/** The end of the run of digits with single separators (space or dash) going on at `p`, just after a digit. */
function runEnd(text: string, p: number): number {
  const n = text.length;
  while (p < n) {
    const c = text.charCodeAt(p);
    if (isDigit(c)) p++;
    else if ((c === 32 || c === 45) && p + 1 < n && isDigit(text.charCodeAt(p + 1))) p += 2;
    else break;
  }
  return p;
}

/** Fills the buffers for the run `[start, end)` (digits with single separators); returns the digit count. */
function readRun(text: string, start: number, end: number): number {
  ensure(end - start + 1);
  const digits = digit;
  const sp = spaces;
  const da = dashes;
  const ev = even;
  const od = odd;
  sp[0] = da[0] = ev[0] = od[0] = 0;
  // Running values in locals, stored once per digit: this loop is the whole cost on a megabyte of digits.
  let count = 0;
  let pending = 0;
  let e = 0;
  let o = 0;
  let s = 0;
  let ds = 0;
  for (let p = start; p < end; p++) {
    const c = text.charCodeAt(p);
    if (c === 32 || c === 45) {
      pending = c;
      continue;
    }
    const d = c - 48;
    const twice = d > 4 ? d * 2 - 9 : d * 2;
    if ((count & 1) === 1) {
      e += twice;
      o += d;
    } else {
      e += d;
      o += twice;
    }
    if (e >= 10) e -= 10;
    if (o >= 10) o -= 10;
    if (pending !== 0) {
      s++;
      if (pending === 45) ds++;
      pending = 0;
    }
    digits[count] = d;
    count++;
    sp[count] = s;
    da[count] = ds;
    ev[count] = e;
    od[count] = o;
  }
  return count;
}

/**
 * Card lengths by issuer prefix (ISO/IEC 7812 ranges as issued): bit `n` set means `n` digits. Within a longer
 * run of digits this is what keeps a 13-digit window of a 14-digit reference number from passing as a card.
 */
const ALL = 0b11111110000000000000;
function lengthsFor(first: number, second: number): number {
  switch (first) {
    case 1:
      return 1 << 15; // UATP, JCB 1800
    case 2:
      return (1 << 15) | (1 << 16); // JCB 2131, Mastercard 2221–2720
    case 3:
      return ALL & ~(1 << 13); // Amex 15, Diners 14–19, JCB 16–19
    case 4:
      return (1 << 13) | (1 << 16) | (1 << 19); // Visa
    case 5:
      return second >= 1 && second <= 5 ? 1 << 16 : ALL; // Mastercard; Maestro and Dankort 50, 56–59
    case 6:
      return second === 7 ? ALL : ALL & ~((1 << 13) | (1 << 14) | (1 << 15)); // Maestro UK 67; Discover, UnionPay, RuPay
    default:
      return 0;
  }
}

/** The allowed lengths, longest first, by the first two digits: looked up instead of computed in the hot loop. */
const LENGTHS: readonly Int8Array[] = Array.from({ length: 100 }, (_, i) => {
  const mask = lengthsFor(Math.floor(i / 10), i % 10);
  const list: number[] = [];
  for (let len = MAX; len >= MIN; len--) if ((mask & (1 << len)) !== 0) list.push(len);
  return Int8Array.from(list);
});

/** For each start, the longest Luhn-valid card (by residues: O(1) per length tried). */
function findCards(start: number, count: number, emit: Emit): void {
  const digits = digit;
  const sp = spaces;
  const da = dashes;
  const ev = even;
  const od = odd;
  if (sp[count] === 0) {
    findInContiguous(start, count, emit);
    return;
  }
  for (let k = 0; k + MIN <= count; k++) {
    const lengths = LENGTHS[digits[k]! * 10 + (k + 1 < count ? digits[k + 1]! : 0)]!;
    if (lengths.length === 0) continue;
    // A separator before digit k: k starts a group.
    const groupStart = k === 0 || sp[k + 1]! !== sp[k]!;
    const innerBase = sp[k + 1]!;
    const dashBase = da[k + 1]!;
    const evenK = ev[k]!;
    const oddK = od[k]!;
    for (let li = 0; li < lengths.length; li++) {
      const j = k + lengths[li]!;
      if (j > count) continue;
      const inner = sp[j]! - innerBase;
      if (inner > 0) {
        if (!groupStart || (j < count && sp[j + 1]! === sp[j]!)) continue;
        const dashesIn = da[j]! - dashBase;
        if (dashesIn !== 0 && dashesIn !== inner) continue;
      }
      if ((j & 1) === 1 ? ev[j] === evenK : od[j] === oddK) {
        emit('CREDIT_CARD', start + k + sp[k + 1]!, start + j + sp[j]!);
        break;
      }
    }
  }
}

/** The same for a run without separators (the hot case on hostile input): no group rules to check. */
function findInContiguous(start: number, count: number, emit: Emit): void {
  const digits = digit;
  const ev = even;
  const od = odd;
  for (let k = 0; k + MIN <= count; k++) {
    const lengths = LENGTHS[digits[k]! * 10 + (k + 1 < count ? digits[k + 1]! : 0)]!;
    const evenK = ev[k]!;
    const oddK = od[k]!;
    for (let li = 0; li < lengths.length; li++) {
      const j = k + lengths[li]!;
      if (j <= count && ((j & 1) === 1 ? ev[j] === evenK : od[j] === oddK)) {
        emit('CREDIT_CARD', start + k, start + j);
        break;
      }
    }
  }
}
