/**
 * IBANs: a country code, two check digits and the account number, with the length that country's IBAN has
 * (SWIFT IBAN registry), optionally in groups separated by single spaces or dashes, and the ISO 7064 mod-97 check
 * equal to 1. Upper or lower case, not mixed. A wrong length for the country, a wrong checksum or letters glued on
 * either side: not an IBAN.
 */
import { isAlnum, isDigit } from './chars.ts';
import type { Emit } from './types.ts';

/** Total IBAN length per country (SWIFT IBAN registry). */
const LENGTH: Readonly<Record<string, number>> = {
  AD: 24,
  AE: 23,
  AL: 28,
  AT: 20,
  AZ: 28,
  BA: 20,
  BE: 16,
  BG: 22,
  BH: 22,
  BI: 27,
  BR: 29,
  BY: 28,
  CH: 21,
  CR: 22,
  CY: 28,
  CZ: 24,
  DE: 22,
  DJ: 27,
  DK: 18,
  DO: 28,
  EE: 20,
  EG: 29,
  ES: 24,
  FI: 18,
  FK: 18,
  FO: 18,
  FR: 27,
  GB: 22,
  GE: 22,
  GI: 23,
  GL: 18,
  GR: 27,
  GT: 28,
  HN: 28,
  HR: 21,
  HU: 28,
  IE: 22,
  IL: 23,
  IQ: 23,
  IS: 26,
  IT: 27,
  JO: 30,
  KW: 30,
  KZ: 20,
  LB: 28,
  LC: 32,
  LI: 21,
  LT: 20,
  LU: 20,
  LV: 21,
  LY: 25,
  MC: 27,
  MD: 24,
  ME: 22,
  MK: 19,
  MN: 20,
  MR: 27,
  MT: 31,
  MU: 30,
  NI: 28,
  NL: 18,
  NO: 15,
  OM: 23,
  PK: 24,
  PL: 28,
  PS: 29,
  PT: 25,
  QA: 29,
  RO: 24,
  RS: 22,
  RU: 33,
  SA: 24,
  SC: 31,
  SD: 18,
  SE: 24,
  SI: 19,
  SK: 24,
  SM: 27,
  SO: 23,
  ST: 25,
  SV: 28,
  TL: 23,
  TN: 24,
  TR: 26,
  UA: 29,
  VA: 22,
  VG: 24,
  XK: 20,
  YE: 30,
};

/** Two letters and two digits: a run that holds one is read whole, once. */
const START = /[A-Za-z]{2}\d{2}/g;

/** 10^e mod 97 (10 has order dividing 96 mod the prime 97). */
const POW10 = Int32Array.from({ length: 96 }, (_, e) => {
  let v = 1;
  for (let i = 0; i < e; i++) v = (v * 10) % 97;
  return v;
});

/** `LENGTH` by the two letters as numbers (`(a - 'a') * 26 + (b - 'a')`). */
const LENGTH_BY_CODE = new Int8Array(26 * 26);
for (const [country, length] of Object.entries(LENGTH))
  LENGTH_BY_CODE[(country.charCodeAt(0) - 65) * 26 + (country.charCodeAt(1) - 65)] = length;

function isSeparator(c: number): boolean {
  return c === 32 || c === 45;
}

/**
 * Each run of letters and digits joined by single spaces or dashes is read once into prefix sums (mod-97 value,
 * separators, letter cases); every IBAN start in it is then checked in O(1), so a megabyte of near-IBANs is linear.
 */
export function scanIbans(text: string, emit: Emit): void {
  START.lastIndex = 0;
  for (let m = START.exec(text); m !== null; m = START.exec(text)) {
    let start = m.index;
    while (
      start > 0 &&
      (isAlnum(text.charCodeAt(start - 1)) || (isSeparator(text.charCodeAt(start - 1)) && start > 1 && isAlnum(text.charCodeAt(start - 2))))
    )
      start--;
    let end = m.index;
    while (
      end < text.length &&
      (isAlnum(text.charCodeAt(end)) || (isSeparator(text.charCodeAt(end)) && end + 1 < text.length && isAlnum(text.charCodeAt(end + 1))))
    )
      end++;
    START.lastIndex = end;
    scanRun(start, readRun(text, start, end), emit);
  }
}

let cap = 0;
/** Index x: state after the first x letters or digits of the run (see `readRun`). */
let hash = new Int32Array(0);
let decimals = new Int32Array(0);
let spaces = new Int32Array(0);
let dashes = new Int32Array(0);
let uppers = new Int32Array(0);
let lowers = new Int32Array(0);
let codes = new Uint16Array(0);

function ensure(size: number): void {
  if (size <= cap) return;
  cap = Math.max(size, cap * 2, 64);
  hash = new Int32Array(cap + 1);
  decimals = new Int32Array(cap + 1);
  spaces = new Int32Array(cap + 1);
  dashes = new Int32Array(cap + 1);
  uppers = new Int32Array(cap + 1);
  lowers = new Int32Array(cap + 1);
  codes = new Uint16Array(cap + 1);
}

/** Prefix sums over the run's letters and digits; returns how many there are. */
function readRun(text: string, start: number, end: number): number {
  ensure(end - start + 1);
  hash[0] = decimals[0] = spaces[0] = dashes[0] = uppers[0] = lowers[0] = 0;
  let count = 0;
  let pending = 0;
  for (let p = start; p < end; p++) {
    const c = text.charCodeAt(p);
    if (isSeparator(c)) {
      pending = c;
      continue;
    }
    const digitChar = isDigit(c);
    const value = digitChar ? c - 48 : (c | 32) - 87;
    codes[count] = c;
    hash[count + 1] = (hash[count]! * (digitChar ? 10 : 100) + value) % 97;
    decimals[count + 1] = decimals[count]! + (digitChar ? 1 : 2);
    spaces[count + 1] = spaces[count]! + (pending === 32 ? 1 : 0);
    dashes[count + 1] = dashes[count]! + (pending === 45 ? 1 : 0);
    uppers[count + 1] = uppers[count]! + (!digitChar && c < 97 ? 1 : 0);
    lowers[count + 1] = lowers[count]! + (!digitChar && c >= 97 ? 1 : 0);
    pending = 0;
    count++;
  }
  return count;
}

/** The value of letters/digits `[a, b)` mod 97. */
function valueMod97(a: number, b: number): number {
  return (((hash[b]! - ((hash[a]! * POW10[(decimals[b]! - decimals[a]!) % 96]!) % 97)) % 97) + 97) % 97;
}

const separatorsIn = (a: number, b: number) => spaces[b]! - spaces[a + 1]! + dashes[b]! - dashes[a + 1]!;

function scanRun(runStart: number, count: number, emit: Emit): void {
  for (let k = 0; k + 4 <= count; k++) {
    const c0 = codes[k]!;
    const c1 = codes[k + 1]!;
    if (isDigit(c0) || isDigit(c1) || !isDigit(codes[k + 2]!) || !isDigit(codes[k + 3]!)) continue;
    // Preceded by a letter or digit, or with a separator inside the first four: not a start.
    if ((k > 0 && separatorsIn(k - 1, k + 1) === 0) || separatorsIn(k, k + 4) !== 0) continue;
    const length = LENGTH_BY_CODE[((c0 | 32) - 97) * 26 + ((c1 | 32) - 97)]!;
    const j = k + length;
    if (length === 0 || j > count) continue;
    if (j < count && separatorsIn(j - 1, j + 1) === 0) continue;
    if (spaces[j]! - spaces[k + 1]! > 0 && dashes[j]! - dashes[k + 1]! > 0) continue;
    if (uppers[j]! - uppers[k]! > 0 && lowers[j]! - lowers[k]! > 0) continue;
    const checksum = (valueMod97(k + 4, j) * POW10[(decimals[k + 4]! - decimals[k]!) % 96]! + valueMod97(k, k + 4)) % 97;
    if (checksum === 1) emit('IBAN', runStart + k + spaces[k + 1]! + dashes[k + 1]!, runStart + j + spaces[j]! + dashes[j]!);
  }
}
