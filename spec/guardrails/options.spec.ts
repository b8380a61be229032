/** Every guardrail validates its options at construction with the one validator (lib/options.ts). */
import { describe, expect, it } from 'vitest';
import { HookchainConfigError } from '../../lib/errors.ts';
import { BaseGuardrail, type GuardrailOptions } from '../../lib/guardrails/base.ts';
import { PromptInjectionGuardrail } from '../../lib/guardrails/injection.ts';
import { OpenAIModerationGuardrail } from '../../lib/guardrails/moderation.ts';
import { PIIDetectionGuardrail } from '../../lib/guardrails/pii.ts';

class MyGuardrail extends BaseGuardrail {
  constructor(options: GuardrailOptions & { extra?: string } = {}) {
    super(options);
  }
  check(): void {}
}

const client = { moderations: { create: async () => ({ results: [{ flagged: false, categories: {}, category_scores: {} }] }) } };
const BUILDERS: Record<string, (options: object) => BaseGuardrail> = {
  PIIDetectionGuardrail: (o) => new PIIDetectionGuardrail(o as never),
  PromptInjectionGuardrail: (o) => new PromptInjectionGuardrail(o as never),
  OpenAIModerationGuardrail: (o) => new OpenAIModerationGuardrail({ client, ...o } as never),
  MyGuardrail: (o) => new MyGuardrail(o as never),
};

function configError(build: () => unknown): HookchainConfigError {
  try {
    build();
  } catch (error) {
    expect(error).toBeInstanceOf(HookchainConfigError);
    return error as HookchainConfigError;
  }
  throw new Error('expected a HookchainConfigError');
}

describe('guardrail options', () => {
  for (const [owner, build] of Object.entries(BUILDERS)) {
    it(`${owner}: name, failOpen and timeoutMs are checked, naming the guardrail, the option and the fix`, () => {
      const timer = /option "timeoutMs" must be a whole number of milliseconds from 1 to 2147483647/;
      expect(configError(() => build({ timeoutMs: 3e9 })).message).toMatch(new RegExp(`^${owner}: ${timer.source}.*got number 3000000000`));
      for (const timeoutMs of [0, -1, 1.5, Number.NaN, Infinity, '100'])
        expect(configError(() => build({ timeoutMs })).message).toMatch(timer);
      expect(configError(() => build({ failOpen: 'true' })).message).toBe(
        `${owner}: option "failOpen" must be true or false, got the string "true"`,
      );
      for (const name of ['', 42])
        expect(configError(() => build({ name })).message).toMatch(new RegExp(`^${owner}: option "name" must be a non-empty string`));
      const ok = build({ name: 'mine', failOpen: true, timeoutMs: 2 ** 31 - 1 });
      expect([ok.name, ok.failOpen, ok.timeoutMs]).toEqual(['mine', true, 2 ** 31 - 1]);
    });
  }

  it('a custom guardrail may take options of its own; the built-ins reject unknown ones', () => {
    expect(new MyGuardrail({ extra: 'x' }).name).toBe('MyGuardrail');
    expect(configError(() => new PIIDetectionGuardrail({ failopen: true } as never)).message).toMatch(
      /^PIIDetectionGuardrail: unknown option "failopen"; known options are .*failOpen/,
    );
  });

  it('options must be an object', () => {
    expect(configError(() => new MyGuardrail('fast' as never)).message).toMatch(/^MyGuardrail: options must be an object/);
    expect(configError(() => new PromptInjectionGuardrail(null as never)).message).toMatch(
      /^PromptInjectionGuardrail: options must be an object/,
    );
  });

  it('own options are typed too', () => {
    const cases: [() => unknown, RegExp][] = [
      [() => new PIIDetectionGuardrail({ maskPii: 'yes' } as never), /PIIDetectionGuardrail: option "maskPii" must be true or false/],
      [() => new PIIDetectionGuardrail({ customPatternMaxLength: 0 }), /option "customPatternMaxLength" must be a positive integer/],
      [() => new PromptInjectionGuardrail({ maxPatternLength: 2.5 }), /option "maxPatternLength" must be a positive integer/],
      [
        () => new PromptInjectionGuardrail({ patterns: 'jailbreak' as never }),
        /option "patterns" must be an array of phrase strings or RegExps/,
      ],
      [() => new OpenAIModerationGuardrail({ client, model: '' }), /option "model" must be a non-empty string/],
      [() => new OpenAIModerationGuardrail({ apiKey: 42 as never }), /option "apiKey" must be a non-empty string/],
      [() => new OpenAIModerationGuardrail({ apiKey: 'k', maxRetries: -1 }), /option "maxRetries" must be an integer ≥ 0/],
      [() => new OpenAIModerationGuardrail({ client, streamBatchChars: 0 }), /option "streamBatchChars" must be a positive integer/],
    ];
    for (const [build, message] of cases) expect(configError(build).message).toMatch(message);
  });
});
