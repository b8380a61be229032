/** Background hooks through `agent.run()`. */
import { describe, expect, it } from 'vitest';
import { Agent, BaseGuardrail, DrainQueue, hook, InputCheckError, type HookArgs, type PostHookArgs, type PreHookArgs } from 'hookchain';
import type { BackgroundJob } from 'hookchain/background';
import { OfflineModel } from 'hookchain/testing';
import { importCompiled } from '../compile-fixture.ts';
import { trapUnhandledRejections } from './helpers.ts';

trapUnhandledRejections();

const echo = () => new OfflineModel({ reply: (messages) => `echo: ${String(messages.at(-1)!.content)}` });
const bg = <A>(name: string, fn: (args: A) => unknown, extra: { timeoutMs?: number } = {}) =>
  hook({ runInBackground: true, name, ...extra })(fn);

class MaskDigits extends BaseGuardrail {
  check(args: HookArgs) {
    if (args.phase === 'pre') args.runInput.inputContent = String(args.runInput.inputContent).replace(/\d/g, '#');
    else args.runOutput.content = args.runOutput.content?.replace(/\d/g, '#');
  }
}

class Block extends BaseGuardrail {
  check(args: HookArgs) {
    this.reject(args, 'blocked by policy');
  }
}

class Crash extends BaseGuardrail {
  check(): void {
    throw new Error('guardrail crashed');
  }
}

describe('background hooks: after the caller, and drainable', () => {
  it('has queued but not run them when run() resolves; agent.drain() runs them', async () => {
    const queue = new DrainQueue();
    const ran: string[] = [];
    const agent = new Agent({
      model: echo(),
      backgroundQueue: queue,
      preHooks: [bg('pre-analytics', () => void ran.push('pre'))],
      postHooks: [bg('post-analytics', async () => void ran.push('post'))],
    });
    const out = await agent.run('hello');
    expect(out.content).toBe('echo: hello');
    expect(ran).toEqual([]);
    expect(queue.size).toBe(2); // queued, not merely "ran later" (pitfall 8)
    await agent.drain();
    expect(ran).toEqual(['pre', 'post']);
    expect(queue.stats).toMatchObject({ accepted: 2, completed: 2 });
  });

  it('with runHooksInBackground, plain hooks go to the queue and guardrails still run inline and block', async () => {
    const ran: string[] = [];
    const agent = new Agent({
      model: echo(),
      runHooksInBackground: true,
      preHooks: [() => void ran.push('plain-pre'), new MaskDigits()],
      postHooks: [() => void ran.push('plain-post')],
    });
    expect((await agent.run('pin 1234')).content).toBe('echo: pin ####');
    expect(ran).toEqual([]);
    await agent.drain();
    expect(ran).toEqual(['plain-pre', 'plain-post']);
    const blocking = new Agent({ model: echo(), runHooksInBackground: true, preHooks: [() => void ran.push('never'), new Block()] });
    await expect(blocking.run('hi')).rejects.toBeInstanceOf(InputCheckError);
    await blocking.drain();
    expect(ran).not.toContain('never');
  });

  it('hands executors the frozen snapshot as job.args, so a distributed queue can ship the run data', async () => {
    const jobs: BackgroundJob[] = [];
    const executor = { enqueue: (job: BackgroundJob) => void jobs.push(job), drain: async () => {}, close: async () => {} };
    const agent = new Agent({ model: echo(), backgroundQueue: executor, postHooks: [bg('ship', () => {})] });
    const out = await agent.run('hello');
    expect(jobs.map((j) => [j.hookName, j.runId])).toEqual([['ship', out.runId]]);
    const args = jobs[0]!.args as PostHookArgs;
    expect(Object.isFrozen(args)).toBe(true);
    expect(JSON.parse(JSON.stringify({ input: args.runInput, content: args.runOutput.content }))).toEqual({
      input: { inputContent: 'hello' },
      content: 'echo: hello',
    });
  });

  it('re-emits the queue events on the agent, with the run id', async () => {
    const agent = new Agent({ model: echo(), postHooks: [bg('ok', () => {}), bg('bad', () => Promise.reject(new TypeError('nope')))] });
    const events: unknown[] = [];
    for (const name of ['background_hook_started', 'background_hook_completed', 'background_hook_failed'] as const) {
      agent.on(name, (e) => void events.push({ name, hookName: e.hookName, runId: e.runId }));
    }
    const out = await agent.run('hi');
    await agent.drain();
    expect(events).toEqual([
      { name: 'background_hook_started', hookName: 'ok', runId: out.runId },
      { name: 'background_hook_completed', hookName: 'ok', runId: out.runId },
      { name: 'background_hook_started', hookName: 'bad', runId: out.runId },
      { name: 'background_hook_failed', hookName: 'bad', runId: out.runId },
    ]);
  });
});

describe('background hooks: a snapshot they cannot change', () => {
  it('sees masked input and the final output, never the raw text', async () => {
    const seen: Record<string, unknown> = {};
    const agent = new Agent({
      model: echo(),
      preHooks: [bg('before-mask', ({ runInput }: PreHookArgs) => void (seen.pre = runInput.inputContent)), new MaskDigits()],
      postHooks: [
        bg('before-edit', ({ runOutput }: PostHookArgs) => void (seen.post = runOutput.content)),
        ({ runOutput }: PostHookArgs) => void (runOutput.content += ' (reviewed)'),
        new MaskDigits(),
      ],
    });
    // Middleware runs after the pre-hook snapshot: its edit reaches the model, not the pre-phase snapshot.
    agent.use(async (ctx, next) => {
      ctx.input.inputContent += ' [mw]';
      await next();
    });
    const out = await agent.run('card 4111 1111');
    await agent.drain();
    expect(seen).toEqual({ pre: 'card #### ####', post: out.content });
    expect(out.content).toBe('echo: card #### #### [mw] (reviewed)');
  });

  it('cannot change output, input or state: writes throw, become events, and the run is untouched', async () => {
    const failures: string[] = [];
    const deps = { sink: [] as string[] };
    const agent = new Agent({
      model: echo(),
      dependencies: deps,
      preHooks: [
        bg('edit-input', ({ runInput }: PreHookArgs) => void (runInput.inputContent = 'hijacked')),
        ({ sessionState }: PreHookArgs) => void ((sessionState as { visits?: number }).visits = 1),
      ],
      postHooks: [
        bg('edit-output', ({ runOutput }: PostHookArgs) => void (runOutput.content = 'hijacked')),
        bg('edit-state', ({ sessionState }: PostHookArgs) => void ((sessionState as { visits: number }).visits = 99)),
        bg('edit-context', ({ runContext }: PostHookArgs) => void (runContext.state = {})),
        bg('use-deps', ({ dependencies, sessionState }: PostHookArgs) => {
          expect(dependencies).toBe(deps); // services by reference
          (dependencies as typeof deps).sink.push(`visits=${(sessionState as { visits: number }).visits}`);
        }),
      ],
    });
    agent.on('background_hook_failed', (e) => void failures.push(`${e.hookName}:${e.reason}:${e.error.name}`));
    const out = await agent.run('hello', { sessionId: 's1' });
    await agent.drain();
    expect(failures).toEqual([
      'edit-input:error:TypeError',
      'edit-output:error:TypeError',
      'edit-state:error:TypeError',
      'edit-context:error:TypeError',
    ]);
    expect(out.content).toBe('echo: hello');
    expect(deps.sink).toEqual(['visits=1']);
    const stored = await agent.sessionStore.get('s1');
    expect(stored!.sessionState).toEqual({ visits: 1 });
    expect(stored!.runs.at(-1)!.content).toBe('echo: hello');
  });
});

describe('background hooks: a failed run flushes nothing', () => {
  const phases = ['pre', 'post'] as const;
  it.each(
    phases.flatMap(
      (phase) =>
        [
          [phase, 'sync'],
          [phase, 'async'],
        ] as const,
    ),
  )('a %s-phase rejecting guardrail drops the %s background hooks before and after it, in both phases', async (phase, mode) => {
    const queue = new DrainQueue();
    const ran: string[] = [];
    const job = (name: string) => bg(name, mode === 'sync' ? () => void ran.push(name) : async () => void ran.push(name));
    const guarded = (name: string) => [job(`${name}-before`), new Block(), job(`${name}-after`)];
    const agent = new Agent({
      model: echo(),
      backgroundQueue: queue,
      preHooks: phase === 'pre' ? guarded('pre') : [job('pre-held')],
      postHooks: phase === 'post' ? guarded('post') : [job('post-held')],
    });
    await expect(agent.run('hello')).rejects.toThrow('blocked by policy');
    await agent.drain();
    expect(ran).toEqual([]);
    expect(queue.stats.accepted).toBe(0);
  });

  it('a guardrail crashing with a plain error fails the run and queues nothing', async () => {
    const queue = new DrainQueue();
    const agent = new Agent({
      model: echo(),
      backgroundQueue: queue,
      preHooks: [bg('a', () => {})],
      postHooks: [bg('b', () => {}), new Crash()],
    });
    await expect(agent.run('hello')).rejects.toThrow('guardrail crashed');
    await agent.drain();
    expect(queue.stats.accepted).toBe(0);
  });

  it('a cancelled run queues nothing', async () => {
    const queue = new DrainQueue();
    const controller = new AbortController();
    const agent = new Agent({
      model: echo(),
      backgroundQueue: queue,
      preHooks: [bg('held', () => {}), () => controller.abort()],
      postHooks: [bg('never-held', () => {})],
    });
    await expect(agent.run('hello', { signal: controller.signal })).rejects.toMatchObject({ runOutput: { status: 'cancelled' } });
    await agent.drain();
    expect(queue.stats.accepted).toBe(0);
  });

  it('a guardrail marked background is refused at construction', () => {
    class Audit extends BaseGuardrail {
      runInBackground = true;
      check() {}
    }
    expect(() => new Agent({ model: echo(), preHooks: [new Audit()] })).toThrow(/guardrail marked to run in background/);
  });
});

describe('background hooks: failures stay in the background', () => {
  it('turns a throw and a timeout into events; the run has long succeeded', async () => {
    const failures: string[] = [];
    const agent = new Agent({
      model: echo(),
      postHooks: [
        bg('throws', () => {
          throw new Error('analytics down');
        }),
        bg('hangs', () => new Promise(() => {}), { timeoutMs: 10 }),
        bg('late-reject', () => new Promise((_, reject) => setTimeout(() => reject(new Error('late')), 30)), { timeoutMs: 5 }),
      ],
    });
    agent.on('background_hook_failed', (e) => void failures.push(`${e.hookName}:${e.reason}`));
    const out = await agent.run('hi');
    expect(out.status).toBe('completed');
    await agent.drain();
    await new Promise((r) => setTimeout(r, 40)); // the late rejection lands after its timeout and stays handled
    expect(failures.sort()).toEqual(['hangs:timeout', 'late-reject:timeout', 'throws:error']);
  });
});

describe('background hooks: decorator form and load', () => {
  it('@hook({ runInBackground: true }) on a method runs with `this` bound, after the run', async () => {
    type Tracker = { events: string[]; track: never; plain: never };
    const { AnalyticsTracker } = await importCompiled<{ AnalyticsTracker: new (prefix: string) => Tracker }>(
      '../background/fixtures/analytics-tracker.ts',
    );
    const tracker = new AnalyticsTracker('t1');
    const agent = new Agent({ model: echo(), preHooks: [tracker.plain], postHooks: [tracker.track] });
    const out = await agent.run('hi');
    expect(tracker.events).toEqual(['t1:plain']);
    await agent.drain();
    expect(tracker.events).toEqual(['t1:plain', `t1:${out.content}:frozen=true`]);
  });

  it('runs 20,000 jobs from 2,000 concurrent runs exactly once', async () => {
    const counts = new Map<string, number>();
    const hooks = Array.from({ length: 10 }, (_, i) =>
      bg(`h${i}`, ({ runOutput }: PostHookArgs) => {
        const key = `${runOutput.runId}:${i}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
        return i % 2 ? Promise.resolve() : undefined;
      }),
    );
    const agent = new Agent({ model: echo(), postHooks: hooks });
    const outs = await Promise.all(Array.from({ length: 2_000 }, (_, i) => agent.run(`run ${i}`)));
    await agent.drain();
    expect(counts.size).toBe(20_000);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(new Set(outs.map((o) => o.runId)).size).toBe(2_000);
  });
});

describe('background post-hooks see the finished run', () => {
  it('gets the final record: status completed, metrics, the answer in messages, this run in session.runs', async () => {
    let seen: PostHookArgs | undefined;
    const agent = new Agent({ model: echo(), postHooks: [bg('audit', (args: PostHookArgs) => void (seen = args))] });
    const out = await agent.run('hello', { sessionId: 'final-record' });
    await agent.drain();
    expect(seen!.runOutput.status).toBe('completed');
    expect(seen!.runOutput.content).toBe(out.content);
    expect(seen!.runOutput.metrics.durationMs).toBe(out.metrics.durationMs);
    expect(seen!.runOutput.messages.at(-1)).toEqual({ role: 'assistant', content: 'echo: hello' });
    expect(seen!.session.runs.at(-1)!.runId).toBe(out.runId);
  });
});
