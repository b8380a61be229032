/** hook(): options, validation, and the TS 5 standard method decorator (compiled with tsc). */
import { describe, expect, it } from 'vitest';
import { Agent, HookchainConfigError, hook, type PreHookArgs } from 'hookchain';
import { OfflineModel, recordEvents } from 'hookchain/testing';
import { importCompiled } from '../compile-fixture.ts';

describe('hook(options)(fn)', () => {
  it('returns a new function carrying the options; the original stays unmarked and callable', async () => {
    const original = (args: PreHookArgs) => void (args.runInput.inputContent += '!');
    const marked = hook({ name: 'shout' })(original);
    expect(marked).not.toBe(original);
    expect(marked.name).toBe('shout');
    const agent = new Agent({ model: new OfflineModel({ reply: (m) => String(m.at(-1)!.content) }), preHooks: [marked, original] });
    const rec = recordEvents(agent);
    expect((await agent.run('hi')).content).toBe('hi!!');
    expect(rec.hookOrder()).toEqual(['pre:started:shout', 'pre:completed:shout', 'pre:started:original', 'pre:completed:original']);
  });

  it('rejects unknown or ill-typed options with the culprit and the fix', () => {
    expect(() => hook({ runInBackgroud: true } as never)).toThrow(/unknown option "runInBackgroud"; known options are name, failOpen/);
    expect(() => hook({ timeoutMs: -5 })).toThrow(/"timeoutMs" must be a whole number of milliseconds from 1 to 2147483647/);
    expect(() => hook({ failOpen: 'yes' } as never)).toThrow(/"failOpen" must be true or false/);
    expect(() => hook({ runInBackground: true, everyChunk: true })).toThrow(/cannot be both/);
    expect(() => hook()('not a function' as never)).toThrow(HookchainConfigError);
  });

  it('works as a TS 5 standard method decorator with `this` bound, failOpen and background', async () => {
    const { AuditService } = await importCompiled<{
      AuditService: new () => { seen: string[]; audit: never; flaky: never; record: never };
    }>('decorated-hooks.ts');
    const service = new AuditService();
    const agent = new Agent({
      model: new OfflineModel({ reply: 'answer' }),
      preHooks: [service.audit],
      postHooks: [service.flaky, service.record],
    });
    const rec = recordEvents(agent);
    const out = await agent.run('question');
    expect(out.content).toBe('answer');
    expect(service.seen).toEqual(['audit:question', 'audit:flaky']);
    expect(rec.hookOrder()).toContain('failed:flaky');
    expect(rec.hookOrder()).toContain('pre:completed:audit-input');
    await agent.drain();
    expect(service.seen).toEqual(['audit:question', 'audit:flaky', 'audit:background:answer']);
  });
});
