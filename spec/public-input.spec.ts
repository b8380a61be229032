/**
 * Every public constructor and option rejects wrong types at once, with a `HookchainConfigError` that names the
 * culprit and the fix (issue #9 item 8). One row per bad input a new user tried.
 */
import { describe, expect, it } from 'vitest';
import {
  Agent,
  CheckTrigger,
  HookchainConfigError,
  InputCheckError,
  OutputCheckError,
  PIIDetectionGuardrail,
  hook,
  isHookchainError,
} from 'hookchain';
import { OfflineModel } from 'hookchain/testing';

const model = new OfflineModel();
const named = (name: string) => Object.defineProperty(() => {}, 'name', { value: name });

const construction: [string, () => unknown, RegExp][] = [
  [
    'a guardrail class instead of an instance',
    () => new Agent({ model, postHooks: [PIIDetectionGuardrail as never] }),
    /postHooks\[0\] is the class PIIDetectionGuardrail \(not an instance: add new\); pass an instance: new PIIDetectionGuardrail\(\)/,
  ],
  [
    'logger: 5',
    () => new Agent({ model, logger: 5 as never }),
    /option "logger" must be an object with debug\(\) and warn\(\) methods, such as console, got number 5/,
  ],
  ['logger: {}', () => new Agent({ model, logger: {} as never }), /option "logger" must be an object with debug\(\) and warn\(\) methods/],
  [
    'duplicate hook names',
    () => new Agent({ model, preHooks: [named('audit'), named('audit')] }),
    /preHooks\[0\] and preHooks\[1\] are both named "audit".*hook\(\{ name \}\)/,
  ],
  [
    'two guardrails of one class',
    () => new Agent({ model, postHooks: [new PIIDetectionGuardrail(), new PIIDetectionGuardrail()] }),
    /both named "PIIDetectionGuardrail"/,
  ],
  [
    'outerMiddleware that is not functions',
    () => new Agent({ model, outerMiddleware: ['auth' as never] }),
    /option "outerMiddleware" must be an array of \(ctx, next\)/,
  ],
  [
    'agent.use() with an unknown option',
    () => new Agent({ model }).use(async (_c, n) => n(), { outter: true } as never),
    /agent.use\(\): unknown option "outter"; known options are outer/,
  ],
  ['hook({ failOpen: "true" })', () => hook({ failOpen: 'true' as never }), /"failOpen" must be true or false, got the string "true"/],
  [
    'hook({ timeoutMs: 2 ** 40 })',
    () => hook({ timeoutMs: 2 ** 40 }),
    /"timeoutMs" must be a whole number of milliseconds from 1 to 2147483647/,
  ],
  ['hook({ timeoutMs: 1.5 })', () => hook({ timeoutMs: 1.5 }), /"timeoutMs" must be a whole number/],
  ['hook.pre({ everyChunk: true })', () => hook.pre({ everyChunk: true }), /everyChunk only applies to post-hooks/],
  [
    'an unknown checkTrigger',
    () => new InputCheckError('x', { checkTrigger: 'offtopic' as never }),
    /checkTrigger must be one of 'off_topic'.*CheckTrigger\.\*\), got "offtopic"/,
  ],
  ['an unknown verdict option', () => new OutputCheckError('x', { trigger: CheckTrigger.OFF_TOPIC } as never), /unknown option "trigger"/],
];

describe('construction rejects bad input, naming the culprit and the fix', () => {
  it.each(construction)('%s', (_what, build, message) => {
    let thrown: unknown;
    try {
      build();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(HookchainConfigError);
    expect(isHookchainError(thrown)).toBe(true);
    expect((thrown as Error).message).toMatch(message);
  });
});

const agent = new Agent({ model });
const runs: [string, unknown, RegExp][] = [
  ['content parts [5]', [{ role: 'user', content: [5] }], /message 0 content part 0 must be \{ type: 'text', text \}.*got number 5/],
  ['content parts [null]', [{ role: 'user', content: [null] }], /message 0 content part 0 must be .*got null/],
  [
    'an unknown content part type',
    [{ role: 'user', content: [{ type: 'input_text', text: '4111 1111 1111 1111' }] }],
    /type "input_text".*supported parts are/,
  ],
  ['an empty message content', [{ role: 'user', content: '' }], /message 0 has empty content/],
  ['an empty content part list', [{ role: 'user', content: [] }], /non-empty array of content parts/],
];

describe('run() rejects bad input before any hook or model call', () => {
  it.each(runs)('%s', async (_what, input, message) => {
    const error = await agent.run(input as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HookchainConfigError);
    expect((error as Error).message).toMatch(message);
  });
});

describe('hooks that misuse their arguments', () => {
  it('adopts a pre-hook that assigns a new runInput', async () => {
    const seen: unknown[] = [];
    const agent = new Agent({
      model: new OfflineModel({ reply: (m) => String(m.at(-1)?.content) }),
      preHooks: [
        (args: { runInput: unknown }) => void (args.runInput = { inputContent: 'replaced' }),
        ({ runInput }: { runInput: unknown }) => void seen.push(runInput),
      ],
    });
    const out = await agent.run('original');
    expect(out.content).toBe('replaced');
    expect(seen).toEqual([{ inputContent: 'replaced' }]);
  });

  it('fails naming the pre-hook that assigns something that is not an input', async () => {
    const broken = hook({ name: 'broken' })((args: { runInput: unknown }) => void (args.runInput = 'text'));
    const error = await new Agent({ model, preHooks: [broken] }).run('x').catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/pre-hook "broken" set args.runInput to the string "text", which has no inputContent/);
    expect((error as InputCheckError).runOutput?.error).toMatchObject({ type: 'hook_error', hookName: 'broken' });
  });

  it('fails a run whose post-hook sets content to something that is not a string', async () => {
    const seen: unknown[] = [];
    const objectify = hook({ name: 'objectify' })(
      ({ runOutput }: { runOutput: { content: unknown } }) => void (runOutput.content = { text: 'x' }),
    );
    const agent = new Agent({
      model,
      postHooks: [objectify, ({ runOutput }: { runOutput: { content: unknown } }) => void seen.push(runOutput.content)],
    });
    await expect(agent.run('x')).rejects.toThrow(
      /post-hook "objectify" set runOutput.content to an object \(Object\); output content must be a string/,
    );
    expect(seen).toEqual([]);
  });
});

describe('session state no store could keep', () => {
  it('is refused before the model is called, naming the path', async () => {
    let modelCalls = 0;
    const agent = new Agent({
      model: { id: 'm', invoke: async () => (modelCalls++, { content: 'ok' }) },
      preHooks: [
        ({ sessionState }: { sessionState: Record<string, unknown> }) => {
          const cart: Record<string, unknown> = { items: [] };
          cart['self'] = cart;
          sessionState['cart'] = cart;
        },
      ],
    });
    const error = await agent.run('x', { sessionId: 's' }).catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe('UNSERIALIZABLE');
    expect((error as Error).message).toMatch(/sessionState\.cart\.self/);
    expect(modelCalls).toBe(0);
  });

  it('is refused at construction for the agent option sessionState', () => {
    const state: Record<string, unknown> = {};
    state['loop'] = state;
    expect(() => new Agent({ model, sessionState: state })).toThrow(/sessionState\.loop|Agent option sessionState/);
  });
});
