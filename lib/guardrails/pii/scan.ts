/**
 * Runs the enabled scanners over a text and turns their candidates into findings (for verdicts and reports) or a
 * masked text. Candidates may overlap; masking covers their union, reporting keeps, where spans of different types
 * overlap, the type listed first in `PII_ENTITIES` (then custom patterns in the order given).
 */
import { scanCards } from './cards.ts';
import { scanCustom, type CustomPattern } from './custom.ts';
import { scanEmails } from './email.ts';
import { foldForPii, rawEnd, rawStart, type Folded } from './fold.ts';
import { scanIbans } from './iban.ts';
import { scanIpv4, scanIpv6 } from './ip.ts';
import { phoneScanner } from './phone.ts';
import { scanSsn } from './ssn.ts';
import type { Emit, PiiEntity, PiiSpan } from './types.ts';
import { PII_ENTITIES } from './types.ts';

/**
 * How `PIIDetectionGuardrail` masks: `'asterisk'` replaces each character with `*` (same length); `'placeholder'`
 * writes the type once, such as `<EMAIL>`, for a whole run of overlapping findings.
 */
export type MaskStyle = 'asterisk' | 'placeholder';

type Scan = (text: string, emit: Emit) => void;

function scannersFor(entity: PiiEntity, regions: readonly string[]): Scan[] {
  switch (entity) {
    case 'SSN':
      return [scanSsn];
    case 'CREDIT_CARD':
      return [scanCards];
    case 'IBAN':
      return [scanIbans];
    case 'EMAIL':
      return [scanEmails];
    case 'IP_ADDRESS':
      return [scanIpv4, scanIpv6];
    case 'PHONE':
      return [phoneScanner(regions)];
  }
}

/** Every built-in entity needs a digit, `@` or `:`; text without one is skipped in a single native search. */
const ANCHOR = /[0-9@:]/;

export class PiiScanner {
  private readonly scanners: Scan[];
  private readonly custom: readonly CustomPattern[];
  private readonly priority = new Map<string, number>();

  /** `regions`: whose national phone formats are looked for (see phone.ts). */
  constructor(entities: readonly PiiEntity[], custom: readonly CustomPattern[], regions: readonly string[] = []) {
    const enabled = PII_ENTITIES.filter((e) => entities.includes(e));
    this.scanners = enabled.flatMap((e) => scannersFor(e, regions));
    this.custom = custom;
    [...enabled, ...custom.map((c) => c.name)].forEach((type, i) => this.priority.set(type, i));
  }

  /**
   * Every candidate span in `text`, unsorted, possibly overlapping. The built-in scanners read the folded text
   * (see fold.ts; `folded` when the caller has it already) and their spans are mapped back to `text`; custom
   * patterns, the user's own, read `text` as it is.
   */
  candidates(text: string, folded?: Folded): PiiSpan[] {
    const out: PiiSpan[] = [];
    const emit = (type: string, start: number, end: number): void => {
      out.push({ type, start, end });
    };
    if (this.scanners.length > 0 && ANCHOR.test(text)) {
      const view = folded ?? foldForPii(text);
      const emitMapped = view.map
        ? (type: string, start: number, end: number) => emit(type, rawStart(view, text, start), rawEnd(view, end - 1))
        : emit;
      for (const scan of this.scanners) scan(view.text, emitMapped);
    }
    for (const pattern of this.custom) scanCustom(pattern, text, emit);
    return out;
  }

  /**
   * Reportable findings: within a type, the leftmost (then longest) of overlapping candidates; a candidate that
   * overlaps a kept one of a higher-ranked type is dropped.
   */
  findings(text: string): PiiSpan[] {
    return this.resolve(this.candidates(text));
  }

  mask(text: string, style: MaskStyle): string {
    const candidates = this.candidates(text);
    return candidates.length === 0 ? text : this.render(text, candidates, 0, text.length, style);
  }

  resolve(candidates: PiiSpan[]): PiiSpan[] {
    const byLevel = new Map<number, PiiSpan[]>();
    for (const c of candidates) {
      const level = this.rank(c.type);
      const list = byLevel.get(level);
      if (list) list.push(c);
      else byLevel.set(level, [c]);
    }
    const levels = [...byLevel.keys()].sort((a, b) => a - b);
    // One type (the common case, and a flood of one kind): nothing of a higher rank can block it.
    if (levels.length === 1) return leftmostLongest(byLevel.get(levels[0]!)!);
    let blocked = new Intervals();
    const kept: PiiSpan[] = [];
    for (const level of levels) {
      const chosen = leftmostLongest(byLevel.get(level)!).filter((span) => !blocked.overlaps(span));
      // Not `push(...chosen)`: spreading half a million findings as arguments overflows the stack.
      for (const span of chosen) kept.push(span);
      blocked = blocked.with(chosen);
    }
    return kept.sort((a, b) => a.start - b.start);
  }

  /**
   * The text of `[from, to)` with every candidate masked. A placeholder stands for a whole region of overlapping
   * candidates and is written where the region starts, typed after the best-ranked candidate starting there; a
   * region that began before `from` writes nothing more. Every decision depends only on candidates touching the
   * character in question, which is what makes chunked masking equal to whole-text masking.
   */
  render(text: string, candidates: PiiSpan[], from: number, to: number, style: MaskStyle): string {
    const sorted = [...candidates].sort((a, b) => a.start - b.start || this.rank(a.type) - this.rank(b.type));
    let out = '';
    let cursor = from;
    for (let i = 0; i < sorted.length;) {
      const first = sorted[i]!;
      let end = first.end;
      let j = i + 1;
      while (j < sorted.length && sorted[j]!.start < end) end = Math.max(end, sorted[j++]!.end);
      i = j;
      if (end <= from) continue;
      if (first.start >= to) break;
      const s = Math.max(first.start, from);
      const e = Math.min(end, to);
      out += text.slice(cursor, s);
      if (style === 'asterisk') out += '*'.repeat(e - s);
      else if (first.start >= from) out += `<${first.type}>`;
      cursor = e;
    }
    return out + text.slice(cursor, to);
  }

  private rank(type: string): number {
    return this.priority.get(type) ?? Number.MAX_SAFE_INTEGER;
  }
}

/** Of overlapping spans, the leftmost, then the longest; sorted by start. The spans are the caller's own, not copied. */
function leftmostLongest(spans: PiiSpan[]): PiiSpan[] {
  const sorted = spans.sort((a, b) => a.start - b.start || b.end - a.end);
  const out: PiiSpan[] = [];
  let end = -1;
  for (const s of sorted) {
    if (s.start < end) continue;
    out.push(s);
    end = s.end;
  }
  return out;
}

/** Sorted, disjoint intervals (two number arrays: no object per interval). */
class Intervals {
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];

  /** Whether one of them overlaps `span` (binary search). */
  overlaps(span: PiiSpan): boolean {
    let lo = 0;
    let hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.ends[mid]! <= span.start) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.starts.length && this.starts[lo]! < span.end;
  }

  /** Their union with `spans` (sorted by start, disjoint): a linear merge. */
  with(spans: readonly PiiSpan[]): Intervals {
    const out = new Intervals();
    let i = 0;
    let j = 0;
    while (i < this.starts.length || j < spans.length) {
      const fromThis = j === spans.length || (i < this.starts.length && this.starts[i]! <= spans[j]!.start);
      const start = fromThis ? this.starts[i]! : spans[j]!.start;
      const end = fromThis ? this.ends[i++]! : spans[j++]!.end;
      const last = out.ends.length - 1;
      if (last >= 0 && start < out.ends[last]!) out.ends[last] = Math.max(out.ends[last]!, end);
      else {
        out.starts.push(start);
        out.ends.push(end);
      }
    }
    return out;
  }
}
