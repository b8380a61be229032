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

const ASCII_CODES = Uint16Array.from(ASCII, (ch) => ch.charCodeAt(0));
const UTF16 = new TextDecoder('utf-16le');

/**
 * The same normal form as `normalizeWithMap(raw).text` (a spec checks that they agree) in one tight loop over
 * character codes into a typed buffer: what a non-streaming check uses.
 */
export function normalizeText(raw: string): string {
  // Each code unit yields at most one output unit, except rare non-ASCII expansions, which grow the buffer.
  let out = new Uint16Array(raw.length + 16);
  let n = 0;
  let space = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    let mapped: string | undefined;
    let code = 0;
    if (c < 128) code = ASCII_CODES[c]!;
    else {
      const cp = raw.codePointAt(i)!;
      if (cp > 0xffff) i++;
      mapped = mapCodePoint(cp);
      if (n + mapped.length >= out.length) {
        const bigger = new Uint16Array(out.length * 2 + mapped.length);
        bigger.set(out);
        out = bigger;
      }
    }
    const count = mapped === undefined ? 1 : mapped.length;
    for (let k = 0; k < count; k++) {
      if (mapped !== undefined) code = mapped.charCodeAt(k);
      if (code === 32) {
        if (space) continue;
        space = true;
      } else {
        space = false;
      }
      out[n++] = code;
    }
  }
  return UTF16.decode(out.subarray(0, n));
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
