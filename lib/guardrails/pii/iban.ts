/**
 * IBANs: a country code, two check digits and the account number, with the length that country's IBAN has
 * (SWIFT IBAN registry), optionally in groups separated by single spaces, and the ISO 7064 mod-97 check equal to 1.
 * Upper or lower case. A wrong length for the country, a wrong checksum or letters glued on either side: not an IBAN.
 */
import { eachStart, isAlnum, isDigit } from './chars.ts';
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

const START = /(?<![0-9A-Za-z])[A-Za-z]{2}\d{2}/g;

export function scanIbans(text: string, emit: Emit): void {
  eachStart(START, text, (m) => {
    const length = LENGTH[m[0].slice(0, 2).toUpperCase()];
    if (length === undefined) return;
    const end = ibanEnd(text, m.index, length);
    if (end !== -1) emit('IBAN', m.index, end);
  });
}

/** Reads `length` letters and digits from `start`, allowing single spaces between them; -1 if it does not fit. */
function ibanEnd(text: string, start: number, length: number): number {
  let compact = '';
  let p = start;
  while (compact.length < length) {
    if (p >= text.length) return -1;
    const c = text.charCodeAt(p);
    if (isAlnum(c)) {
      compact += text[p];
      p++;
    } else if (c === 32 && compact.length > 0 && p + 1 < text.length && isAlnum(text.charCodeAt(p + 1))) {
      p++;
    } else {
      return -1;
    }
  }
  if (p < text.length && isAlnum(text.charCodeAt(p))) return -1;
  return ibanChecksumValid(compact) ? p : -1;
}

export function ibanChecksumValid(iban: string): boolean {
  const s = iban.slice(4) + iban.slice(0, 4);
  let rest = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (isDigit(c)) {
      rest = (rest * 10 + (c - 48)) % 97;
    } else {
      const v = (c | 32) - 97 + 10;
      if (v < 10 || v > 35) return false;
      rest = (rest * 100 + v) % 97;
    }
  }
  return rest === 1;
}
