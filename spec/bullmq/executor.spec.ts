/**
 * `hookchain/bullmq` in one process against real Redis: what a worker-side hook receives, deterministic job ids,
 * retries and the one failure report, drain, and the checks at construction (those need no Redis).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Agent, HookchainConfigError, PIIDetectionGuardrail, hook, type PostHookArgs, type PreHookArgs } from 'hookchain';
import type { BackgroundJob } from 'hookchain/background';
import { OfflineModel } from 'hookchain/testing';
import { BackgroundJobFailedError, BullMQExecutor, backgroundJobId, createBackgroundWorker, type BackgroundWorker } from 'hookchain/bullmq';
import { connection, describeRedis, queueName, sleep } from './helpers.ts';

const model = () => new OfflineModel({ reply: 'Write to bob@example.com, ok?' });

describe('hookchain/bullmq checks that need no Redis', () => {
  it('builds deterministic job ids with no ":" in them', () => {
    expect(backgroundJobId('run_1', 'post', 'audit')).toBe('run_1|post|audit');
    const id = backgroundJobId('a:b|c', 'pre', 'x:y');
    expect(id).not.toContain(':');
    expect(id.split('|')).toEqual(['a%3Ab%7Cc', 'pre', 'x%3Ay']);
  });

  it('validates options at once, naming the option', () => {
    expect(() => new BullMQExecutor(undefined as never)).toThrow(/options must be an object like \{ connection \}/);
    expect(() => new BullMQExecutor({} as never)).toThrow(/option "connection" is required/);
    expect(() => new BullMQExecutor({ connection: { port: 1 }, queueName: 'a:b' })).toThrow(
      /"queueName" must be a non-empty string without ":"/,
    );
    expect(() => new BullMQExecutor({ connection: { port: 1 }, attempts: 0 })).toThrow(/"attempts" must be a positive integer/);
    expect(() => new BullMQExecutor({ connection: { port: 1 }, backoff: { type: 'linear' } as never })).toThrow(/"backoff" must be/);
    expect(() => new BullMQExecutor({ connection: { port: 1 }, retries: 3 } as never)).toThrow(/unknown option "retries"/);
  });

  it('refuses, before connecting, a worker whose agent has two background hooks of one name, or two agents of one id', async () => {
    const agent = new Agent({
      model: model(),
      preHooks: [hook({ runInBackground: true, name: 'audit' })(() => {})],
      postHooks: [hook({ runInBackground: true, name: 'audit' })(() => {})],
    });
    const error = await createBackgroundWorker({ agents: [agent], connection: { port: 1 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HookchainConfigError);
    expect(error).toMatchObject({ code: 'DUPLICATE_HOOK_NAME' });
    expect((error as Error).message).toMatch(/background pre-hook and the background post-hook are both named "audit".*hook\(\{ name/);
    const twins = [new Agent({ name: 'a', model: model() }), new Agent({ name: 'a', model: model() })];
    await expect(createBackgroundWorker({ agents: twins, connection: { port: 1 } })).rejects.toThrow(/two agents have the id "a"/);
    await expect(createBackgroundWorker({ agents: [], connection: { port: 1 } })).rejects.toThrow(/"agents" must be a non-empty array/);
  });
});

describeRedis('hookchain/bullmq with Redis', () => {
  const open: { close(): Promise<void> }[] = [];
  const track = <T extends { close(): Promise<void> }>(x: T): T => {
    open.push(x);
    return x;
  };
  afterEach(async () => {
    for (const x of open.splice(0).reverse()) await x.close();
  });
  const executor = (name: string, options: Partial<ConstructorParameters<typeof BullMQExecutor>[0]> = {}) =>
    track(new BullMQExecutor({ connection: connection(), queueName: name, ...options }));
  const worker = async (name: string, agents: Agent<object, object>[], logger?: { debug(): void; warn(...a: unknown[]): void }) =>
    track<BackgroundWorker>(
      await createBackgroundWorker({ agents, connection: connection(), queueName: name, ...(logger ? { logger } : {}) }),
    );

  it('refuses at construction an agent whose background hook names repeat across phases', () => {
    const queue = executor(queueName('names'));
    expect(
      () =>
        new Agent({
          model: model(),
          backgroundQueue: queue,
          preHooks: [hook({ runInBackground: true, name: 'audit' })(() => {})],
          postHooks: [hook({ runInBackground: true, name: 'audit' })(() => {})],
        }),
    ).toThrow(/both named "audit"/);
    // A guardrail used as a pre- and a post-hook is fine: only background hooks travel by name.
    expect(
      () =>
        new Agent({
          model: model(),
          backgroundQueue: queue,
          preHooks: [new PIIDetectionGuardrail()],
          postHooks: [new PIIDetectionGuardrail()],
        }),
    ).not.toThrow();
  });

  it('runs the hooks on a worker with the JSON snapshot, the worker’s agent and dependencies, frozen', async () => {
    const name = queueName('snapshot');
    const seen: Record<string, unknown>[] = [];
    const build = (backgroundQueue?: BullMQExecutor, deps = { side: 'producer', client: new URL('http://x') }) =>
      new Agent<{ cart: string[] }, typeof deps>({
        name: 'shop',
        model: model(),
        dependencies: deps,
        ...(backgroundQueue ? { backgroundQueue } : {}),
        preHooks: [
          new PIIDetectionGuardrail({ maskPii: true }),
          hook({ runInBackground: true, name: 'seeInput' })((a: PreHookArgs<{ cart: string[] }, typeof deps>) => {
            seen.push({
              phase: a.phase,
              input: a.runInput.inputContent,
              output: a.runContext.output?.status,
              frozen: Object.isFrozen(a.runInput),
            });
          }),
        ],
        postHooks: [
          new PIIDetectionGuardrail({ maskPii: true }),
          hook({ runInBackground: true, name: 'seeOutput' })((a: PostHookArgs<{ cart: string[] }, typeof deps>) => {
            const ctx = a.runContext as unknown as Record<string, unknown>;
            let writeThrew = false;
            try {
              (a.sessionState.cart as string[]).push('x');
            } catch {
              writeThrew = true;
            }
            seen.push({
              writeThrew,
              phase: a.phase,
              content: a.runOutput.content,
              status: a.runOutput.status,
              cart: a.sessionState.cart,
              session: a.session,
              metadata: a.metadata,
              userId: a.userId,
              state: ctx.state,
              tenant: ctx.tenant,
              agentIsWorkers: a.agent === workerAgent,
              deps: a.dependencies,
              sameState: a.runContext.sessionState === a.sessionState,
              signal: a.signal.aborted,
              frozen: Object.isFrozen(a.sessionState.cart) && Object.isFrozen(a.runOutput),
            });
          }),
        ],
      });
    const workerAgent = build(undefined, { side: 'worker', client: new URL('http://y') });
    const queue = executor(name);
    const agent = build(queue).use<{ tenant: string }>(
      async (ctx, next) => {
        ctx.tenant = 'acme';
        ctx.state.trace = { id: 't1', started: new Date(0), fn: () => 1, big: 10n };
        await next();
      },
      { outer: true },
    );
    const failures: string[] = [];
    agent.on('background_hook_failed', (e) => failures.push(`${e.hookName} ${e.reason} ${e.error.message}`));
    await worker(name, [workerAgent]);
    const out = await agent.run('Mail me at ann@example.com', {
      sessionId: 's1',
      userId: 'u1',
      sessionState: { cart: ['a'] },
      metadata: { plan: 'pro', when: new Date(0) },
    });
    await agent.drain();
    expect(seen).toHaveLength(2);
    const pre = seen.find((s) => s.phase === 'pre')!;
    const post = seen.find((s) => s.phase === 'post')!;
    // What the guardrails left: masked input and output, never the raw text.
    expect(pre).toEqual({ phase: 'pre', input: expect.stringMatching(/^Mail me at \*+$/), output: 'running', frozen: true });
    expect(post).toMatchObject({
      content: expect.stringMatching(/^Write to \*+, ok\?$/),
      status: 'completed',
      cart: ['a'],
      session: { sessionId: 's1', agentId: 'shop', userId: 'u1', runs: [], sessionState: { cart: ['a'] } },
      metadata: { plan: 'pro', when: '1970-01-01T00:00:00.000Z' },
      userId: 'u1',
      state: { trace: { id: 't1', started: '1970-01-01T00:00:00.000Z', big: '10' } },
      tenant: 'acme',
      agentIsWorkers: true,
      deps: { side: 'worker' },
      sameState: true,
      signal: false,
      frozen: true,
      writeThrew: true,
    });
    expect(failures).toEqual([]);
    expect(out.status).toBe('completed');
  });

  it('makes a duplicate enqueue a no-op: one job per run, phase and hook name, across executors', async () => {
    const name = queueName('dup');
    let calls = 0;
    const held: BackgroundJob[] = [];
    const capture = { enqueue: (job: BackgroundJob) => void held.push(job), drain: async () => {}, close: async () => {} };
    const counted = hook({ runInBackground: true, name: 'count' })(() => {
      calls++;
    });
    const producer = new Agent({ name: 'dup', model: model(), postHooks: [counted], backgroundQueue: capture });
    await producer.run('hi');
    expect(held).toHaveLength(1);
    const first = executor(name);
    const second = executor(name); // another process's executor
    await first.enqueueAll(held);
    await first.enqueueAll(held); // same process: skipped
    await second.enqueueAll(held); // Redis: same job id, no second job
    await worker(name, [new Agent({ name: 'dup', model: model(), postHooks: [counted] })]);
    await Promise.all([first.drain(), second.drain()]);
    await sleep(200);
    expect(calls).toBe(1);
    const counts = await first.queue.getJobCounts('completed', 'waiting', 'failed');
    expect(counts).toEqual({ completed: 1, waiting: 0, failed: 0 });
    expect(await first.queue.getJob(backgroundJobId(held[0]!.runId, 'post', 'count'))).toBeDefined();
  });

  it('retries with backoff, then reports the exhausted job once on the producer and once in the worker’s log', async () => {
    const name = queueName('retry');
    const attempts: number[] = [];
    const flaky = hook({ runInBackground: true, name: 'flaky' })(() => {
      attempts.push(Date.now());
      throw new Error('the analytics API is down');
    });
    const queue = executor(name, { attempts: 3, backoff: { type: 'exponential', delay: 150 } });
    const agent = new Agent({ name: 'retry', model: model(), postHooks: [flaky], backgroundQueue: queue });
    const failed: { hookName: string; reason: string; error: { name: string; message: string } }[] = [];
    agent.on('background_hook_failed', (e) => failed.push(e));
    const warnings: string[] = [];
    await worker(name, [new Agent({ name: 'retry', model: model(), postHooks: [flaky] })], {
      debug() {},
      warn: (m) => void warnings.push(String(m)),
    });
    const out = await agent.run('hi');
    expect(out.status).toBe('completed');
    await agent.drain();
    expect(attempts).toHaveLength(3);
    // Exponential: ≥150 ms, then ≥300 ms.
    expect(attempts[1]! - attempts[0]!).toBeGreaterThanOrEqual(140);
    expect(attempts[2]! - attempts[1]!).toBeGreaterThanOrEqual(290);
    await sleep(2_500); // a sweep runs meanwhile: still one report
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ hookName: 'flaky', reason: 'error', error: { name: 'BackgroundJobFailedError' } });
    expect(failed[0]!.error.message).toMatch(/failed on a worker .*the analytics API is down/);
    expect(warnings).toEqual([
      expect.stringMatching(/background hook "flaky" of run .* failed on all 3 attempt\(s\); it stays in the failed set/),
    ]);
    const job = await queue.queue.getJob(backgroundJobId(out.runId, 'post', 'flaky'));
    expect(await job!.getState()).toBe('failed');
    expect(BackgroundJobFailedError.name).toBe('BackgroundJobFailedError');
  });

  it('drain() waits for the jobs this process enqueued, and only those', async () => {
    const name = queueName('drain');
    let finished = 0;
    const slow = hook({ runInBackground: true, name: 'slow' })(async () => {
      await sleep(300);
      finished++;
    });
    const queue = executor(name);
    const other = executor(name);
    const agent = new Agent({ name: 'drain', model: model(), postHooks: [slow], backgroundQueue: queue });
    await worker(name, [new Agent({ name: 'drain', model: model(), postHooks: [slow] })]);
    await Promise.all([agent.run('a'), agent.run('b'), agent.run('c')]);
    expect(queue.pending).toBe(3);
    const t = Date.now();
    await other.drain(); // enqueued nothing
    expect(Date.now() - t).toBeLessThan(50);
    await agent.drain();
    expect(finished).toBe(3);
    expect(queue.pending).toBe(0);
  });

  it('refuses jobs after close(), reporting them', async () => {
    const queue = executor(queueName('closed'));
    const agent = new Agent({
      name: 'closed',
      model: model(),
      postHooks: [hook({ runInBackground: true, name: 'late' })(() => {})],
      backgroundQueue: queue,
    });
    const failed: string[] = [];
    agent.on('background_hook_failed', (e) => failed.push(`${e.reason} ${e.error.name}`));
    await queue.close();
    const out = await agent.run('hi');
    expect(out.status).toBe('completed');
    expect(failed).toEqual(['rejected BackgroundQueueError']);
  });
});
