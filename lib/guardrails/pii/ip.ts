/**
 * IP addresses. IPv4: four dotted octets 0–255 without leading zeros (`03.93.92.16` is a phone number in
 * French, not an address), optional CIDR suffix, not part of a longer dotted number (`1.2.3.4.5` is a version).
 * IPv6: every RFC 4291 text form — full, `::`-compressed, with an embedded IPv4 tail — plus an optional zone
 * (`%eth0`) and prefix length. The bare `::` is not reported: in prose and code it is punctuation far more often.
 */
import { eachStart, isWordChar } from './chars.ts';
import type { Emit } from './types.ts';

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = new RegExp(`(?<![0-9A-Za-z.])(?:${OCTET}\\.){3}${OCTET}(?:/(?:3[0-2]|[12]?\\d))?(?![0-9A-Za-z])(?!\\.\\d)`, 'g');
const IPV4_EXACT = new RegExp(`^(?:${OCTET}\\.){3}${OCTET}$`);
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;
/** The longest IPv6 text form (`ffff:…:255.255.255.255`) is 45 characters; one trailing dot may follow. */
const MAX_RUN = 46;

export function scanIpv4(text: string, emit: Emit): void {
  eachStart(IPV4, text, (m) => emit('IP_ADDRESS', m.index, m.index + m[0].length));
}

function isRunChar(c: number): boolean {
  return (c >= 48 && c <= 58) || ((c | 32) >= 97 && (c | 32) <= 102) || c === 46;
}

/** Each maximal run of hex digits, colons and dots that holds a colon is examined once. */
export function scanIpv6(text: string, emit: Emit): void {
  const n = text.length;
  for (let colon = text.indexOf(':'); colon !== -1;) {
    let start = colon;
    while (start > 0 && isRunChar(text.charCodeAt(start - 1))) start--;
    let end = colon + 1;
    while (end < n && isRunChar(text.charCodeAt(end))) end++;
    if (end - start <= MAX_RUN && end - start > 2 && mayBeIpv6(text, start, end)) ipv6Run(text, start, end, emit);
    colon = end < n ? text.indexOf(':', end) : -1;
  }
}

/**
 * Cheap pre-check before slicing: an address has a `::` or at least six colons (seven, or six before an IPv4
 * tail); `10:45` has neither.
 */
function mayBeIpv6(text: string, start: number, end: number): boolean {
  let colons = 0;
  for (let i = start; i < end; i++) {
    if (text.charCodeAt(i) !== 58) continue;
    if (text.charCodeAt(i + 1) === 58) return true;
    colons++;
  }
  return colons >= 6;
}

function ipv6Run(text: string, start: number, end: number, emit: Emit): void {
  if (start > 0 && isWordChar(text.charCodeAt(start - 1))) return;
  while (end > start && text.charCodeAt(end - 1) === 46) end--;
  if (end - start > 2 && text.charCodeAt(end - 1) === 58 && text.charCodeAt(end - 2) !== 58) end--;
  if (!isIpv6(text.slice(start, end))) return;
  end = suffixEnd(text, end);
  if (end < text.length && isWordChar(text.charCodeAt(end))) return;
  emit('IP_ADDRESS', start, end);
}

/** A zone id (`%eth0`, up to 15 characters) and a prefix length (`/64`, at most 128), when well-formed. */
function suffixEnd(text: string, end: number): number {
  if (text.charCodeAt(end) === 37) {
    let z = end + 1;
    while (z < text.length && z - end <= 16 && isWordChar(text.charCodeAt(z)) && text.charCodeAt(z) !== 95) z++;
    if (z > end + 1 && z - end <= 16) end = z;
  }
  if (text.charCodeAt(end) === 47) {
    let d = end + 1;
    while (d < text.length && d - end <= 4 && text.charCodeAt(d) >= 48 && text.charCodeAt(d) <= 57) d++;
    const bits = Number(text.slice(end + 1, d));
    if (d > end + 1 && d - end <= 4 && bits <= 128) end = d;
  }
  return end;
}

export function isIpv6(s: string): boolean {
  const gap = s.indexOf('::');
  if (gap !== -1 && s.indexOf('::', gap + 1) !== -1) return false;
  const parts = gap === -1 ? [s] : [s.slice(0, gap), s.slice(gap + 2)];
  let groups = 0;
  for (let p = 0; p < parts.length; p++) {
    const part = parts[p]!;
    if (part === '') continue;
    const items = part.split(':');
    for (let k = 0; k < items.length; k++) {
      const item = items[k]!;
      if (item.includes('.')) {
        if (p !== parts.length - 1 || k !== items.length - 1 || !IPV4_EXACT.test(item)) return false;
        groups += 2;
      } else if (HEX_GROUP.test(item)) {
        groups++;
      } else {
        return false;
      }
    }
  }
  if (gap === -1) return groups === 8;
  return groups >= 1 && groups <= 7;
}
