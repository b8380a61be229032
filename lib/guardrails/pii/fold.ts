/**
 * The text the built-in PII scanners read: the same disguises the injection check folds away, undone in a way that
 * keeps every offset traceable to the original. Between two visible characters, a gap of at most `MAX_GAP` code
 * units of whitespace and invisible characters folds to
 *   - one space if it holds a line break (`4111\n1111`, `4111\r\n1111`),
 *   - otherwise its spaces (tab, no-break and other Unicode spaces become `' '`) without its invisible characters
 *     (zero-width, joiners, soft hyphen, bidi controls, combining marks, tag characters): `4111\u200b1111` reads
 *     `41111111`.
 * A longer gap is left as it is, so it still separates everything: that bound is what keeps a candidate's raw span
 * (and a stream's hold-back) bounded, at most `MAX_GAP + 1` raw units per folded character.
 *
 * Every folded character knows the raw span it stands for, so a finding maps back to the original text and masking
 * covers the invisible characters inside it. The fold is linear: one pass over the code units.
 */

export const MAX_GAP = 16;

/** What a code unit (or a surrogate pair) is, for folding (plain numbers: type stripping has no enums). */
export const VISIBLE = 0;
const SPACE_KIND = 1;
const LINE_BREAK = 2;
const INVISIBLE_KIND = 3;

export interface Folded {
  readonly text: string;
  /** Raw start and end of each folded character; absent when every raw unit folded to exactly one character. */
  readonly starts?: Int32Array;
  readonly ends?: Int32Array;
}

/** Characters that may change the fold; text without any folds to itself (plain spaces do not change it). */
const FOLDABLE =
  // eslint-disable-next-line no-misleading-character-class -- ranges of combining marks, written as escapes on purpose
  /[\t\n\v\f\r\u0080-\u00a0\u00ad\u0300-\u036f\u0483-\u0489\u061c\u115f\u1160\u1680\u17b4\u17b5\u180b-\u180f\u1ab0-\u1aff\u1dc0-\u1dff\u2000-\u200f\u2028-\u202f\u205f-\u206f\u20d0-\u20ff\u3000\u3164\ufe00-\ufe0f\ufe20-\ufe2f\ufeff\uffa0\ud800-\udbff]/;
const INVISIBLE = /^[\p{Cf}\p{Mn}\p{Me}\u115f\u1160\u3164\uffa0]$/u;
const SPACE = /^\p{Zs}$/u;

let bmpKinds: Uint8Array | undefined;

/** Kinds of the BMP, built on first use (a few milliseconds), not at import. */
function kinds(): Uint8Array {
  if (bmpKinds) return bmpKinds;
  const table = new Uint8Array(0x10000);
  for (let c = 0x80; c < 0x10000; c++) {
    if (c >= 0xd800 && c <= 0xdfff) continue;
    const ch = String.fromCharCode(c);
    if (c === 0x85 || c === 0x2028 || c === 0x2029) table[c] = LINE_BREAK;
    else if (SPACE.test(ch)) table[c] = SPACE_KIND;
    else if (INVISIBLE.test(ch)) table[c] = INVISIBLE_KIND;
  }
  for (const c of [9, 32]) table[c] = SPACE_KIND;
  for (const c of [10, 11, 12, 13]) table[c] = LINE_BREAK;
  bmpKinds = table;
  return table;
}

/** The kind of the character at `i`; a surrogate pair is invisible when its code point is (tag characters). */
export function kindAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff) {
    const next = text.charCodeAt(i + 1);
    if (next >= 0xdc00 && next <= 0xdfff && INVISIBLE.test(String.fromCodePoint(text.codePointAt(i)!))) return INVISIBLE_KIND;
    return VISIBLE;
  }
  return kinds()[c]!;
}

/** Code units of the character at `i` (2 for a surrogate pair). */
function widthAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c < 0xd800 || c > 0xdbff) return 1;
  const next = text.charCodeAt(i + 1);
  return next >= 0xdc00 && next <= 0xdfff ? 2 : 1;
}

/** The end of the gap (whitespace and invisible characters) starting at `i`. */
export function gapEnd(text: string, i: number): number {
  while (i < text.length && kindAt(text, i) !== VISIBLE) i += widthAt(text, i);
  return i;
}

const UTF16 = new TextDecoder('utf-16le');

export function foldForPii(text: string): Folded {
  if (!FOLDABLE.test(text)) return { text };
  const n = text.length;
  const out = new Uint16Array(n);
  const starts = new Int32Array(n);
  const ends = new Int32Array(n);
  let o = 0;
  const put = (code: number, start: number, end: number) => {
    out[o] = code;
    starts[o] = start;
    ends[o] = end;
    o++;
  };
  for (let i = 0; i < n;) {
    if (kindAt(text, i) === VISIBLE) {
      put(text.charCodeAt(i), i, i + 1);
      i++;
      continue;
    }
    const end = gapEnd(text, i);
    if (end - i > MAX_GAP) {
      for (let p = i; p < end; p++) put(text.charCodeAt(p), p, p + 1);
    } else if (hasLineBreak(text, i, end)) {
      put(32, i, end);
    } else {
      for (let p = i; p < end; p++) if (kindAt(text, p) === SPACE_KIND) put(32, p, p + 1);
    }
    i = end;
  }
  const folded = UTF16.decode(out.subarray(0, o));
  // Each raw unit became one folded character: offsets are unchanged, no map needed.
  return o === n ? { text: folded } : { text: folded, starts: starts.subarray(0, o), ends: ends.subarray(0, o) };
}

function hasLineBreak(text: string, from: number, to: number): boolean {
  for (let p = from; p < to; p++) if (kindAt(text, p) === LINE_BREAK) return true;
  return false;
}
