import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckTrigger, HookchainConfigError, InputCheckError, OutputCheckError, isCheckError } from '../../lib/errors.ts';
import { MODERATION_CATEGORIES, ModerationUnavailableError, OpenAIModerationGuardrail } from '../../lib/guardrails/moderation.ts';
import { startFakeOpenAI, type FakeOpenAI } from '../../lib/testing/fake-openai.ts';
import type { ChatMessage } from '../../lib/types.ts';
import { cutAt, driveChunks, isWellFormed, postArgs, preArgs } from './helpers.ts';

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  await fake.close();
});

function guardrail(options: ConstructorParameters<typeof OpenAIModerationGuardrail>[0] = {}) {
  return new OpenAIModerationGuardrail({ apiKey: fake.apiKey, baseURL: fake.baseURL, maxRetries: 0, ...options });
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the check to fail');
}

function moderationBodies(): { model: string; input: unknown }[] {
  return fake.requests.filter((r) => r.path.endsWith('/moderations')).map((r) => r.body as { model: string; input: unknown });
}

describe('OpenAIModerationGuardrail', () => {
  it('passes clean input and sends the text under the default model', async () => {
    fake.setModeration(() => ({ flagged: false }));
    const before = moderationBodies().length;
    await guardrail().check(preArgs('Tell me about tulips.'));
    const sent = moderationBodies().slice(before);
    expect(sent).toEqual([{ model: 'omni-moderation-latest', input: 'Tell me about tulips.' }]);
  });

  it('blocks flagged input with the categories (API names) and their scores', async () => {
    fake.setModeration(() => ({
      categories: { 'self-harm/intent': true, 'harassment/threatening': true },
      categoryScores: { 'self-harm/intent': 0.97 },
    }));
    const error = await failure(guardrail().check(preArgs('something awful')));
    expect(error).toBeInstanceOf(InputCheckError);
    const verdict = error as InputCheckError;
    expect(verdict.checkTrigger).toBe(CheckTrigger.INPUT_NOT_ALLOWED);
    expect(verdict.additionalData!['categories']).toEqual(['harassment/threatening', 'self-harm/intent']);
    expect((verdict.additionalData!['categoryScores'] as Record<string, number>)['self-harm/intent']).toBe(0.97);
    expect(verdict.message).toContain('self-harm/intent');
  });

  it('reads every one of the 13 categories under its API name (Agno misses the 8 with / or -)', async () => {
    for (const category of MODERATION_CATEGORIES) {
      fake.setModeration(() => ({ categories: { [category]: true } }));
      const error = await failure(guardrail({ raiseForCategories: [category] }).check(preArgs('x')));
      expect(error, category).toBeInstanceOf(InputCheckError);
      expect((error as InputCheckError).additionalData!['categories']).toEqual([category]);
    }
  });

  it('raiseForCategories blocks only the listed categories', async () => {
    fake.setModeration(() => ({ categories: { violence: true } }));
    await expect(
      guardrail({ raiseForCategories: ['self-harm/instructions', 'hate/threatening'] }).check(preArgs('x')),
    ).resolves.toBeUndefined();
    fake.setModeration(() => ({ categories: { violence: true, 'hate/threatening': true } }));
    const error = await failure(guardrail({ raiseForCategories: ['self-harm/instructions', 'hate/threatening'] }).check(preArgs('x')));
    expect((error as InputCheckError).additionalData!['categories']).toEqual(['hate/threatening']);
  });

  it('sends images with the text and accepts image-only input', async () => {
    fake.setModeration(() => ({ flagged: false }));
    const messages: ChatMessage[] = [
      { role: 'system', content: 'private app prompt' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'what is this?' },
          { type: 'image_url', image_url: { url: 'https://img.example/a.png' } },
        ],
      },
    ];
    const before = moderationBodies().length;
    await guardrail().check(preArgs(messages));
    await guardrail().check(
      preArgs([{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] }]),
    );
    expect(
      moderationBodies()
        .slice(before)
        .map((b) => b.input),
    ).toEqual([
      [
        { type: 'text', text: 'private app prompt\n\nwhat is this?' },
        { type: 'image_url', image_url: { url: 'https://img.example/a.png' } },
      ],
      [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }],
    ]);
  });

  it('checks output as a post-hook', async () => {
    fake.setModeration((input) => ({ categories: { violence: String(input).includes('hurt') } }));
    await expect(guardrail().check(postArgs('Have a nice day'))).resolves.toBeUndefined();
    expect(await failure(guardrail().check(postArgs('I will hurt you')))).toBeInstanceOf(OutputCheckError);
    await expect(guardrail().check(postArgs(undefined))).resolves.toBeUndefined();
  });

  it('fails closed on a 500, with an error that is not a verdict', async () => {
    fake.setModeration(() => ({ status: 500 }));
    const error = await failure(guardrail().check(preArgs('hello')));
    expect(error).toBeInstanceOf(ModerationUnavailableError);
    expect(isCheckError(error)).toBe(false);
    expect(error.message).toMatch(/fails closed.*failOpen: true/);
  });

  it('fails closed on a timeout', async () => {
    fake.setModeration(() => ({ delayMs: 2_000 }));
    const started = performance.now();
    const error = await failure(guardrail({ timeoutMs: 150 }).check(preArgs('hello')));
    expect(error).toBeInstanceOf(ModerationUnavailableError);
    expect(performance.now() - started).toBeLessThan(1_500);
  });

  it('fails closed on a malformed answer', async () => {
    const answers = [
      { raw: 'not json' },
      { raw: '{"results": []}' },
      { raw: '{"results": [{"flagged": "yes", "categories": {}, "category_scores": {}}]}' },
      { raw: '{"results": [{"flagged": false, "categories": {"hate": 1}, "category_scores": {}}]}' },
    ];
    for (const answer of answers) {
      fake.setModeration(() => answer);
      expect(await failure(guardrail().check(preArgs('hello'))), answer.raw).toBeInstanceOf(ModerationUnavailableError);
    }
  });

  it('uses an injected client, created once', async () => {
    const calls: unknown[] = [];
    const client = {
      moderations: {
        create: async (body: unknown) => (calls.push(body), { results: [{ flagged: false, categories: {}, category_scores: {} }] }),
      },
    };
    const g = new OpenAIModerationGuardrail({ client, model: 'omni-moderation-2024-09-26' });
    await g.check(preArgs('a'));
    await g.check(preArgs('b'));
    expect(calls).toEqual([
      { model: 'omni-moderation-2024-09-26', input: 'a' },
      { model: 'omni-moderation-2024-09-26', input: 'b' },
    ]);
  });

  it('rejects bad options at construction', () => {
    expect(() => guardrail({ raiseForCategories: ['self_harm_intent' as never] })).toThrow(/did you mean "self-harm\/intent"/);
    expect(() => guardrail({ raiseForCategories: [] })).toThrow(HookchainConfigError);
    expect(() => new OpenAIModerationGuardrail({ client: {} as never })).toThrow(
      /option "client" must be an OpenAI client \(an object with moderations.create\)/,
    );
    expect(() => new OpenAIModerationGuardrail({ client: { moderations: { create: async () => ({}) } }, apiKey: 'k' })).toThrow(
      /either "client" or/,
    );
    expect(() => guardrail({ moderationModel: 'x' } as never)).toThrow(/unknown option "moderationModel"/);
  });

  describe('checkChunk', () => {
    it('checks at sentence ends in batches, never once per token, and everything is released', async () => {
      fake.setModeration(() => ({ flagged: false }));
      const text = 'This is a calm sentence about gardening and soil. '.repeat(30);
      const before = moderationBodies().length;
      const run = await driveChunks(
        guardrail({ streamBatchChars: 200 }),
        cutAt(
          text,
          Array.from({ length: 375 }, (_, i) => i * 4),
        ),
      );
      const calls = moderationBodies().length - before;
      expect(run.error).toBeUndefined();
      expect(run.released).toBe(text);
      expect(calls).toBeGreaterThanOrEqual(3);
      expect(calls).toBeLessThanOrEqual(Math.ceil(text.length / 200) + 1);
      for (const body of moderationBodies().slice(before)) expect(String(body.input).trimEnd()).toMatch(/\.$/);
    });

    it('blocks a flagged batch before any of it is released', async () => {
      fake.setModeration((input) => ({ categories: { violence: String(input).includes('attack') } }));
      const text = `${'A friendly opening sentence. '.repeat(10)}Now the attack plan follows. More text here.`;
      const run = await driveChunks(
        guardrail({ streamBatchChars: 100 }),
        cutAt(
          text,
          Array.from({ length: 60 }, (_, i) => i * 5),
        ),
      );
      expect(run.error).toBeInstanceOf(OutputCheckError);
      expect(run.released).not.toContain('attack');
      expect(text.startsWith(run.released)).toBe(true);
    });

    it('never sends or releases half a surrogate pair when a long batch is cut without a space', async () => {
      fake.setModeration(() => ({ flagged: false }));
      const text = `${'x'.repeat(1599)}😀${'y'.repeat(20)}`;
      const before = moderationBodies().length;
      const run = await driveChunks(guardrail({ streamBatchChars: 400 }), [text.slice(0, 1600), text.slice(1600)]);
      expect(run.error).toBeUndefined();
      expect(run.released).toBe(text);
      for (const release of run.releases) expect(isWellFormed(release), JSON.stringify(release.slice(-2))).toBe(true);
      for (const body of moderationBodies().slice(before)) expect(isWellFormed(String(body.input))).toBe(true);
    });

    it('fails closed in a stream too', async () => {
      fake.setModeration(() => ({ status: 503 }));
      const run = await driveChunks(guardrail(), ['Hello there.', ' Bye.']);
      expect(run.error).toBeInstanceOf(ModerationUnavailableError);
      expect(run.released).toBe('');
    });
  });
});
