/** Bad input fails at once with a message naming the culprit and the fix. */
import { describe, expect, it } from 'vitest';
import { Agent, BaseGuardrail, HookchainConfigError, MemorySessionStore, OpenAIChat } from 'hookchain';
import { OfflineModel } from 'hookchain/testing';

const model = new OfflineModel();

describe('construction errors', () => {
  it.each([
    [{ model, preHoks: [] }, /unknown option "preHoks"; known options are name, id, model/],
    [{ name: 'x' }, /option "model" is required; it must be a model such as new OpenAIChat/],
    [{ model, preHooks: ['validate'] }, /preHooks\[0\] must be a hook function or a BaseGuardrail instance, got the string "validate"/],
    [{ model, postHooks: [{ check() {} }] }, /postHooks\[0\].*make it extend BaseGuardrail/],
    [{ model, preHooks: () => {} }, /"preHooks" must be an array/],
    [{ model, name: '' }, /option "name" must be a non-empty string/],
    [{ model, sessionStore: {} }, /option "sessionStore" must be a SessionStore/],
    [{ model, metadata: [] }, /option "metadata" must be a plain object, got an array/],
    [{ model, debugMode: 'yes' }, /option "debugMode" must be true or false/],
  ])('rejects %j', (options, message) => {
    expect(() => new Agent(options as never)).toThrow(HookchainConfigError);
    expect(() => new Agent(options as never)).toThrow(message);
  });

  it('rejects a guardrail marked to run in background', () => {
    class Audit extends BaseGuardrail {
      runInBackground = true;
      check() {}
    }
    expect(() => new Agent({ model, postHooks: [new Audit()] })).toThrow(
      /postHooks\[0\] \(Audit\) is a guardrail marked to run in background/,
    );
  });

  it('rejects an everyChunk hook in preHooks and non-function middleware', async () => {
    const { hook } = await import('hookchain');
    expect(() => new Agent({ model, preHooks: [hook({ everyChunk: true })(() => {})] })).toThrow(/only makes sense in postHooks/);
    expect(() => new Agent({ model }).use('mw' as never)).toThrow(/middleware must be a function/);
  });

  it('OpenAIChat names its missing options', () => {
    expect(() => new OpenAIChat({} as never)).toThrow(/option "id"/);
    const saved = { key: process.env['OPENAI_API_KEY'], url: process.env['OPENAI_BASE_URL'] };
    delete process.env['OPENAI_API_KEY'];
    delete process.env['OPENAI_BASE_URL'];
    try {
      expect(() => new OpenAIChat({ id: 'gpt-4o-mini' })).toThrow(
        /no API key. Set OPENAI_API_KEY, pass \{ apiKey \}, or point \{ baseURL \}/,
      );
    } finally {
      if (saved.key !== undefined) process.env['OPENAI_API_KEY'] = saved.key;
      if (saved.url !== undefined) process.env['OPENAI_BASE_URL'] = saved.url;
    }
  });
});

describe('run() errors', () => {
  const agent = new Agent({ model });
  it.each([
    ['', /input must be a non-empty string or an array of chat messages, got an empty string/],
    ['   ', /got an empty string/],
    [42, /got number 42/],
    [undefined, /got undefined/],
    [[], /got an empty message array/],
    [[{ role: 'robot', content: 'x' }], /message 0 must be \{ role: 'user'/],
  ])('run(%j) rejects without running', async (input, message) => {
    await expect(agent.run(input as never)).rejects.toThrow(message);
  });

  it('rejects unknown and ill-typed run options', async () => {
    await expect(agent.run('x', { sesionId: 's' } as never)).rejects.toThrow(/unknown option "sesionId"; known options are sessionId/);
    await expect(agent.run('x', { signal: 'stop' } as never)).rejects.toThrow(/option "signal" must be an AbortSignal/);
    await expect(agent.run('x', { sessionState: 5 } as never)).rejects.toThrow(/option "sessionState" must be a plain object/);
  });

  it('refuses a session that belongs to another agent and leaves it untouched', async () => {
    const store = new MemorySessionStore();
    await new Agent({ name: 'billing', model, sessionStore: store }).run('x', { sessionId: 's' });
    const before = JSON.stringify(store.get('s'));
    await expect(new Agent({ name: 'support', model, sessionStore: store }).run('y', { sessionId: 's' })).rejects.toThrow(
      /session "s" belongs to agent "billing", not "support"/,
    );
    expect(JSON.stringify(store.get('s'))).toBe(before);
  });

  it('stream() with bad input throws from its first next()', async () => {
    const stream = agent.stream('');
    const iterator = stream[Symbol.asyncIterator]();
    await expect(iterator.next()).rejects.toThrow(/non-empty string/);
  });
});
