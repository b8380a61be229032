/**
 * Phone numbers.
 * - North American forms, Agno's four (`555-123-4567`, `555.987.6543`, `5551234567`, `555 123 4567`) plus
 *   `(555) 123-4567`, a `+1`/`1` prefix and an extension (`x123`, `ext. 123`), not part of a longer number.
 * - International numbers written with `+` or the `00` prefix (`+44 20 7946 0958`, `0033 1 42 68 53 00`), checked
 *   against the numbering plan of the country code by libphonenumber-js (length per country), so that `+` followed
 *   by any digits is not enough.
 * Not covered: national formats of other countries without a country code (`07700 900123`, `09-7625400`): without
 * the country they cannot be told apart from other numbers.
 */
import { createRequire } from 'node:module';
import type * as PhoneMetadata from 'libphonenumber-js/min';
import { eachStart, isAlnum, isDigit } from './chars.ts';
import type { Emit } from './types.ts';

const US =
  /(?<![0-9A-Za-z+])(?<![0-9][-.])(?:\+?1[-. ]?)?(?:\(\d{3}\) ?|\d{3}[-. ]?)\d{3}[-. ]?\d{4}(?: ?(?:x|ext\.?|#) ?\d{1,6})?(?![0-9A-Za-z])(?![-.]\d)/gi;
const INTL_START = /(?<![0-9A-Za-z+])(?:\+|00)(?=[1-9])/g;
/** Longest international candidate looked at, in characters after the prefix. */
const MAX_INTL = 28;

export function scanPhones(text: string, emit: Emit): void {
  eachStart(US, text, (m) => emit('PHONE', m.index, m.index + m[0].length));
  eachStart(INTL_START, text, (m) => {
    const end = internationalEnd(text, m.index + m[0].length);
    if (end !== -1) emit('PHONE', m.index, end);
  });
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

let phoneLib: typeof PhoneMetadata | undefined;

/**
 * libphonenumber-js and its metadata are loaded on the first international candidate, not when hookchain is
 * imported: most apps never scan one. `require` of its CommonJS build (package.json `exports`: `./min` has a
 * `require` entry) keeps the scan synchronous, which a dynamic `import()` could not.
 */
function phoneLibrary(): typeof PhoneMetadata {
  phoneLib ??= createRequire(import.meta.url)('libphonenumber-js/min') as typeof PhoneMetadata;
  return phoneLib;
}

const verdicts = new Map<string, boolean>();

/** libphonenumber-js parses in tens of microseconds; the same number in a long text is judged once. */
function possibleNumber(candidate: string): boolean {
  const known = verdicts.get(candidate);
  if (known !== undefined) return known;
  const digitCount = candidate.replace(/\D/g, '').length;
  const ok = digitCount >= 8 && digitCount <= 15 && phoneLibrary().parsePhoneNumberFromString(candidate)?.isPossible() === true;
  if (verdicts.size >= 1024) verdicts.clear();
  verdicts.set(candidate, ok);
  return ok;
}
