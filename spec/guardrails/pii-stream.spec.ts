import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OutputCheckError } from '../../lib/errors.ts';
import { PIIDetectionGuardrail } from '../../lib/guardrails/pii.ts';
import { BATCH } from '../../lib/guardrails/pii/stream.ts';
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
    const run = await driveChunks(
      g,
      cutAt(
        text,
        Array.from({ length: text.length / 16 }, (_, i) => i * 16),
      ),
    );
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

  it('holds back a bounded tail (new text is checked in batches of BATCH characters), so long clean streams flow', async () => {
    const g = new PIIDetectionGuardrail({ maskPii: true });
    const words = 'The quick brown fox jumps over the lazy dog. '.repeat(200);
    const run = await driveChunks(
      g,
      cutAt(
        words,
        Array.from({ length: 400 }, (_, i) => i * 23),
      ),
    );
    let fed = 0;
    let out = 0;
    const waits = run.releases.map((r, i) => {
      fed = Math.min(words.length, (i + 1) * 23);
      out += r.length;
      return fed - out;
    });
    const longestWait = Math.max(...waits);
    expect(run.released).toBe(words);
    expect(longestWait).toBeLessThanOrEqual(BATCH + 70);
  });

  it('holds a bounded tail when every digit is followed by 16 zero-width characters', async () => {
    const g = new PIIDetectionGuardrail({ maskPii: true });
    const text = `${`4${'\u200b'.repeat(16)}`.repeat(600)}4111\u200b1111\u200b1111\u200b1111 done`;
    const deltas = cutAt(
      text,
      Array.from({ length: text.length / 17 }, (_, i) => i * 17),
    );
    const run = await driveChunks(g, deltas);
    let fed = 0;
    let out = 0;
    const waits = run.releases.map((r, i) => {
      fed += deltas[i]?.length ?? 0;
      out += r.length;
      return fed - out;
    });
    expect(run.released).toBe(g['scanner'].mask(text, 'asterisk'));
    expect(run.released.endsWith(`${'*'.repeat(19)} done`)).toBe(true);
    // 100 folded characters of look-ahead, each at most 17 raw units.
    expect(Math.max(...waits)).toBeLessThanOrEqual(100 * 17 + BATCH);
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

/** True when `text` ends in the first half of a surrogate pair (the second half would leave in a later release). */
function endsInHalfPair(text: string): boolean {
  const last = text.charCodeAt(text.length - 1);
  return last >= 0xd800 && last <= 0xdbff;
}
