/**
 * The text prompt-injection rules are matched against, built the same way for the input and for the patterns:
 * compatibility-decomposed (NFKD: full-width, ligatures, mathematical and circled letters become ASCII) with the
 * combining marks dropped (so `ïgnörë` reads `ignore`), zero-width and other invisible format characters removed,
 * lower-cased, common leetspeak and look-alike letters folded (`1gn0re`, Cyrillic `о`), `l` read as `i` (so `1`
 * and `l` meet), and every run of spaces and punctuation turned into one space.
 *
 * Each code point is mapped on its own and spaces collapse left to right, so the normal form of a text is a prefix
 * of the normal form of any longer text: a stream can be normalised chunk by chunk with the same result.
 */

/** ASCII after case folding; digits and symbols that stand for letters in leetspeak. */
const LEET: Readonly<Record<string, string>> = {
  '0': 'o',
  '1': 'i',
  '3': 'e',
  '4': 'a',
  '5': 's',
  '7': 't',
  '@': 'a',
  $: 's',
  '!': 'i',
  '|': 'i',
  l: 'i',
};

/** Letters from other scripts that look like Latin ones, after lower-casing. */
const LOOKALIKE: Readonly<Record<string, string>> = {
  а: 'a',
  в: 'b',
  е: 'e',
  ѕ: 's',
  і: 'i',
  ј: 'j',
  к: 'k',
  м: 'm',
  н: 'h',
  о: 'o',
  р: 'p',
  с: 'c',
  т: 't',
  у: 'y',
  х: 'x',
  һ: 'h',
  ԁ: 'd',
  ԛ: 'q',
  ԝ: 'w',
  ӏ: 'i',
  α: 'a',
  β: 'b',
  ε: 'e',
  η: 'n',
  ι: 'i',
  κ: 'k',
  ν: 'v',
  ο: 'o',
  ρ: 'p',
  τ: 't',
  υ: 'u',
  χ: 'x',
  ı: 'i',
  ɑ: 'a',
  ɡ: 'g',
  ʏ: 'y',
  ß: 'ss',
};

const INVISIBLE = /^[\p{Cf}\p{Mn}\p{Me}\u180e\u3164\uffa0]$/u;
const SPACE_LIKE = /^[\s\p{Z}\p{P}\p{S}\p{Cc}]$/u;
const MARKS = /\p{M}/gu;

const ASCII = new Array<string>(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c).toLowerCase();
  ASCII[c] = LEET[ch] ?? (/[a-z0-9]/.test(ch) ? ch : ' ');
}

const cache = new Map<number, string>();

/** What one code point becomes: letters and digits, `' '` for a separator, `''` for nothing. */
function mapCodePoint(cp: number): string {
  if (cp < 128) return ASCII[cp]!;
  const known = cache.get(cp);
  if (known !== undefined) return known;
  const ch = String.fromCodePoint(cp);
  let out: string;
  // A lone surrogate (broken UTF-16) carries no letter.
  if (INVISIBLE.test(ch) || (cp >= 0xd800 && cp <= 0xdfff)) out = '';
  else {
    out = '';
    for (const part of ch.normalize('NFKD').replace(MARKS, '').toLowerCase()) {
      const code = part.codePointAt(0)!;
      if (code < 128) out += ASCII[code]!;
      else out += LOOKALIKE[part] ?? (SPACE_LIKE.test(part) ? ' ' : part);
    }
  }
  if (cache.size < 4096) cache.set(cp, out);
  return out;
}

export interface Normalized {
  text: string;
  /** `ends[i]`: length of the normal form after reading raw code units `0..i`. */
  ends: Int32Array;
  /** Whether the normal form ended with a space after each raw code unit. */
  spaceAfter: Uint8Array;
  /** Whether the whole normal form ends with a space. */
  space: boolean;
}

/** Normal form of `raw`, continuing a text whose normal form so far ended with a space iff `space`. */
export function normalizeWithMap(raw: string, space = false): Normalized {
  const ends = new Int32Array(raw.length);
  const spaceAfter = new Uint8Array(raw.length);
  let out = '';
  for (let i = 0; i < raw.length;) {
    const cp = raw.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    for (const ch of mapCodePoint(cp)) {
      if (ch === ' ') {
        if (space) continue;
        space = true;
      } else {
        space = false;
      }
      out += ch;
    }
    for (let k = 0; k < width; k++) {
      ends[i + k] = out.length;
      spaceAfter[i + k] = space ? 1 : 0;
    }
    i += width;
  }
  return { text: out, ends, spaceAfter, space };
}

const ASCII_CODES = Uint8Array.from(ASCII, (ch) => ch.charCodeAt(0));
const UTF16 = new TextDecoder('utf-16le');

/**
 * What each BMP code unit outside ASCII becomes, filled in as the units are met (most texts use few): 0 not known
 * yet, 1 nothing, 2 more than one unit (read `mapCodePoint`), otherwise the one unit it maps to plus 3. Surrogates
 * are never stored: they are read as pairs.
 */
const BMP = new Int32Array(0x10000);

function bmpEntry(c: number): number {
  const mapped = mapCodePoint(c);
  const entry = mapped.length === 0 ? 1 : mapped.length === 1 ? mapped.charCodeAt(0) + 3 : 2;
  BMP[c] = entry;
  return entry;
}

/**
 * Output buffers, reused across calls (a check is synchronous, so one at a time): bytes while every output unit is
 * below 256, which `latin1` decodes into a one-byte string far faster than a UTF-16 decode, and 16-bit units from
 * the first one above.
 */
let narrow = Buffer.alloc(4096);
let wide = new Uint16Array(4096);

/**
 * The same normal form as `normalizeWithMap(raw).text` (a spec checks that they agree) in one tight loop over
 * character codes, ASCII by table: what a non-streaming check uses.
 */
export function normalizeText(raw: string): string {
  const length = raw.length;
  // In this loop each code unit yields at most one byte (an expansion such as `ß` goes on in normalizeWide).
  if (narrow.length < length + 16) narrow = Buffer.alloc(length * 2 + 16);
  const bytes = narrow;
  let n = 0;
  // The last unit written (1: none yet; the normal form starts unspaced). Every unit is written, and counted unless it is a space
  // after a space: `(code | last) === 32` holds only then, as every output unit has the 0x20 bit set (letters,
  // digits, space) or is above 127, and the test costs no branch.
  let last = 1;
  let i = 0;
  for (; i < length; i++) {
    const c = raw.charCodeAt(i);
    let code: number;
    if (c < 128) code = ASCII_CODES[c]!;
    else if (c >= 0xd800 && c <= 0xdfff) break;
    else {
      const entry = BMP[c] || bmpEntry(c);
      if (entry === 1) continue;
      if (entry === 2 || entry >= 256 + 3) break;
      code = entry - 3;
    }
    bytes[n] = code;
    n += (code | last) === 32 ? 0 : 1;
    last = code;
  }
  if (i === length) return bytes.toString('latin1', 0, n);
  return normalizeWide(raw, i, bytes, n, last === 32);
}

/** Whether 16-bit units are stored little-endian, as the `utf16le` decode of a Buffer reads them (so on x86 and ARM). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function wideBuffer(size: number): Uint16Array {
  if (wide.length < size) wide = new Uint16Array(size * 2);
  return wide;
}

/** The rest of `normalizeText` from `i` on, once a unit needs more than a byte (or a pair or expansion is met). */
function normalizeWide(raw: string, i: number, head: Uint8Array, headLength: number, space: boolean): string {
  // Expansions are rare and short (at most 18 units from one code point): grow with room for one more.
  let out = wideBuffer(raw.length + 32);
  out.set(head.subarray(0, headLength));
  let n = headLength;
  let last = space ? 32 : 1; // as in normalizeText
  for (; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    let code: number;
    if (c < 128) code = ASCII_CODES[c]!;
    else {
      let entry = 2;
      if (c < 0xd800 || c > 0xdfff) {
        entry = BMP[c] || bmpEntry(c);
        if (entry === 1) continue;
      }
      if (entry !== 2) code = entry - 3;
      else {
        const cp = raw.codePointAt(i)!;
        if (cp > 0xffff) i++;
        const mapped = mapCodePoint(cp);
        if (n + mapped.length + 32 > out.length) {
          const bigger = new Uint16Array(out.length * 2 + mapped.length);
          bigger.set(out.subarray(0, n));
          out = wide = bigger;
        }
        for (let k = 0; k < mapped.length; k++) {
          const unit = mapped.charCodeAt(k);
          out[n] = unit;
          n += (unit | last) === 32 ? 0 : 1;
          last = unit;
        }
        continue;
      }
    }
    if (n === out.length) {
      const bigger = new Uint16Array(out.length * 2);
      bigger.set(out);
      out = wide = bigger;
    }
    out[n] = code;
    n += (code | last) === 32 ? 0 : 1;
    last = code;
  }
  // A Buffer over the same memory decodes several times faster than a TextDecoder.
  return LITTLE_ENDIAN ? Buffer.from(out.buffer, out.byteOffset, n * 2).toString('utf16le') : UTF16.decode(out.subarray(0, n));
}

/**
 * Prepares a user RegExp for the normal form: case-insensitive, and `l`/`L` written as `i` like the text
 * (outside `\p{…}` escapes).
 */
export function normalizePattern(pattern: RegExp): RegExp {
  const source = pattern.source.replace(/\\[pP]\{[^}]*\}|[lL]/g, (m) => (m.length === 1 ? 'i' : m));
  const flags = new Set([...pattern.flags.replace(/[gy]/g, ''), 'i', 'g']);
  return new RegExp(source, [...flags].join(''));
}
