/** Character classes on UTF-16 code units; the scanners work on codes, not on substrings, to stay fast. */
export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

export function isLetter(c: number): boolean {
  const lower = c | 32;
  return lower >= 97 && lower <= 122;
}

export function isAlnum(c: number): boolean {
  return isDigit(c) || isLetter(c);
}

/** Letters, digits and `_`: what a word boundary is measured against. */
export function isWordChar(c: number): boolean {
  return isAlnum(c) || c === 95;
}

/**
 * Runs a global regex at every position where it can start, including inside an earlier match, so that what is
 * found at one position never depends on where the previous match ended. That keeps every decision local, which is
 * what lets a stream be checked in pieces with the same result as the whole text. Each pattern has bounded length,
 * so each start costs a bounded amount: total work stays linear.
 */
export function eachStart(re: RegExp, text: string, found: (match: RegExpExecArray) => void): void {
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    found(m);
    re.lastIndex = m.index + 1;
  }
}
