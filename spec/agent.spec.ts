/** The run onion: order, mutation, arguments, `use()` middleware and isolation between runs. */
import { describe, expect, it } from 'vitest';
import { Agent, CheckTrigger, InputCheckError, MemorySessionStore, hook, type PostHookArgs, type PreHookArgs } from 'hookchain';
import { OfflineModel, recordEvents } from 'hookchain/testing';
import type { ChatMessage } from 'hookchain';

const lastUser = (messages: ChatMessage[]) => String(messages.filter((m) => m.role === 'user').at(-1)?.content);
const echo = () => new OfflineModel({ reply: (m) => `echo:${lastUser(m)}` });

describe('Agent.run order and mutation', () => {
  it('runs with no hooks and with empty hook lists', async () => {
    const out = await new Agent({ model: echo() }).run('hi');
    expect(out.content).toBe('echo:hi');
    expect(out.status).toBe('completed');
    const out2 = await new Agent({ model: echo(), preHooks: [], postHooks: [] }).run('hi');
    expect(out2.content).toBe('echo:hi');
  });

  it('runs each hook exactly once per run and passes it the agent', async () => {
    const seen: unknown[] = [];
    const pre = ({ agent }: PreHookArgs) => void seen.push(['pre', agent]);
    const post = ({ agent }: PostHookArgs) => void seen.push(['post', agent]);
    const agent = new Agent({ model: echo(), preHooks: [pre], postHooks: [post] });
    await agent.run('x');
    expect(seen).toEqual([
      ['pre', agent],
      ['post', agent],
    ]);
  });

  it('runs pre-hooks in declared order, each seeing the previous edit, and the model gets the final input', async () => {
    const model = echo();
    const agent = new Agent({
      model,
      preHooks: [
        ({ runInput }: PreHookArgs) => void (runInput.inputContent += '-a'),
        async ({ runInput }: PreHookArgs) => void (runInput.inputContent += '-b'),
        ({ runInput }: PreHookArgs) => void (runInput.inputContent += '-c'),
      ],
    });
    const out = await agent.run('x');
    expect(out.content).toBe('echo:x-a-b-c');
    expect(out.input.inputContent).toBe('x-a-b-c');
  });

  it('runs post-hooks in declared order after the model; edits compound with input edits', async () => {
    const agent = new Agent({
      model: echo(),
      preHooks: [({ runInput }: PreHookArgs) => void (runInput.inputContent = 'edited')],
      postHooks: [
        async ({ runOutput }: PostHookArgs) => void (runOutput.content += '|1'),
        ({ runOutput }: PostHookArgs) => void (runOutput.content += '|2'),
      ],
    });
    expect((await agent.run('raw')).content).toBe('echo:edited|1|2');
  });

  it('ignores return values, and awaits any thenable a hook returns', async () => {
    const order: string[] = [];
    const thenable = { then: (resolve: () => void) => setTimeout(() => (order.push('thenable'), resolve()), 5) };
    const agent = new Agent({
      model: echo(),
      preHooks: [() => 'ignored' as unknown as void, () => thenable, () => void order.push('after')],
      postHooks: [() => ({ content: 'not used' })],
    });
    const out = await agent.run('x');
    expect(order).toEqual(['thenable', 'after']);
    expect(out.content).toBe('echo:x');
  });

  it('shares sessionState edits with later hooks and saves them with the session', async () => {
    const store = new MemorySessionStore();
    const agent = new Agent<{ count?: number; seenBy?: string }>({
      model: echo(),
      sessionStore: store,
      preHooks: [({ sessionState }) => void (sessionState.count = (sessionState.count ?? 0) + 1)],
      postHooks: [({ sessionState }) => void (sessionState.seenBy = `post saw ${sessionState.count}`)],
    });
    await agent.run('a', { sessionId: 's' });
    await agent.run('b', { sessionId: 's' });
    const saved = store.get('s')!;
    expect(saved.sessionState).toEqual({ count: 2, seenBy: 'post saw 2' });
    expect(saved.runs.map((r) => r.input.inputContent)).toEqual(['a', 'b']);
  });

  it('merges run sessionState shallowly over the stored state', async () => {
    const store = new MemorySessionStore();
    const agent = new Agent<{ a?: number; b?: number }>({ model: echo(), sessionStore: store, sessionState: { a: 1 } });
    await agent.run('x', { sessionId: 's', sessionState: { b: 2 } });
    await agent.run('x', { sessionId: 's', sessionState: { a: 3 } });
    expect(store.get('s')!.sessionState).toEqual({ a: 3, b: 2 });
  });
});

describe('hook arguments', () => {
  it('gives pre-hooks and post-hooks the documented fields; metadata and sessionState are the context objects', async () => {
    let pre: PreHookArgs<object, { db: { query: () => number } }> | undefined;
    let post: PostHookArgs<object, { db: { query: () => number } }> | undefined;
    const deps = { db: { query: () => 1 } };
    const agent = new Agent<object, typeof deps>({
      model: echo(),
      dependencies: deps,
      metadata: { app: 'test' },
      preHooks: [(a) => void (pre = a)],
      postHooks: [(a: PostHookArgs<object, typeof deps>) => void (post = a)],
    });
    const out = await agent.run('x', { userId: 'u1', metadata: { req: 7 } });
    expect(pre!.phase).toBe('pre');
    expect(Object.keys(pre!).sort()).toEqual(
      [
        'agent',
        'debugMode',
        'dependencies',
        'metadata',
        'phase',
        'runContext',
        'runInput',
        'session',
        'sessionState',
        'signal',
        'userId',
      ].sort(),
    );
    expect(pre!.signal).toBe(pre!.runContext.signal);
    expect(post!.phase).toBe('post');
    expect(post!.runOutput).toBe(out);
    expect(pre!.metadata).toBe(pre!.runContext.metadata);
    expect(pre!.sessionState).toBe(pre!.runContext.sessionState);
    expect(pre!.metadata).toEqual({ app: 'test', req: 7 });
    expect(pre!.dependencies.db).toBe(deps.db);
    expect(pre!.userId).toBe('u1');
    expect(pre!.runInput).toBe(pre!.runContext.input);
  });

  it('passes undefined for options not given, and a run debugMode of false beats the agent true', async () => {
    let args: PreHookArgs | undefined;
    const debugLines: string[] = [];
    const logger = { debug: (line: string) => void debugLines.push(line), warn() {} };
    const agent = new Agent({ model: echo(), debugMode: true, logger, preHooks: [(a: PreHookArgs) => void (args = a)] });
    await agent.run('x', { debugMode: false });
    expect(args!.userId).toBeUndefined();
    expect(args!.debugMode).toBe(false);
    expect(debugLines).toEqual([]);
    await agent.run('x');
    expect(args!.debugMode).toBe(true);
    const masked = () => debugLines.map((l) => l.replace(/run \S+/, 'run <id>').replace(/[\d.]+ ms/g, '<t> ms'));
    expect(masked()).toEqual([
      'hookchain: run <id> started (agent agent)',
      'hookchain: run <id> pre-hook "preHooks[0]" passed in <t> ms',
      'hookchain: run <id> model offline answered step 1 in <t> ms (1 in, 2 out tokens)',
      'hookchain: run <id> completed in <t> ms',
      'hookchain: run <id> hooks, slowest first: pre:preHooks[0] <t> ms passed',
    ]);
  });

  it('in debugMode logs each hook with its outcome and the verdict that ended the run', async () => {
    const debugLines: string[] = [];
    const logger = { debug: (line: string) => void debugLines.push(line), warn() {} };
    const flaky = hook({ failOpen: true, name: 'flaky' })(() => {
      throw new Error('down');
    });
    const gate = function topicGate() {
      throw new InputCheckError('off topic', { checkTrigger: CheckTrigger.OFF_TOPIC });
    };
    const agent = new Agent({ model: echo(), debugMode: true, logger, preHooks: [flaky, gate] });
    await expect(agent.run('x')).rejects.toThrow('off topic');
    const masked = debugLines.map((l) => l.replace(/run \S+/, 'run <id>').replace(/[\d.]+ ms/g, '<t> ms'));
    expect(masked.slice(0, 4)).toEqual([
      'hookchain: run <id> started (agent agent)',
      'hookchain: run <id> pre-hook "flaky" failed open: Error in <t> ms',
      'hookchain: run <id> pre-hook "topicGate" blocked (off_topic) in <t> ms',
      'hookchain: run <id> error: input_check_error (off_topic) by hook "topicGate" after <t> ms',
    ]);
    // The summary names every hook with its outcome, slowest first, so a stack can be ordered cheap-first.
    expect(masked[4]).toMatch(/^hookchain: run <id> hooks, slowest first: pre:(topicGate|flaky) .*; pre:(topicGate|flaky) /);
    expect(masked[4]).toContain('pre:topicGate <t> ms blocked (off_topic)');
    expect(masked[4]).toContain('pre:flaky <t> ms failed open: Error');
  });

  it('works with hooks that take no argument or destructure a subset', async () => {
    let calls = 0;
    const agent = new Agent({
      model: echo(),
      preHooks: [() => void calls++, ({ userId }: PreHookArgs) => void (calls += userId ? 1 : 10)],
    });
    await agent.run('x', { userId: 'u' });
    expect(calls).toBe(2);
  });

  it('never mutates the caller-supplied message array or hook lists', async () => {
    const messages: ChatMessage[] = [{ role: 'user', content: 'secret 1' }];
    const preHooks = [({ runInput }: PreHookArgs) => void ((runInput.inputContent as ChatMessage[])[0]!.content = 'masked')];
    const agent = new Agent({ model: echo(), preHooks });
    preHooks.push(() => {
      throw new Error('added after construction: must not run');
    });
    const out = await agent.run(messages);
    expect(messages[0]!.content).toBe('secret 1');
    expect(out.content).toBe('echo:masked');
  });
});

describe('agent.use() middleware', () => {
  it('runs between the pre-hooks and the model, and its after-part before the post-hooks (guardrails bracket middleware)', async () => {
    const order: string[] = [];
    const agent = new Agent({
      model: new OfflineModel({ reply: () => (order.push('model'), 'answer') }),
      preHooks: [() => void order.push('pre1'), () => void order.push('pre2')],
      postHooks: [() => void order.push('post1'), () => void order.push('post2')],
      middleware: [
        async (_ctx, next) => {
          order.push('mw-option in');
          await next();
          order.push('mw-option out');
        },
      ],
    });
    agent.use(async (_ctx, next) => {
      order.push('use1 in');
      await next();
      order.push('use1 out');
    });
    agent.use(async (ctx, next) => {
      order.push('use2 in');
      await next();
      ctx.output.content += ' (edited by middleware)';
      order.push('use2 out');
    });
    const out = await agent.run('x');
    expect(order).toEqual([
      'pre1',
      'pre2',
      'mw-option in',
      'use1 in',
      'use2 in',
      'model',
      'use2 out',
      'use1 out',
      'mw-option out',
      'post1',
      'post2',
    ]);
    expect(out.content).toBe('answer (edited by middleware)');
  });

  it('can short-circuit the model by not calling next()', async () => {
    let modelCalls = 0;
    const agent = new Agent({ model: new OfflineModel({ reply: () => (modelCalls++, 'model') }) });
    agent.use(async (ctx) => {
      ctx.output.content = 'from cache';
    });
    const out = await agent.run('x');
    expect(out.content).toBe('from cache');
    expect(modelCalls).toBe(0);
  });

  it('rejects a second next() in the same middleware', async () => {
    const agent = new Agent({ model: echo() });
    agent.use(async (_ctx, next) => {
      await next();
      await next();
    });
    await expect(agent.run('x')).rejects.toThrow(/agent.use\(\) middleware #1 called next\(\) more than once/);
  });

  it('fails the run, naming the middleware, when it calls next() without awaiting it', async () => {
    const postHookRan: string[] = [];
    const agent = new Agent({
      model: new OfflineModel({ reply: () => 'late', chunkSize: 1 }),
      postHooks: [() => void postHookRan.push('post')],
    });
    agent.use(async function forgetful(_ctx, next) {
      void next(); // the bug: not awaited
    });
    await expect(agent.run('x')).rejects.toThrow(
      /agent.use\(\) middleware "forgetful" finished before the rest of the chain .* Write `await next\(\)`/,
    );
    const ok = new Agent({ model: echo() });
    ok.use((_ctx, next) => next()); // returning next() is as good as awaiting it
    expect((await ok.run('x')).content).toBe('echo:x');
  });

  it('lets middleware read timing into metadata (the README example)', async () => {
    const agent = new Agent({ model: echo() });
    let ms: unknown;
    agent.use(async (ctx, next) => {
      const t = performance.now();
      await next();
      ctx.metadata.ms = performance.now() - t;
      ms = ctx.metadata.ms;
    });
    await agent.run('x');
    expect(typeof ms).toBe('number');
  });
});

describe('outputs and isolation', () => {
  it('fills the documented RunOutput fields and freezes the finished record', async () => {
    const agent = new Agent({ name: 'Support Bot', model: echo(), instructions: 'be brief' });
    const out = await agent.run('hello', { userId: 'u', sessionId: 'sess' });
    expect(out).toMatchObject({
      sessionId: 'sess',
      agentId: 'support-bot',
      agentName: 'Support Bot',
      userId: 'u',
      content: 'echo:hello',
      status: 'completed',
      model: 'offline',
      error: undefined,
    });
    expect(out.messages).toEqual([
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'hello' },
      { role: 'assistant', content: 'echo:hello' },
    ]);
    expect(out.metrics.totalTokens).toBe(out.metrics.inputTokens + out.metrics.outputTokens);
    expect(out.metrics.durationMs).toBeGreaterThan(0);
    expect(Object.isFrozen(out)).toBe(true);
    expect(JSON.parse(JSON.stringify(out))).toEqual(out);
  });

  it('derives a stable agentId from the name, so two agents with one name share sessions', async () => {
    const store = new MemorySessionStore();
    const a = new Agent<{ n?: number }>({
      name: 'Helper',
      model: echo(),
      sessionStore: store,
      preHooks: [({ sessionState }) => void (sessionState.n = (sessionState.n ?? 0) + 1)],
    });
    const b = new Agent<{ n?: number }>({
      name: 'Helper',
      model: echo(),
      sessionStore: store,
      preHooks: [({ sessionState }) => void (sessionState.n = (sessionState.n ?? 0) + 1)],
    });
    await a.run('x', { sessionId: 's' });
    await b.run('x', { sessionId: 's' });
    expect((store.get('s')!.sessionState as { n: number }).n).toBe(2);
  });

  it('keeps 200 concurrent runs on one agent from seeing each other’s input, output, state or metadata', async () => {
    const agent = new Agent<{ mine?: string }>({
      model: new OfflineModel({ reply: (m) => `reply:${lastUser(m)}` }),
      preHooks: [
        async ({ runInput, sessionState, metadata }) => {
          sessionState.mine = String(runInput.inputContent);
          metadata.tag = runInput.inputContent;
          await new Promise((r) => setTimeout(r, Math.random() * 5));
        },
      ],
      postHooks: [
        async ({ runOutput, sessionState, metadata }) => {
          await new Promise((r) => setTimeout(r, Math.random() * 5));
          runOutput.content += `|${sessionState.mine}|${String(metadata.tag)}`;
        },
      ],
    });
    const outs = await Promise.all(Array.from({ length: 200 }, (_, i) => agent.run(`in${i}`, { sessionId: `s${i}` })));
    outs.forEach((out, i) => expect(out.content).toBe(`reply:in${i}|in${i}|in${i}`));
    expect(new Set(outs.map((o) => o.runId)).size).toBe(200);
  });

  it('emits run_started first and run_completed last, with hook events named by function, hook({ name }) or class', async () => {
    const agent = new Agent({ model: echo(), preHooks: [function validate() {}], postHooks: [function tone() {}] });
    const rec = recordEvents(agent);
    await agent.run('x');
    expect(rec.names()).toEqual([
      'run_started',
      'pre_hook_started',
      'pre_hook_completed',
      'model_request_started',
      'model_request_completed',
      'post_hook_started',
      'post_hook_completed',
      'run_completed',
    ]);
    expect(rec.hookOrder()).toEqual(['pre:started:validate', 'pre:completed:validate', 'post:started:tone', 'post:completed:tone']);
  });
});

describe('a middleware that answers without the model', () => {
  it('completes with its answer as the assistant message', async () => {
    let modelCalls = 0;
    const agent = new Agent({ model: { id: 'm', invoke: async () => (modelCalls++, { content: 'model' }) } });
    agent.use(async (ctx) => {
      ctx.output.content = 'cached answer';
    });
    const out = await agent.run('hello');
    expect(modelCalls).toBe(0);
    expect(out.content).toBe('cached answer');
    expect(out.messages).toEqual([{ role: 'assistant', content: 'cached answer' }]);
  });
});
