/**
 * The release buffer's promise, end to end through agent.stream(): for random texts with PII and random chunkings,
 * the streamed text equals the whole-text masked text, and in detect mode no character of a detected value leaves.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Agent, OutputCheckError, PIIDetectionGuardrail, type Model, type RunEvent } from 'hookchain';
import { cutAt } from '../guardrails/helpers.ts';

const PII = [
  '4111 1111 1111 1111',
  '5500-0000-0000-0004',
  '378282246310005',
  'jane.doe@example.com',
  'a.b+c@mail.co.uk',
  '123-45-6789',
  '555-123-4567',
  '(555) 987-6543',
  '192.168.0.17',
  'GB82 WEST 1234 5698 7654 32',
];
const WORDS = ['hello', 'order', 'number', 'call', 'me', 'at', 'card', 'is', 'ok', '42', 'x7', '-', '.', ',', '@', '\n'];

const textWithPii = fc
  .array(fc.oneof(fc.constantFrom(...PII), fc.constantFrom(...WORDS)), { minLength: 1, maxLength: 14 })
  .map((parts) => parts.join(' '));

/** Cuts `text` at the given fractions of its length into non-empty chunks. */
function chunk(text: string, cuts: number[]): string[] {
  return cutAt(
    text,
    cuts.map((c) => Math.floor(c * text.length)),
  ).filter((piece) => piece !== '');
}

function scripted(chunks: string[]): Model {
  return {
    id: 'scripted',
    invoke: () => Promise.resolve({ content: chunks.join('') }),
    async *stream() {
      for (const delta of chunks) yield { delta };
    },
  };
}

async function streamed(agent: Agent): Promise<{ text: string; error: unknown }> {
  let text = '';
  try {
    for await (const ev of agent.stream('x') as AsyncIterable<RunEvent>) if (ev.type === 'content') text += ev.delta;
    return { text, error: undefined };
  } catch (error) {
    return { text, error };
  }
}

function maskWhole(text: string): string {
  const output = { content: text } as { content: string };
  new PIIDetectionGuardrail({ maskPii: true }).check({ phase: 'post', runOutput: output } as never);
  return output.content;
}

describe('streaming PII guardrail, any chunking', () => {
  it('mask mode: the released text equals the whole-text masked text', async () => {
    await fc.assert(
      fc.asyncProperty(textWithPii, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 30 }), async (text, cuts) => {
        const agent = new Agent({ model: scripted(chunk(text, cuts)), postHooks: [new PIIDetectionGuardrail({ maskPii: true })] });
        const { text: out, error } = await streamed(agent);
        expect(error).toBeUndefined();
        expect(out).toBe(maskWhole(text));
      }),
      { numRuns: 150 },
    );
  });

  it('detect mode: a run with PII is blocked and nothing from the first detected value onwards is released', async () => {
    await fc.assert(
      fc.asyncProperty(textWithPii, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 30 }), async (text, cuts) => {
        const masked = maskWhole(text);
        const firstPii = [...text].findIndex((ch, i) => ch !== masked[i]);
        const agent = new Agent({ model: scripted(chunk(text, cuts)), postHooks: [new PIIDetectionGuardrail()] });
        const { text: out, error } = await streamed(agent);
        expect(text.startsWith(out)).toBe(true);
        if (firstPii === -1) {
          expect(error).toBeUndefined();
          expect(out).toBe(text);
        } else {
          expect(error).toBeInstanceOf(OutputCheckError);
          expect(out.length).toBeLessThanOrEqual(firstPii);
        }
      }),
      { numRuns: 150 },
    );
  });
});
