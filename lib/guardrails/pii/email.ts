/**
 * Email addresses, found from each `@`: a local part of letters, digits and `._%+-` (1–64 characters, RFC 5321),
 * a domain of dot-separated labels (at most 253 characters) ending in an alphabetic or punycode top-level domain.
 * Each `@` looks at most 65 characters left and 254 right, and runs never cross an `@`, so the scan is linear
 * whatever the input (no regex backtracking). Not covered: quoted local parts and non-ASCII (unencoded IDN) domains.
 */
import { isAlnum, isDigit, isLetter } from './chars.ts';
import type { Emit } from './types.ts';

const MAX_LOCAL = 64;
const MAX_DOMAIN = 253;

function isLocalChar(c: number): boolean {
  return isAlnum(c) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45;
}

function isDomainChar(c: number): boolean {
  return isAlnum(c) || c === 46 || c === 45;
}

export function scanEmails(text: string, emit: Emit): void {
  for (let at = text.indexOf('@'); at !== -1; at = text.indexOf('@', at + 1)) {
    const span = emailAt(text, at);
    if (span) emit('EMAIL', span[0], span[1]);
  }
}

function emailAt(text: string, at: number): [number, number] | undefined {
  let start = at;
  while (start > 0 && isLocalChar(text.charCodeAt(start - 1))) {
    start--;
    if (at - start > MAX_LOCAL) return undefined;
  }
  while (start < at && text.charCodeAt(start) === 46) start++;
  if (start === at || text.charCodeAt(at - 1) === 46) return undefined;
  let end = at + 1;
  while (end < text.length && isDomainChar(text.charCodeAt(end))) {
    end++;
    if (end - at - 1 > MAX_DOMAIN) return undefined;
  }
  // A sentence may end right after the address: "write to a@b.com."
  while (end > at + 1 && (text.charCodeAt(end - 1) === 46 || text.charCodeAt(end - 1) === 45)) end--;
  if (end < text.length && (text.charCodeAt(end) === 95 || text.charCodeAt(end) === 64)) return undefined;
  return validDomain(text.slice(at + 1, end)) ? [start, end] : undefined;
}

function validDomain(domain: string): boolean {
  const labels = domain.split('.');
  if (labels.length < 2) return false;
  for (const label of labels) {
    if (label === '' || label.length > 63 || label.charCodeAt(0) === 45 || label.charCodeAt(label.length - 1) === 45) return false;
  }
  const tld = labels[labels.length - 1]!;
  if (tld.startsWith('xn--')) return tld.length > 4;
  if (tld.length < 2) return false;
  for (let i = 0; i < tld.length; i++) {
    const c = tld.charCodeAt(i);
    if (!isLetter(c) || isDigit(c)) return false;
  }
  return true;
}
