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

/** Reused buffers (scanning is synchronous); grown on demand, never shrunk. */
let cap = 0;
let pos = new Int32Array(0);
let sep = new Int32Array(0);
let digit = new Int8Array(0);
let sepCount = new Int32Array(0);
let dashCount = new Int32Array(0);
/**
 * Luhn residues of prefixes: `even[x]` is (sum of digits at even indexes + Luhn doubles of digits at odd indexes
 * before x) mod 10, `odd[x]` the same with parities swapped. A window [k, j) is Luhn-valid when the residues at k
 * and j agree, in `even` if its last digit (j - 1) has an even index, else in `odd`.
 */
let even = new Uint8Array(0);
let odd = new Uint8Array(0);

function ensure(size: number): void {
  if (size <= cap) return;
  cap = Math.max(size, cap * 2, 64);
  pos = grown(pos, new Int32Array(cap));
  sep = grown(sep, new Int32Array(cap));
  digit = grown(digit, new Int8Array(cap));
  sepCount = new Int32Array(cap + 1);
  dashCount = new Int32Array(cap + 1);
  even = new Uint8Array(cap + 1);
  odd = new Uint8Array(cap + 1);
}

/** The run being read is kept when a buffer grows in the middle of it. */
function grown<T extends Int32Array | Int8Array>(old: T, next: T): T {
  next.set(old);
  return next;
}

/** A run long enough to hold a card; runs of fewer digits are skipped by the regex engine at native speed. */
const LONG_RUN = /\d(?:[ -]?\d){12,}/g;

export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = digits.length - 1, dbl = false; i >= 0; i--, dbl = !dbl) {
    let d = digits.charCodeAt(i) - 48;
    if (dbl) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}

export function scanCards(text: string, emit: Emit): void {
  LONG_RUN.lastIndex = 0;
  for (let m = LONG_RUN.exec(text); m !== null; m = LONG_RUN.exec(text)) {
    LONG_RUN.lastIndex = scanRun(text, m.index, emit);
  }
}

/** Reads one run (digits, single spaces or dashes between digits) from `start`; returns where it ended. */
function scanRun(text: string, start: number, emit: Emit): number {
  const n = text.length;
  let count = 0;
  let p = start;
  let pendingSep = 0;
  while (p < n) {
    const c = text.charCodeAt(p);
    if (isDigit(c)) {
      ensure(count + 1);
      pos[count] = p;
      digit[count] = c - 48;
      sep[count] = pendingSep;
      pendingSep = 0;
      count++;
      p++;
    } else if ((c === 32 || c === 45) && pendingSep === 0 && p + 1 < n && isDigit(text.charCodeAt(p + 1))) {
      pendingSep = c;
      p++;
    } else {
      break;
    }
  }
  // A run glued to letters is part of an identifier (`WEST1234…`, a hash), not a written card number.
  const glued = (start > 0 && isLetter(text.charCodeAt(start - 1))) || (p < n && isLetter(text.charCodeAt(p)));
  if (count >= MIN && !glued) findCards(count, emit);
  return p;
}

function findCards(count: number, emit: Emit): void {
  prefixSums(count);
  for (let k = 0; k + MIN <= count; k++) {
    const len = longestCardAt(k, count);
    if (len > 0) emit('CREDIT_CARD', pos[k]!, pos[k + len - 1]! + 1);
  }
}

/**
 * Small functions called per digit rather than one long loop: V8 optimises them by call count and keeps them
 * optimised, where a single long loop relies on on-stack replacement and ran several times slower.
 */
function prefixSums(count: number): void {
  even[0] = odd[0] = sepCount[0] = dashCount[0] = 0;
  for (let k = 0; k < count; k++) addDigit(k);
}

function addDigit(k: number): void {
  const d = digit[k]!;
  const twice = d > 4 ? d * 2 - 9 : d * 2;
  const oddIndex = (k & 1) === 1;
  even[k + 1] = (even[k]! + (oddIndex ? twice : d)) % 10;
  odd[k + 1] = (odd[k]! + (oddIndex ? d : twice)) % 10;
  sepCount[k + 1] = sepCount[k]! + (sep[k] !== 0 ? 1 : 0);
  dashCount[k + 1] = dashCount[k]! + (sep[k] === 45 ? 1 : 0);
}

/**
 * Card lengths by issuer prefix (ISO/IEC 7812 ranges as issued): bit `n` set means `n` digits. Within a longer
 * run of digits this is what keeps a 13-digit window of a 14-digit reference number from passing as a card.
 */
const ALL = 0b11111110000000000000;
function lengthsFor(first: number, second: number): number {
  switch (first) {
    case 1: return 1 << 15; // UATP, JCB 1800
    case 2: return (1 << 15) | (1 << 16); // JCB 2131, Mastercard 2221–2720
    case 3: return ALL & ~(1 << 13); // Amex 15, Diners 14–19, JCB 16–19
    case 4: return (1 << 13) | (1 << 16) | (1 << 19); // Visa
    case 5: return second >= 1 && second <= 5 ? 1 << 16 : ALL; // Mastercard; Maestro and Dankort 50, 56–59
    case 6: return second === 7 ? ALL : ALL & ~((1 << 13) | (1 << 14) | (1 << 15)); // Maestro UK 67; Discover, UnionPay, RuPay
    default: return 0;
  }
}

/** The longest Luhn-valid card starting at digit `k` (0 if none). */
function longestCardAt(k: number, count: number): number {
  const lengths = lengthsFor(digit[k]!, k + 1 < count ? digit[k + 1]! : -1);
  if (lengths === 0) return 0;
  const groupStart = k === 0 || sep[k] !== 0;
  for (let len = Math.min(MAX, count - k); len >= MIN; len--) {
    if ((lengths & (1 << len)) === 0) continue;
    const j = k + len;
    const inner = sepCount[j]! - sepCount[k + 1]!;
    if (inner > 0) {
      if (!groupStart || (j < count && sep[j] === 0)) continue;
      const dashes = dashCount[j]! - dashCount[k + 1]!;
      if (dashes !== 0 && dashes !== inner) continue;
    }
    if ((j & 1) === 1 ? even[j] === even[k] : odd[j] === odd[k]) return len;
  }
  return 0;
}
