/**
 * US Social Security numbers: `ddd-dd-dddd`, also with dots or spaces (one separator used throughout), not part
 * of a longer number. The SSA never issues area 000, 666 or 900–999, group 00 or serial 0000, so those are not SSNs.
 * Nine bare digits are not matched: any nine-digit number would be (Presidio scores them as low confidence too).
 */
import { eachStart } from './chars.ts';
import type { Emit } from './types.ts';

const SSN = /(?<![0-9A-Za-z])(?<![0-9][-.])(\d{3})([-. ])(\d{2})\2(\d{4})(?![0-9A-Za-z])(?![-.]\d)/g;

function isValidSsn(area: string, group: string, serial: string): boolean {
  return area !== '000' && area !== '666' && area[0] !== '9' && group !== '00' && serial !== '0000';
}

export function scanSsn(text: string, emit: Emit): void {
  eachStart(SSN, text, (m) => {
    if (isValidSsn(m[1]!, m[3]!, m[4]!)) emit('SSN', m.index, m.index + m[0].length);
  });
}
