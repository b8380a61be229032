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
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29, BY: 28, CH: 21, CR: 22,
  CY: 28, CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FK: 18, FO: 18, FR: 27, GB: 22,
  GE: 22, GI: 23, GL: 18, GR: 27, GT: 28, HN: 28, HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30,
  KW: 30, KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20, LV: 21, LY: 25, MC: 27, MD: 24, ME: 22, MK: 19, MN: 20,
  MR: 27, MT: 31, MU: 30, NI: 28, NL: 18, NO: 15, OM: 23, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22,
  RU: 33, SA: 24, SC: 31, SD: 18, SE: 24, SI: 19, SK: 24, SM: 27, SO: 23, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26,
  UA: 29, VA: 22, VG: 24, XK: 20, YE: 30,
};

/** Two letters and two digits; the boundary before them is checked by hand (a lookbehind would slow the search). */
const START = /[A-Za-z]{2}\d{2}/g;

export function scanIbans(text: string, emit: Emit): void {
  START.lastIndex = 0;
  for (let m = START.exec(text); m !== null; m = START.exec(text)) {
    const start = m.index;
    START.lastIndex = start + 1;
    if (start > 0 && isAlnum(text.charCodeAt(start - 1))) continue;
    const length = LENGTH[m[0].slice(0, 2).toUpperCase()];
    if (length === undefined) continue;
    const end = ibanEnd(text, start, length);
    if (end !== -1) emit('IBAN', start, end);
  }
}

/**
 * Reads `length` letters and digits from `start`, allowing one kind of single separator (space or dash) between
 * them and one letter case throughout, and checks mod-97 on the way (the first four characters count last); -1 if
 * it does not fit or the checksum fails.
 */
function ibanEnd(text: string, start: number, length: number): number {
  let rest = 0;
  let seen = 0;
  let separator = 0;
  let letterCase = 0;
  let p = start;
  while (seen < length) {
    if (p >= text.length) return -1;
    const c = text.charCodeAt(p);
    if (isAlnum(c)) {
      if (!isDigit(c)) {
        const lower = c >= 97 ? 1 : 2;
        if (letterCase !== 0 && letterCase !== lower) return -1;
        letterCase = lower;
      }
      if (seen >= 4) rest = mod97(rest, c);
      seen++;
      p++;
    } else if ((c === 32 || c === 45) && (separator === 0 || separator === c) && seen > 0 && p + 1 < text.length && isAlnum(text.charCodeAt(p + 1))) {
      separator = c;
      p++;
    } else {
      return -1;
    }
  }
  if (p < text.length && isAlnum(text.charCodeAt(p))) return -1;
  for (let i = 0; i < 4; i++) rest = mod97(rest, text.charCodeAt(start + i));
  return rest === 1 ? p : -1;
}

function mod97(rest: number, c: number): number {
  return isDigit(c) ? (rest * 10 + (c - 48)) % 97 : (rest * 100 + ((c | 32) - 87)) % 97;
}

export function ibanChecksumValid(iban: string): boolean {
  if (iban.length < 5) return false;
  let rest = 0;
  const s = iban.slice(4) + iban.slice(0, 4);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!isAlnum(c)) return false;
    rest = mod97(rest, c);
  }
  return rest === 1;
}
