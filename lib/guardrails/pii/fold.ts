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
 * covers the invisible characters inside it. The fold is linear, and cheap on ordinary text: a native search jumps
 * from one foldable character to the next, the text between is copied as is, and the offset map has an entry only
 * where the offset changes.
 */

export const MAX_GAP = 16;

/** What a code unit (or a surrogate pair) is, for folding (plain numbers: type stripping has no enums). */
const VISIBLE = 0;
const SPACE_KIND = 1;
const LINE_BREAK = 2;
const INVISIBLE_KIND = 3;

/**
 * Offsets: from folded index `fs[k]` on, folded characters stand one to one for raw units from `rs[k]` on, except
 * where `len[k] > 0`: then folded `fs[k]` alone is a collapsed gap of `len[k]` raw units. Before `fs[0]`, offsets
 * are equal.
 */
export interface OffsetMap {
  readonly fs: Int32Array;
  readonly rs: Int32Array;
  readonly len: Int32Array;
}

export interface Folded {
  readonly text: string;
  /** Absent when no offset changed (each raw unit folded to one character). */
  readonly map?: OffsetMap;
}

const INVISIBLE = /^[\p{Cf}\p{Mn}\p{Me}\u115f\u1160\u3164\uffa0]$/u;
const SPACE = /^\p{Zs}$/u;

let bmpKinds: Uint8Array | undefined;

/**
 * Where a gap other than plain spaces may be: ASCII controls and anything outside ASCII. A two-range class is what
 * the regex engine skips fastest over ordinary text; each hit is then judged by the table.
 */
const MAYBE_GAP = /[\t-\r\u0080-\uffff]/g;

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
  table[9] = table[32] = SPACE_KIND;
  table[10] = table[11] = table[12] = table[13] = LINE_BREAK;
  bmpKinds = table;
  return table;
}

/** The kind of the character at `i`; a surrogate pair is invisible when its code point is (tag characters). */
function kindAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff) {
    const next = text.charCodeAt(i + 1);
    if (next >= 0xdc00 && next <= 0xdfff && INVISIBLE.test(String.fromCodePoint(text.codePointAt(i)!))) return INVISIBLE_KIND;
    return VISIBLE;
  }
  return kinds()[c]!;
}

/**
 * Whether the unit at `i` belongs to a visible character (either half of a pair is judged by the pair): the fast
 * test the stream runs over its context on every chunk.
 */
export function isVisibleAt(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  if (c > 32 && c < 127) return true;
  if (c < 0xd800 || c > 0xdfff) return (bmpKinds ?? kinds())[c] === VISIBLE;
  return kindAt(text, c <= 0xdbff ? i : i - 1) === VISIBLE;
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

export function foldForPii(text: string): Folded {
  const re = MAYBE_GAP;
  re.lastIndex = 0;
  if (!re.test(text)) return { text };
  const table = kinds();
  const n = text.length;
  const out = new Pieces(text);
  const entries = new Entries();
  let last = 0; // raw text written so far
  let delta = 0; // raw minus folded offset of the current one-to-one run
  let hit = re.lastIndex - 1;
  while (hit !== -1) {
    const c = text.charCodeAt(hit);
    if (c < 0xd800 ? table[c] === VISIBLE : kindAt(text, hit) === VISIBLE) {
      // `test`, not `exec`: no match object per hit (ordinary text has many non-ASCII visible characters).
      re.lastIndex = hit + 1;
      hit = re.test(text) ? re.lastIndex - 1 : -1;
      continue;
    }
    // A gap: the longest run of whitespace and invisible characters around the hit (only plain spaces, which the
    // search skips, can come before it).
    let start = hit;
    while (start > last && table[text.charCodeAt(start - 1)] === SPACE_KIND) start--;
    let end = hit;
    let lineBreak = false;
    while (end < n) {
      const k = kindAt(text, end);
      if (k === VISIBLE) break;
      if (k === LINE_BREAK) lineBreak = true;
      end += widthAt(text, end);
    }
    const shortRun = start - last < 16;
    out.copy(last, start);
    if (end - start > MAX_GAP) {
      out.copy(start, end);
    } else if (lineBreak) {
      if (end - start > 1) {
        entries.push(out.length, start, end - start);
        delta = Number.NaN; // forces an entry for the run after the gap
      }
      out.space();
    } else {
      for (let p = start; p < end; p += widthAt(text, p)) {
        if (kindAt(text, p) !== SPACE_KIND) continue;
        if (p - out.length !== delta) delta = entries.push(out.length, p, 0);
        out.space();
      }
    }
    last = end;
    if (end - out.length !== delta) delta = entries.push(out.length, end, 0);
    // Gaps come in clusters in hostile input (`1\r\n1\r\n…`): look a few characters ahead before asking the
    // regex engine again, whose call costs more than the look.
    hit = shortRun ? nextMaybeGap(text, end, Math.min(n, end + 16)) : -1;
    if (hit === -1) {
      re.lastIndex = end;
      hit = re.test(text) ? re.lastIndex - 1 : -1;
    }
  }
  out.copy(last, n);
  const folded = out.done();
  return entries.size === 0 ? { text: folded } : { text: folded, map: entries.done() };
}

/** The buffer of `Pieces`, shared: a fold runs to its end without yielding, and a stream folds small windows often. */
const SCRATCH = new Uint16Array(4096);

/**
 * The folded text, built from slices of the raw text for long runs and from a buffer of code units for short ones
 * and for the spaces of folded gaps. Pushing every piece as a string cost a heap object per piece, which made
 * gap-dense input (`1\r\n1\r\n…`) slow and its garbage collection superlinear.
 */
class Pieces {
  length = 0;
  private readonly raw: string;
  private readonly parts: string[] = [];
  private readonly units = SCRATCH;
  private used = 0;

  constructor(raw: string) {
    this.raw = raw;
  }

  copy(from: number, to: number): void {
    if (to - from >= 32) {
      this.flush();
      this.parts.push(this.raw.slice(from, to));
    } else {
      for (let i = from; i < to; i++) {
        if (this.used === this.units.length) this.flush();
        this.units[this.used++] = this.raw.charCodeAt(i);
      }
    }
    this.length += to - from;
  }

  space(): void {
    if (this.used === this.units.length) this.flush();
    this.units[this.used++] = 32;
    this.length++;
  }

  done(): string {
    this.flush();
    return this.parts.join('');
  }

  private flush(): void {
    const used = this.used;
    if (used === 0) return;
    // One unit (the space of a single line break, the commonest gap in chat text): a single-character string,
    // which the engine keeps cached, instead of a view and an `apply`.
    this.parts.push(
      used === 1
        ? String.fromCharCode(this.units[0]!)
        : String.fromCharCode.apply(null, this.units.subarray(0, used) as unknown as number[]),
    );
    this.used = 0;
  }
}

/** The map's entries in three growing typed arrays (no heap object per entry). */
class Entries {
  size = 0;
  private fs: Int32Array<ArrayBuffer> = EMPTY;
  private rs: Int32Array<ArrayBuffer> = EMPTY;
  private len: Int32Array<ArrayBuffer> = EMPTY;

  /** Adds an entry; returns the delta (raw minus folded) of the run it starts. */
  push(f: number, r: number, len: number): number {
    if (this.size === this.fs.length) {
      this.fs = grow(this.fs);
      this.rs = grow(this.rs);
      this.len = grow(this.len);
    }
    this.fs[this.size] = f;
    this.rs[this.size] = r;
    this.len[this.size++] = len;
    return r - f;
  }

  done(): OffsetMap {
    return { fs: this.fs.subarray(0, this.size), rs: this.rs.subarray(0, this.size), len: this.len.subarray(0, this.size) };
  }
}

const EMPTY = new Int32Array(0);

function grow(a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const b = new Int32Array(Math.max(16, a.length * 2));
  b.set(a);
  return b;
}

/** The first code unit in `[from, to)` that `MAYBE_GAP` would find, or -1. */
function nextMaybeGap(text: string, from: number, to: number): number {
  for (let k = from; k < to; k++) {
    const c = text.charCodeAt(k);
    if (c >= 0x80 || (c >= 9 && c <= 13)) return k;
  }
  return -1;
}

/** The map entry that covers folded index `f` (-1: before the first entry). */
function entryAt(map: OffsetMap, f: number): number {
  let lo = 0;
  let hi = map.fs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (map.fs[mid]! <= f) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** Raw start of folded character `f` (`f` may be the folded length: then the raw length). */
export function rawStart(folded: Folded, raw: string, f: number): number {
  if (f >= folded.text.length) return raw.length;
  const map = folded.map;
  if (!map) return f;
  const k = entryAt(map, f);
  return k < 0 ? f : map.rs[k]! + (f - map.fs[k]!);
}

/** Raw end of folded character `f`. */
export function rawEnd(folded: Folded, f: number): number {
  const map = folded.map;
  if (!map) return f + 1;
  const k = entryAt(map, f);
  if (k < 0) return f + 1;
  return map.len[k]! > 0 ? map.rs[k]! + map.len[k]! : map.rs[k]! + (f - map.fs[k]!) + 1;
}

/** The first folded character whose raw start is at or after `raw`. */
export function foldedIndex(folded: Folded, raw: string, at: number): number {
  if (!folded.map) return at;
  let lo = 0;
  let hi = folded.text.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (rawStart(folded, raw, mid) < at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
