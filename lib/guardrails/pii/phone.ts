/**
 * Phone numbers.
 * - North American forms, Agno's four (`555-123-4567`, `555.987.6543`, `5551234567`, `555 123 4567`) plus
 *   `(555) 123-4567`, a `+1`/`1` prefix and an extension (`x123`, `ext. 123`), not part of a longer number.
 * - International numbers written with `+` or the `00` prefix (`+44 20 7946 0958`, `0033 1 42 68 53 00`), checked
 *   against the numbering plan of the country code by libphonenumber-js (length per country), so that `+` followed
 *   by any digits is not enough.
 * - National numbers of the configured regions without a country code (`07700 900123` in GB, `06-10446904` in NL),
 *   accepted only where libphonenumber-js (full `max` metadata) validates them for one of the regions *and* the
 *   context is phone-like: a phone word shortly before (`phone`, `call`, `mobile`, `fax`, …), or phone formatting
 *   (an area code in parentheses, a trunk `0` with separators, or two or more separators in groups that are not
 *   thousands or a date). Bare digit runs, thousands groupings (`1 234 567`) and dates need the phone word; a word
 *   such as `order`, `invoice` or `zip`, or a currency sign, right before the number rules it out.
 *
 * Every decision reads at most `NATIONAL_BEFORE` characters before a candidate's first character and
 * `NATIONAL_SPAN + AFTER` from it (stream.ts relies on these bounds).
 */
import { createRequire } from 'node:module';
import type * as PhoneMax from 'libphonenumber-js/max';
import type * as PhoneMin from 'libphonenumber-js/min';
import { eachStart, isAlnum, isDigit, isLetter } from './chars.ts';
import type { Emit } from './types.ts';

const US =
  /(?<![0-9A-Za-z+])(?<![0-9][-.])(?:\+?1[-. ]?)?(?:\(\d{3}\) ?|\d{3}[-. ]?)\d{3}[-. ]?\d{4}(?: ?(?:x|ext\.?|#) ?\d{1,6})?(?![0-9A-Za-z])(?![-.]\d)/gi;
const INTL_START = /(?<![0-9A-Za-z+])(?:\+|00)(?=[1-9])/g;
/** Longest international candidate looked at, in characters after the prefix. */
const MAX_INTL = 28;

/** Where a national number may start: a digit group or `(`, not inside a word, a `+` number or a dotted/dashed number. */
const NATIONAL_START = /(?<![0-9A-Za-z+(:])(?<![0-9][-./])(?:\(\d|\d)/g;
/** Longest national candidate, in characters. */
export const NATIONAL_SPAN = 22;
/** How far before a national candidate a phone word is looked for. */
export const NATIONAL_BEFORE = 32;
const MIN_DIGITS = 7;
const MAX_DIGITS = 13;

const PHONE_WORD =
  /(?:^|[^a-z])(?:(?:tele)?phones?|tel|ph|mobile|mob|cell(?:phone)?|fax|call(?:ed|ing|s)?|dial|sms|text|whatsapp|contact|reach|landline|hotline|ring)(?![a-z])/i;
/** A label right after the number, as in contact blocks (`96 228011 office`, `9885 1152-Office`). */
const PHONE_AFTER = /^[ ,\-(]{0,2}(?:office|fax|mobile|mob|phone|tel|desk|home|work|cell)(?![a-z])/i;
/** How far after a national candidate `PHONE_AFTER` reads. */
const AFTER = 12;
/** The word right before a number (after at most two characters of `.:#` and spaces) that says it is not a phone. */
const NOT_PHONE = new Set(
  'order invoice inv ref reference id account acct zip postcode postal code amount total price tracking ticket case no nr number item sku serial version v apt apartment suite ste unit box room floor flat building bldg'.split(
    ' ',
  ),
);

/** A currency sign or `#` right before, or a word of `NOT_PHONE`. */
function notPhoneBefore(text: string, start: number): boolean {
  let p = start - 1;
  for (let skipped = 0; p >= 0 && skipped < 3; p--, skipped++) {
    const c = text.charCodeAt(p);
    if (c === 35 || c === 36 || c === 0x20ac || c === 0xa3 || c === 0xa5) return true;
    if (c !== 32 && c !== 46 && c !== 58) break;
  }
  const end = p + 1;
  while (p >= 0 && end - p <= 12 && isLetter(text.charCodeAt(p))) p--;
  if (end - p > 12 || end === p + 1 || (p >= 0 && isDigit(text.charCodeAt(p)))) return false;
  return NOT_PHONE.has(text.slice(p + 1, end).toLowerCase());
}

/** A phone scanner for the given regions (ISO 3166 alpha-2, validated by the guardrail). */
export function phoneScanner(regions: readonly string[]): (text: string, emit: Emit) => void {
  const national = regions.length === 0 ? undefined : new NationalNumbers(regions);
  return (text, emit) => {
    eachStart(US, text, (m) => emit('PHONE', m.index, m.index + m[0].length));
    eachStart(INTL_START, text, (m) => {
      const end = internationalEnd(text, m.index + m[0].length);
      if (end !== -1) emit('PHONE', m.index, end);
    });
    if (national) eachStart(NATIONAL_START, text, (m) => national.scanAt(text, m.index, emit));
  };
}

/**
 * Per-start buffers, reused (scanning is synchronous): group `g` of the candidate being read has `size[g]` digits
 * and ends at `groupEnd[g]`, with `digitsTo[g]` digits and `sepsTo[g]` separators up to there.
 */
const MAX_GROUPS = NATIONAL_SPAN;
const size = new Int32Array(MAX_GROUPS);
const groupEnd = new Int32Array(MAX_GROUPS);
const digitsTo = new Int32Array(MAX_GROUPS);
const sepsTo = new Int32Array(MAX_GROUPS);

class NationalNumbers {
  private readonly regions: readonly string[];
  /** Verdicts by the candidate's digits (its punctuation does not change what libphonenumber-js says). */
  private readonly verdicts = new Map<number, boolean>();

  constructor(regions: readonly string[]) {
    this.regions = regions;
  }

  /**
   * Reads digit groups from `start` (an optional parenthesised first group, then groups of two or more digits joined
   * by single spaces, dashes or dots) and emits the longest candidate that ends a group, has a phone-like context
   * and validates.
   */
  scanAt(text: string, start: number, emit: Emit): void {
    const limit = Math.min(text.length, start + NATIONAL_SPAN);
    let p = start;
    let parens = false;
    let groups = 0;
    let digits = 0;
    if (text.charCodeAt(p) === 40) {
      p++;
      const open = p;
      while (p < limit && isDigit(text.charCodeAt(p))) p++;
      if (p - open > 4 || text.charCodeAt(p) !== 41) return;
      parens = true;
      digits = p - open;
      size[0] = digits;
      groupEnd[0] = p;
      digitsTo[0] = digits;
      sepsTo[0] = 0;
      groups = 1;
      p++;
      if (text.charCodeAt(p) === 32 || text.charCodeAt(p) === 45) p++;
      if (!isDigit(text.charCodeAt(p))) return;
    } else if (isPostcodeFirst(text, p)) return;
    let separators = 0;
    let kinds = 0;
    while (p < limit) {
      const from = p;
      while (p < limit && isDigit(text.charCodeAt(p))) p++;
      // A run of digit groups longer than any phone number (card groups, `1 1 1 …`) holds none.
      if (p === limit && p < text.length && continuesRun(text, p)) return;
      // A one-digit group after the first: not how numbers are grouped (and `1 1 1 …` would make every start a try).
      if (p - from < 2 && groups > (parens ? 1 : 0)) break;
      digits += p - from;
      size[groups] = p - from;
      groupEnd[groups] = p;
      digitsTo[groups] = digits;
      sepsTo[groups] = separators;
      groups++;
      const c = text.charCodeAt(p);
      if ((c === 32 || c === 45 || c === 46) && p + 1 < limit && isDigit(text.charCodeAt(p + 1))) {
        kinds |= c === 32 ? 1 : c === 45 ? 2 : 4;
        separators++;
        p++;
      } else break;
    }
    const first = parens ? 1 : 0;
    for (let k = groups - 1, tries = 0; k >= first && tries < 4; k--) {
      const end = groupEnd[k]!;
      const count = digitsTo[k]!;
      if (count > MAX_DIGITS) continue;
      if (count < MIN_DIGITS) return;
      tries++;
      const next = text.charCodeAt(end);
      if (
        end < text.length &&
        (isAlnum(next) || next === 43 || next === 58 || ((next === 45 || next === 46 || next === 47) && isDigit(text.charCodeAt(end + 1))))
      )
        continue;
      if (!this.phoneLike(text, start, end, parens, sepsTo[k]!, kinds, k + 1)) continue;
      if (this.valid(text, start, end, count)) {
        emit('PHONE', start, end);
        return;
      }
    }
  }

  /** Cheapest tests first: the word right before, the formatting, then the phone words around. */
  private phoneLike(text: string, start: number, end: number, parens: boolean, separators: number, kinds: number, groups: number): boolean {
    if (notPhoneBefore(text, start)) return false;
    if (parens) return true;
    if (separators > 0 && !isThousands(groups, kinds) && !isDate(text, start, groups)) {
      if (text.charCodeAt(start) === 48 || separators >= 2) return true;
    }
    return PHONE_WORD.test(text.slice(Math.max(0, start - NATIONAL_BEFORE), start)) || PHONE_AFTER.test(text.slice(end, end + AFTER));
  }

  private valid(text: string, start: number, end: number, count: number): boolean {
    let key = count;
    for (let i = start; i < end; i++) {
      const c = text.charCodeAt(i);
      if (isDigit(c)) key = key * 10 + (c - 48);
    }
    const known = this.verdicts.get(key);
    if (known !== undefined) return known;
    const lib = maxLibrary();
    const candidate = text.slice(start, end);
    let ok = false;
    for (const region of this.regions) {
      // The default region comes from the locale unchecked (checking it would load the metadata at construction):
      // an unknown one is skipped.
      if (!lib.isSupportedCountry(region)) continue;
      if (lib.parsePhoneNumberFromString(candidate, region as PhoneMax.CountryCode)?.isValid()) {
        ok = true;
        break;
      }
    }
    if (this.verdicts.size >= 4096) this.verdicts.clear();
    this.verdicts.set(key, ok);
    return ok;
  }
}

function continuesRun(text: string, p: number): boolean {
  const c = text.charCodeAt(p);
  return isDigit(c) || ((c === 32 || c === 45 || c === 46) && isDigit(text.charCodeAt(p + 1)));
}

/**
 * A postcode just before a number ("Hungary 34796 (37) 788-063", "61487 416 60 039"): a first group of five digits
 * followed by a space, unless it has a trunk 0 and what follows is not a group of four or more with its own
 * (`07700 900123`, `05334 75 83 35`, `07700 063 966`; but `04293 0479 50 54 03`).
 */
function isPostcodeFirst(text: string, p: number): boolean {
  for (let i = 0; i < 5; i++) if (!isDigit(text.charCodeAt(p + i))) return false;
  if (text.charCodeAt(p + 5) !== 32 || !isDigit(text.charCodeAt(p + 6))) return false;
  if (text.charCodeAt(p) !== 48) return true;
  let next = p + 6;
  while (isDigit(text.charCodeAt(next))) next++;
  return text.charCodeAt(p + 6) === 48 && next - (p + 6) >= 4;
}

/** `1 234 567`, `12.345.678`: a first group of 1–3 digits, then groups of three, one separator kind. */
function isThousands(groups: number, kinds: number): boolean {
  if (groups < 2 || (kinds & (kinds - 1)) !== 0 || size[0]! > 3) return false;
  for (let i = 1; i < groups; i++) if (size[i] !== 3) return false;
  return true;
}

/**
 * A date: `2024-05-12` (then maybe the hour), `12.05.2024`, `1/5/24`; the first three groups joined by dashes, dots
 * or slashes, with a month of 1–12 and a day of 1–31.
 */
function isDate(text: string, start: number, groups: number): boolean {
  if (groups < 3) return false;
  for (let g = 0; g < 2; g++) if (text.charCodeAt(groupEnd[g]!) === 32) return false;
  const a = valueOf(text, start, groupEnd[0]!);
  const b = valueOf(text, groupEnd[0]! + 1, groupEnd[1]!);
  const c = groupEnd[1]! + 1;
  const day = (d: number) => d >= 1 && d <= 31;
  const month = (m: number) => m >= 1 && m <= 12;
  if (size[0] === 4) return month(b) && day(valueOf(text, c, groupEnd[2]!));
  return groups === 3 && (size[2] === 4 || size[2] === 2) && ((day(a) && month(b)) || (month(a) && day(b)));
}

function valueOf(text: string, from: number, to: number): number {
  let v = 0;
  for (let i = from; i < to; i++) v = v * 10 + (text.charCodeAt(i) - 48);
  return v;
}

/**
 * Reads digits with single separators (space, dash, dot) and one parenthesised group after the prefix, then tries
 * the longest candidate ending on a digit group first, shortening at spaces ("+44 20 7946 0958 2024" is found
 * without the year).
 */
function internationalEnd(text: string, body: number): number {
  const ends: number[] = [];
  let p = body;
  let digits = 0;
  let open = false;
  while (p < text.length && p - body < MAX_INTL) {
    const c = text.charCodeAt(p);
    const prev = text.charCodeAt(p - 1);
    if (isDigit(c)) {
      digits++;
      p++;
      if (!isDigit(text.charCodeAt(p)) && !open && digits >= 7) ends.push(p);
    } else if (c === 40 && !open && !isDigit(prev)) {
      open = true;
      p++;
    } else if (c === 41 && open && isDigit(prev)) {
      open = false;
      p++;
    } else if (
      (c === 32 || c === 45 || c === 46) &&
      (isDigit(prev) || prev === 41) &&
      (isDigit(text.charCodeAt(p + 1)) || text.charCodeAt(p + 1) === 40)
    ) {
      p++;
    } else {
      break;
    }
  }
  for (let k = ends.length - 1, tries = 0; k >= 0 && tries < 4; k--, tries++) {
    const end = ends[k]!;
    const next = text.charCodeAt(end);
    if (end < text.length && (isAlnum(next) || ((next === 45 || next === 46) && isDigit(text.charCodeAt(end + 1))))) continue;
    if (possibleNumber('+' + text.slice(body, end))) return end;
  }
  return -1;
}

let minLib: typeof PhoneMin | undefined;
let maxLib: typeof PhoneMax | undefined;

/**
 * libphonenumber-js and its metadata are loaded on the first candidate, not when hookchain is imported: most apps
 * never scan one. `require` of its CommonJS build (package.json `exports`: `./min` and `./max` have a `require`
 * entry) keeps the scan synchronous, which a dynamic `import()` could not. International numbers are checked for a
 * possible length with the small `min` metadata (80 kB); national numbers need the digit patterns of the `max`
 * metadata (145 kB), loaded on the first national candidate or when `regions` is given.
 */
function minLibrary(): typeof PhoneMin {
  minLib ??= createRequire(import.meta.url)('libphonenumber-js/min') as typeof PhoneMin;
  return minLib;
}

function maxLibrary(): typeof PhoneMax {
  maxLib ??= createRequire(import.meta.url)('libphonenumber-js/max') as typeof PhoneMax;
  return maxLib;
}

/** Whether libphonenumber-js knows `region` (an ISO 3166 alpha-2 code, upper case). */
export function isSupportedRegion(region: string): boolean {
  return /^[A-Z]{2}$/.test(region) && maxLibrary().isSupportedCountry(region);
}

/** The region of the process locale (`en-GB` → `GB`) when it has one that libphonenumber-js supports, else `US`. */
export function defaultRegions(): string[] {
  let region: string | undefined;
  try {
    region = new Intl.Locale(Intl.DateTimeFormat().resolvedOptions().locale).region;
  } catch {
    region = undefined;
  }
  return region !== undefined && /^[A-Z]{2}$/.test(region) ? [region] : ['US'];
}

const verdicts = new Map<string, boolean>();

/** libphonenumber-js parses in tens of microseconds; the same number in a long text is judged once. */
function possibleNumber(candidate: string): boolean {
  const known = verdicts.get(candidate);
  if (known !== undefined) return known;
  const digitCount = candidate.replace(/\D/g, '').length;
  const ok = digitCount >= 8 && digitCount <= 15 && minLibrary().parsePhoneNumberFromString(candidate)?.isPossible() === true;
  if (verdicts.size >= 1024) verdicts.clear();
  verdicts.set(candidate, ok);
  return ok;
}
