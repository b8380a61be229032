import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OutputCheckError } from '../../lib/errors.ts';
import { PIIDetectionGuardrail } from '../../lib/guardrails/pii.ts';
import { MAX_GAP, foldForPii } from '../../lib/guardrails/pii/fold.ts';
import { AT_BEFORE, AT_REACH, NUM_BEFORE, NUM_REACH, RAW_ANCHOR, TAIL_RUN } from '../../lib/guardrails/pii/cuts.ts';
import { CLUSTER_STEP } from '../../lib/guardrails/pii/stream.ts';
import { cutAt, driveChunks } from './helpers.ts';

const PII = [
  '123-45-6789',
  '4111 1111 1111 1111',
  '4012888888881881',
  '5555-5555-5555-4444',
  'john.doe@example.com',
  'a.very.long.local.part.for.testing.purposes@mail.sub.example.org',
  '555-123-4567',
  '(555) 123-4567',
  '+44 20 7946 0958',
  '+1 415 555 0132',
  '192.168.0.1',
  '2001:db8::8a2e:370:7334',
  'fe80::1%eth0',
  'GB82 WEST 1234 5698 7654 32',
  'DE89370400440532013000',
  '10.0.0.0/8',
  // Disguised with zero-width characters and line breaks (issue #9).
  '4111\u200b1111\u200b1111\u200b1111',
  '4111\r\n1111\n1111 \n 1111',
  '078-\u200b05-\u200d1123',
  '555\n123\n4567',
  'jo\u200b@ex\u00ad.com',
  `4${'\u200b'.repeat(16)}111 1111 1111 1111`,
  `4${'\u200b'.repeat(17)}111 1111 1111 1111`,
];
const FILLER = [
  ' ',
  ' and ',
  ', ',
  '. ',
  '\n',
  '\r\n',
  'x',
  '1',
  '-',
  '@',
  ':',
  '.',
  'call me at ',
  'ref 000',
  'ok ',
  '  ',
  'é',
  '😀',
  '𝐀',
  'e\u0301',
  '\u200b',
  '\u200b'.repeat(9),
  '\u200d',
  '\u{E0069}',
  '\t',
];

const piece = fc.oneof(fc.constantFrom(...PII), fc.constantFrom(...FILLER), fc.string({ maxLength: 6 }));
const text = fc.array(piece, { maxLength: 60, size: 'max' }).map((parts) => parts.join(''));
const chunking = (s: string) => fc.array(fc.integer({ min: 0, max: s.length }), { maxLength: 30, size: 'max' });

describe('PIIDetectionGuardrail.checkChunk', () => {
  for (const mask of ['asterisk', 'placeholder'] as const) {
    it(`releases exactly the whole-text masked text for every chunking (${mask})`, async () => {
      const g = new PIIDetectionGuardrail({ maskPii: true, mask });
      await fc.assert(
        fc.asyncProperty(
          text.chain((s) => fc.tuple(fc.constant(s), chunking(s))),
          async ([s, cuts]) => {
            const run = await driveChunks(g, cutAt(s, cuts));
            expect(run.error).toBeUndefined();
            expect(run.released).toBe(g['scanner'].mask(s, mask));
          },
        ),
        { numRuns: 400 },
      );
    });
  }

  it('national phone numbers of the configured regions: streamed output equals whole-text masking for every chunking', async () => {
    const g = new PIIDetectionGuardrail({ maskPii: true, regions: ['GB', 'DE', 'NL', 'BE'] });
    const national = fc.constantFrom(
      'call 020 7946 0958',
      'Phone: 06-10446904',
      '0490 75 40 81',
      '(030) 1234567',
      'order 1234 5678',
      'total 1 234 567',
      'zip 90210',
      '61487 ',
      'mobile',
      ' office',
      '2024-05-12 10:30',
    );
    const phoneText = fc
      .array(fc.oneof(national, fc.constantFrom(...FILLER), fc.string({ maxLength: 4 })), { maxLength: 40, size: 'max' })
      .map((parts) => parts.join(''));
    await fc.assert(
      fc.asyncProperty(
        phoneText.chain((s) => fc.tuple(fc.constant(s), chunking(s))),
        async ([s, cuts]) => {
          const run = await driveChunks(g, cutAt(s, cuts));
          expect(run.error).toBeUndefined();
          expect(run.released).toBe(g['scanner'].mask(s, 'asterisk'));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a long text in many small deltas (several batches) equals whole-text masking', async () => {
    const g = new PIIDetectionGuardrail({ maskPii: true, regions: ['GB'] });
    const line = 'Call 020 7946 0958 or mail jo@example.com; card 4111 1111 1111 1111, ip 10.0.0.1. Plain words here.\n';
    const text = line.repeat(40);
    const run = await driveChunks(g, everyN(text, 16));
    expect(run.released).toBe(g['scanner'].mask(text, 'asterisk'));
    expect(run.released).not.toContain('7946');
  });

  it('masks exactly as the whole text for every single cut through astral, combining and zero-width characters', async () => {
    const g = new PIIDetectionGuardrail({ maskPii: true });
    const tricky = fc.constantFrom(
      '𝐀',
      '😀',
      'e\u0301',
      '\u200b',
      '\u200d',
      '\u{E0069}',
      '4111',
      ' 1111',
      '-1111',
      '\n',
      'jo@ex.com',
      '555-123-4567',
      'x',
      ' ',
    );
    await fc.assert(
      fc.asyncProperty(fc.array(tricky, { maxLength: 10 }), async (parts) => {
        const s = parts.join('');
        const whole = g['scanner'].mask(s, 'asterisk');
        for (let i = 0; i <= s.length; i++) {
          const run = await driveChunks(g, [s.slice(0, i), s.slice(i)]);
          expect(run.released, `cut at ${i} of ${JSON.stringify(s)}`).toBe(whole);
          for (const release of run.releases) expect(endsInHalfPair(release), JSON.stringify(release)).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('in detect mode blocks before any character of a detected value is released', async () => {
    const g = new PIIDetectionGuardrail();
    await fc.assert(
      fc.asyncProperty(
        text.chain((s) => fc.tuple(fc.constant(s), chunking(s))),
        async ([s, cuts]) => {
          const findings = g.scan(s);
          const run = await driveChunks(g, cutAt(s, cuts));
          if (findings.length === 0) {
            expect(run.error).toBeUndefined();
            expect(run.released).toBe(s);
            return;
          }
          expect(run.error).toBeInstanceOf(OutputCheckError);
          expect(s.startsWith(run.released)).toBe(true);
          expect(run.released.length).toBeLessThanOrEqual(findings[0]!.start);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('releases prose without an anchor up to its last partial word and trailing whitespace after every delta', async () => {
    const g = new PIIDetectionGuardrail({ maskPii: true });
    const words = 'The quick brown fox jumps over the lazy dog, twice. Then: nothing! '.replace(/:/g, ';').repeat(60);
    const deltas = nonEmpty(
      cutAt(
        words,
        Array.from({ length: words.length / 7 }, (_, i) => i * 7),
      ),
    );
    const run = await driveChunks(g, deltas);
    expect(run.released).toBe(words);
    let fed = '';
    let out = 0;
    run.releases.slice(0, deltas.length).forEach((release, i) => {
      fed += deltas[i]!;
      out += release.length;
      // Exactly what a future `@` or digit could still reach: the trailing run of letters and `._%+-(` and the
      // whitespace after it.
      const tail = /[A-Za-z0-9._%+\-(:]*[ \n]*$/.exec(fed)![0];
      expect(fed.length - out, JSON.stringify(fed.slice(-40))).toBe(tail.length);
    });
  });

  it('releases promptly once every anchor in reach is decided', async () => {
    const g = new PIIDetectionGuardrail({ maskPii: true });
    const prose = 'and then the weather turned, so we stayed inside and read books all afternoon long. '.repeat(6);
    const text = `Order 12345 shipped ${prose}`;
    const deltas = nonEmpty(everyN(text, 16));
    const run = await driveChunks(g, deltas);
    expect(run.released).toBe(text);
    const lastDigit = text.indexOf('5 shipped');
    holds(deltas, run.releases).forEach(({ fed, held }) => {
      // Before the digits are decided, everything from 4 before the first one is held.
      if (fed <= lastDigit + NUM_REACH) expect(held).toBeGreaterThanOrEqual(fed - (text.indexOf('1') - NUM_BEFORE));
      // Once the last digit has NUM_REACH characters after it, only the trailing word and space.
      else expect(held, `after ${fed} characters`).toBeLessThanOrEqual(/[A-Za-z0-9._%+\-(:]*[ ]*$/.exec(text.slice(0, fed))![0].length);
    });
  });

  it('never holds more than the documented bound, for any text and chunking into deltas of at most 16', async () => {
    const g = new PIIDetectionGuardrail({ maskPii: true });
    const ascii = fc
      .array(fc.oneof(fc.constantFrom(...PII.slice(0, 16)), fc.constantFrom(' ', ', ', 'x', '1', '@', ':', 'call me at ', 'word ', '\n')), {
        maxLength: 120,
        size: 'max',
      })
      .map((parts) => parts.join(''));
    // Near an `@` in a cluster of anchors, plus the last delta and a trailing gap (ASCII text: one unit per folded
    // character, a line break with its spaces folds to one).
    const bound = AT_BEFORE + AT_REACH + CLUSTER_STEP + 16 + MAX_GAP;
    await fc.assert(
      fc.asyncProperty(
        ascii.chain((s) => fc.tuple(fc.constant(s), fc.array(fc.integer({ min: 1, max: 16 }), { minLength: 1, maxLength: 50 }))),
        async ([s, sizes]) => {
          const deltas: string[] = [];
          for (let i = 0, k = 0; i < s.length; i += sizes[k++ % sizes.length]!) deltas.push(s.slice(i, i + sizes[k % sizes.length]!));
          const run = await driveChunks(g, deltas);
          expect(run.released).toBe(g['scanner'].mask(s, 'asterisk'));
          for (const { held } of holds(deltas, run.releases)) expect(held).toBeLessThanOrEqual(bound);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('holds a bounded tail when every digit is followed by 16 zero-width characters', async () => {
    const g = new PIIDetectionGuardrail({ maskPii: true });
    const text = `${`4${'\u200b'.repeat(16)}`.repeat(600)}4111\u200b1111\u200b1111\u200b1111 done`;
    const deltas = everyN(text, 17);
    const run = await driveChunks(g, deltas);
    const waits = holds(deltas, run.releases).map(({ held }) => held);
    expect(run.released).toBe(g['scanner'].mask(text, 'asterisk'));
    expect(run.released.endsWith(`${'*'.repeat(19)} done`)).toBe(true);
    // 100 folded characters of look-ahead and a cluster step, each folded character at most 17 raw units.
    expect(Math.max(...waits)).toBeLessThanOrEqual((NUM_BEFORE + NUM_REACH + CLUSTER_STEP) * (MAX_GAP + 1) + 17);
  });

  it('custom patterns: streamed output equals whole-text masking, and customPatternMaxLength characters are held', async () => {
    const g = new PIIDetectionGuardrail({ maskPii: true, customPatterns: { EMPLOYEE_ID: /EMP-\d{6}/ }, customPatternMaxLength: 20 });
    const custom = fc
      .array(fc.oneof(fc.constantFrom('EMP-123456', 'EMP-12', 'emp ', ' ', 'x', '555-123-4567', 'jo@ex.com'), fc.constantFrom(...FILLER)), {
        maxLength: 40,
        size: 'max',
      })
      .map((parts) => parts.join(''));
    await fc.assert(
      fc.asyncProperty(
        custom.chain((s) => fc.tuple(fc.constant(s), chunking(s))),
        async ([s, cuts]) => {
          const deltas = nonEmpty(cutAt(s, cuts));
          const run = await driveChunks(g, deltas);
          expect(run.released).toBe(g['scanner'].mask(s, 'asterisk'));
          for (const { fed, held } of holds(deltas, run.releases)) expect(held).toBeGreaterThanOrEqual(Math.min(fed, 20));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('the quiet path sees every character that folds to an anchor or a tail character (checked against foldForPii)', () => {
    // quietCut reads raw text: it takes only the anchors themselves for anchors, and only ASCII for tail characters.
    const tail = /[A-Za-z0-9._%+\-(:]/;
    const anchor = /[0-9@:]/;
    const missed: string[] = [];
    for (let cp = 0; cp < 0x20000; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const ch = String.fromCodePoint(cp);
      const folded = foldForPii(`a${ch}a`).text.slice(1, -1);
      RAW_ANCHOR.lastIndex = 0;
      if (anchor.test(folded) && !RAW_ANCHOR.test(ch)) missed.push(`anchor U+${cp.toString(16)}`);
      if (cp >= 0x80 && tail.test(folded)) missed.push(`tail U+${cp.toString(16)}`);
    }
    expect(missed).toEqual([]);
  });

  it('the prose hold is at most TAIL_RUN folded characters plus a trailing gap', async () => {
    const g = new PIIDetectionGuardrail({ maskPii: true });
    const text = `${'abcdefghij'.repeat(30)} ${'   '}`;
    const deltas = nonEmpty(everyN(text, 16));
    const run = await driveChunks(g, deltas);
    expect(run.released).toBe(text);
    for (const { held } of holds(deltas, run.releases)) expect(held).toBeLessThanOrEqual(TAIL_RUN + MAX_GAP);
    // A run of 300 letters is held only by its last TAIL_RUN.
    expect(run.releases.slice(0, deltas.length).join('').length).toBeGreaterThanOrEqual(300 - TAIL_RUN);
  });

  it('keeps per-run state apart for concurrent runs on one guardrail', async () => {
    const g = new PIIDetectionGuardrail({ maskPii: true });
    const a = 'card 4111 1111 1111 1111 end';
    const b = 'mail bob@example.com end';
    const ctxA = {};
    const ctxB = {};
    const [ra, rb] = await Promise.all([driveChunks(g, cutAt(a, [7, 12, 20]), ctxA), driveChunks(g, cutAt(b, [3, 9, 15]), ctxB)]);
    expect(ra.released).toBe('card ******************* end');
    expect(rb.released).toBe('mail *************** end');
  });
});

/** `text` cut every `size` characters. */
function everyN(text: string, size: number): string[] {
  return cutAt(
    text,
    Array.from({ length: text.length / size }, (_, i) => i * size),
  );
}

/** After each delta: how many characters were fed so far, and how many of them were held back. */
function holds(deltas: readonly string[], releases: readonly string[]): { fed: number; held: number }[] {
  let fed = 0;
  let out = 0;
  return releases.slice(0, deltas.length).map((release, i) => {
    fed += deltas[i]!.length;
    out += release.length;
    return { fed, held: fed - out };
  });
}

/** Deltas as the release buffer passes them: an empty one is not checked. */
function nonEmpty(deltas: string[]): string[] {
  return deltas.filter((d) => d !== '');
}

/** True when `text` ends in the first half of a surrogate pair (the second half would leave in a later release). */
function endsInHalfPair(text: string): boolean {
  const last = text.charCodeAt(text.length - 1);
  return last >= 0xd800 && last <= 0xdbff;
}
