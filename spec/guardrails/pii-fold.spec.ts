/**
 * The fold the PII scanners read (lib/guardrails/pii/fold.ts) against its definition, written here the slow and
 * obvious way: one character at a time, each folded character with the raw span it stands for.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_GAP, foldForPii, rawEnd, rawStart } from '../../lib/guardrails/pii/fold.ts';

type Kind = 'visible' | 'space' | 'break' | 'invisible';

function kindOf(ch: string): Kind {
  if (/^[\n\v\f\r\u0085\u2028\u2029]$/u.test(ch)) return 'break';
  if (ch === '\t' || /^\p{Zs}$/u.test(ch)) return 'space';
  if (/^[\p{Cf}\p{Mn}\p{Me}\u115f\u1160\u3164\uffa0]$/u.test(ch)) return 'invisible';
  return 'visible';
}

interface Unit {
  ch: string;
  start: number;
  end: number;
}

/** The definition: gaps of at most MAX_GAP units fold, a line break to one space, else to their spaces alone. */
function reference(text: string): Unit[] {
  const chars: { ch: string; at: number; kind: Kind }[] = [];
  for (let i = 0; i < text.length;) {
    const ch = String.fromCodePoint(text.codePointAt(i)!);
    chars.push({ ch, at: i, kind: kindOf(ch) });
    i += ch.length;
  }
  const out: Unit[] = [];
  for (let k = 0; k < chars.length;) {
    if (chars[k]!.kind === 'visible') {
      const { ch, at } = chars[k++]!;
      for (let u = 0; u < ch.length; u++) out.push({ ch: ch[u]!, start: at + u, end: at + u + 1 });
      continue;
    }
    let j = k;
    while (j < chars.length && chars[j]!.kind !== 'visible') j++;
    const gap = chars.slice(k, j);
    const start = gap[0]!.at;
    const end = j < chars.length ? chars[j]!.at : text.length;
    if (gap.every((c) => c.ch === ' ') || end - start > MAX_GAP) {
      for (let u = start; u < end; u++) out.push({ ch: text[u]!, start: u, end: u + 1 });
    } else if (gap.some((c) => c.kind === 'break')) {
      out.push({ ch: ' ', start, end });
    } else {
      for (const c of gap) if (c.kind === 'space') out.push({ ch: ' ', start: c.at, end: c.at + c.ch.length });
    }
    k = j;
  }
  return out;
}

const piece = fc.constantFrom(
  '4',
  'a',
  'é',
  '漢',
  '@',
  ' ',
  '  ',
  '\t',
  '\n',
  '\r\n',
  '\u00a0',
  '\u200b',
  '\u00ad',
  '\u0301',
  '\u2028',
  '\u{e0041}',
  '\u{1f600}',
  '\ud800',
  '\u200b'.repeat(MAX_GAP),
  'x'.repeat(40),
);

describe('the PII fold', () => {
  it('equals its definition, text and raw spans, for any mix of gaps, marks, surrogates and long runs', () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 60 }), (pieces) => {
        const text = pieces.join('');
        const want = reference(text);
        const folded = foldForPii(text);
        expect(folded.text).toBe(want.map((u) => u.ch).join(''));
        want.forEach((u, f) => {
          expect(rawStart(folded, text, f)).toBe(u.start);
          expect(rawEnd(folded, f)).toBe(u.end);
        });
        expect(rawStart(folded, text, want.length)).toBe(text.length);
      }),
      { numRuns: 3000 },
    );
  });

  it('keeps offsets exact deep into a gap-dense text of a million units', () => {
    const text = '1\r\n'.repeat(200_000) + '4\u200b'.repeat(200_000);
    const folded = foldForPii(text);
    expect(folded.text).toBe('1 '.repeat(200_000) + '4'.repeat(200_000));
    const f = 400_000 + 123_456; // a digit of the second half
    expect(rawStart(folded, text, f)).toBe(600_000 + 2 * 123_456);
    expect(rawEnd(folded, 2 * 150_000 + 1)).toBe(3 * 150_000 + 3); // the space of `\r\n` covers both units
  });

  it('leaves text without a foldable character as the same string, with no map', () => {
    const text = 'Call 555-123-4567 or mail jo@example.com';
    const folded = foldForPii(text);
    expect(folded.text).toBe(text);
    expect(folded.map).toBeUndefined();
  });
});
