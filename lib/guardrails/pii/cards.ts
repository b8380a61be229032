/**
 * Payment card numbers: 13–19 digits, Luhn-valid, first digit 1–6 (the ISO/IEC 7812 industries that issue
 * cards). Written as one run of digits or in groups with one separator (space or dash) used throughout.
 *
 * Every start inside a run of digits is tried, so a card glued to other digits ("ref 0004111111111111111") is still
 * found; a grouped candidate must start and end on group edges ("4111 1111 1111 1111 2024" finds the card, not a
 * window shifted into the year). Luhn sums come from prefix sums, so each start costs O(1) per length tried and a
 * megabyte of digits is scanned in linear time.
 */
import { isDigit } from './chars.ts';
import type { Emit } from './types.ts';

const MIN = 13;
const MAX = 19;

/** Reused buffers (scanning is synchronous); grown on demand, never shrunk. */
let cap = 0;
let pos = new Int32Array(0);
let sep = new Int32Array(0);
let sepCount = new Int32Array(0);
let dashCount = new Int32Array(0);
let digit = new Int8Array(0);
const plain = [new Int32Array(0), new Int32Array(0)];
const doubled = [new Int32Array(0), new Int32Array(0)];

function ensure(size: number): void {
  if (size <= cap) return;
  cap = Math.max(size, cap * 2, 64);
  pos = new Int32Array(cap);
  sep = new Int32Array(cap);
  digit = new Int8Array(cap);
  sepCount = new Int32Array(cap + 1);
  dashCount = new Int32Array(cap + 1);
  for (let c = 0; c < 2; c++) {
    plain[c] = new Int32Array(cap + 1);
    doubled[c] = new Int32Array(cap + 1);
  }
}

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
  const n = text.length;
  let i = 0;
  while (i < n) {
    if (!isDigit(text.charCodeAt(i))) {
      i++;
      continue;
    }
    i = scanRun(text, i, emit);
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
  if (count >= MIN) findCards(count, emit);
  return p;
}

function findCards(count: number, emit: Emit): void {
  plain[0]![0] = plain[1]![0] = doubled[0]![0] = doubled[1]![0] = sepCount[0] = dashCount[0] = 0;
  for (let k = 0; k < count; k++) {
    const d = digit[k]!;
    const par = k & 1;
    plain[par]![k + 1] = plain[par]![k]! + d;
    plain[par ^ 1]![k + 1] = plain[par ^ 1]![k]!;
    doubled[par]![k + 1] = doubled[par]![k]! + (d * 2 > 9 ? d * 2 - 9 : d * 2);
    doubled[par ^ 1]![k + 1] = doubled[par ^ 1]![k]!;
    sepCount[k + 1] = sepCount[k]! + (sep[k] !== 0 ? 1 : 0);
    dashCount[k + 1] = dashCount[k]! + (sep[k] === 45 ? 1 : 0);
  }
  for (let k = 0; k + MIN <= count; k++) {
    const first = digit[k]!;
    if (first < 1 || first > 6) continue;
    const groupStart = k === 0 || sep[k] !== 0;
    for (let len = Math.min(MAX, count - k); len >= MIN; len--) {
      const j = k + len;
      const inner = sepCount[j]! - sepCount[k + 1]!;
      if (inner > 0) {
        if (!groupStart || (j < count && sep[j] === 0)) continue;
        const dashes = dashCount[j]! - dashCount[k + 1]!;
        if (dashes !== 0 && dashes !== inner) continue;
      }
      const c = (j - 1) & 1;
      const sum = plain[c]![j]! - plain[c]![k]! + doubled[c ^ 1]![j]! - doubled[c ^ 1]![k]!;
      if (sum % 10 === 0) {
        emit('CREDIT_CARD', pos[k]!, pos[j - 1]! + 1);
        break;
      }
    }
  }
}
