/** Concurrent runs on one session: serialised in-process (per store), released on every settle path, no leaks. */
import { setImmediate as tick } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { Agent, MemorySessionStore, OutputCheckError, RunAbortedError, type PreHookArgs, type SessionStore } from 'hookchain';
import { OfflineModel } from 'hookchain/testing';
import { SessionLocks, sessionLocks } from '../../lib/sessions/lock.ts';
import { deferred, sqliteStore } from './helpers.ts';

type Counter = { count?: number };

/** Reads the counter, yields to the event loop, writes it back: without serialisation, concurrent runs lose updates. */
const slowIncrement = async ({ sessionState }: PreHookArgs<Counter>) => {
  const seen = sessionState.count ?? 0;
  await tick();
  sessionState.count = seen + 1;
};

const stores: [string, () => SessionStore][] = [
  ['MemorySessionStore', () => new MemorySessionStore()],
  ['SqliteSessionStore', () => sqliteStore()],
];

describe.each(stores)('concurrent runs on one session (%s)', (_name, open) => {
  it('50 concurrent runs keep all 50 counter increments and all 50 runs', async () => {
    const store = open();
    const agent = new Agent<Counter>({ model: new OfflineModel({ reply: 'ok' }), sessionStore: store, preHooks: [slowIncrement] });
    const outputs = await Promise.all(Array.from({ length: 50 }, (_, i) => agent.run(`run ${i}`, { sessionId: 'shared' })));
    const stored = (await store.get('shared'))!;
    expect(stored.sessionState).toEqual({ count: 50 });
    expect(stored.runs).toHaveLength(50);
    expect(new Set(stored.runs.map((r) => r.runId))).toEqual(new Set(outputs.map((o) => o.runId)));
    // First come, first served: the runs were stored in the order they were started.
    expect(stored.runs.map((r) => r.input.inputContent)).toEqual(Array.from({ length: 50 }, (_, i) => `run ${i}`));
    expect(sessionLocks(store).size).toBe(0);
  });

  it('agents sharing a store share its locks (same name, two Agent objects)', async () => {
    const store = open();
    const make = () =>
      new Agent<Counter>({ name: 'support', model: new OfflineModel({ reply: 'ok' }), sessionStore: store, preHooks: [slowIncrement] });
    const [a, b] = [make(), make()];
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).run(`run ${i}`, { sessionId: 'shared' })));
    expect((await store.get('shared'))!.sessionState).toEqual({ count: 20 });
  });

  it('releases the session on every settle path: success, hook error, output block, abort, stream, stream left early', async () => {
    const store = open();
    const post = ({ runOutput }: { runOutput: { content?: string } }) => {
      if (runOutput.content === 'a:block') throw new OutputCheckError('blocked');
    };
    const controller = new AbortController();
    const pre = ({ runInput }: PreHookArgs) => {
      if (runInput.inputContent === 'crash') throw new Error('hook crashed');
      if (runInput.inputContent === 'abort me') controller.abort(); // the caller gives up mid-run
    };
    const agent = new Agent<Counter>({
      model: new OfflineModel({ reply: (m) => `a:${String(m.at(-1)!.content)}`, chunkSize: 1, chunkDelayMs: 1 }),
      sessionStore: store,
      preHooks: [slowIncrement, pre],
      postHooks: [post],
    });
    const opts = { sessionId: 's' };
    const settled = await Promise.allSettled([
      agent.run('fine', opts),
      agent.run('crash', opts),
      agent.run('block', opts),
      agent.run('abort me', { ...opts, signal: controller.signal }),
      (async () => {
        for await (const _e of agent.stream('streamed', opts)) void _e;
      })(),
      (async () => {
        for await (const e of agent.stream('left early', opts)) if (e.type === 'content') break;
      })(),
      agent.run('last', opts),
    ]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect(sessionLocks(store).size).toBe(0);
    const stored = (await store.get('s'))!;
    expect(stored.runs.map((r) => r.status)).toEqual(['completed', 'error', 'error', 'cancelled', 'completed', 'cancelled', 'completed']);
    expect(stored.sessionState).toEqual({ count: 7 });
    await expect(agent.run('after all that', opts)).resolves.toMatchObject({ status: 'completed' });
  });

  it('a run aborted while waiting for its turn rejects at once with an AbortError and leaves no trace', async () => {
    const store = open();
    const gate = deferred();
    const entered = deferred();
    const agent = new Agent({
      model: new OfflineModel({ reply: 'ok' }),
      sessionStore: store,
      preHooks: [
        async ({ runInput }: PreHookArgs) => (runInput.inputContent === 'holder' ? (entered.resolve(), await gate.promise) : undefined),
      ],
    });
    const holder = agent.run('holder', { sessionId: 's' });
    await entered.promise;
    const controller = new AbortController();
    const waiting = agent.run('waiter', { sessionId: 's', signal: controller.signal });
    const after = agent.run('after', { sessionId: 's' });
    controller.abort(new Error('user gave up'));
    const error = await waiting.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RunAbortedError);
    expect((error as RunAbortedError).runOutput).toBeUndefined();
    gate.resolve();
    await holder;
    await after;
    expect((await store.get('s'))!.runs.map((r) => r.input.inputContent)).toEqual(['holder', 'after']);
    expect(sessionLocks(store).size).toBe(0);
  });

  it('releases the session when loading it fails (another agent owns it)', async () => {
    const store = open();
    await new Agent({ name: 'a', model: new OfflineModel({ reply: 'ok' }), sessionStore: store }).run('x', { sessionId: 's' });
    const b = new Agent({ name: 'b', model: new OfflineModel({ reply: 'ok' }), sessionStore: store });
    await expect(b.run('y', { sessionId: 's' })).rejects.toMatchObject({ code: 'SESSION_AGENT_MISMATCH' });
    expect(sessionLocks(store).size).toBe(0);
  });
});

describe('SessionLocks', () => {
  it('is free without a promise, queues first come first served, and forgets a session once nobody holds it', async () => {
    const locks = new SessionLocks();
    expect(locks.acquire('s')).toBeUndefined();
    expect(locks.acquire('other')).toBeUndefined();
    const order: number[] = [];
    const waits = [1, 2, 3].map((n) => locks.acquire('s')!.then(() => order.push(n)));
    expect(locks.size).toBe(2);
    locks.release('other');
    for (let i = 0; i < 4; i++) {
      locks.release('s');
      await tick();
    }
    await Promise.all(waits);
    expect(order).toEqual([1, 2, 3]);
    expect(locks.size).toBe(0);
  });

  it('drops an aborted waiter from the queue without disturbing the others', async () => {
    const locks = new SessionLocks();
    expect(locks.acquire('s')).toBeUndefined();
    const controller = new AbortController();
    const aborted = locks.acquire('s', controller.signal)!;
    const next = locks.acquire('s')!;
    controller.abort();
    await expect(aborted).rejects.toBeInstanceOf(RunAbortedError);
    locks.release('s');
    await next;
    locks.release('s');
    expect(locks.size).toBe(0);
    await expect(locks.acquire('x', AbortSignal.abort()) ?? Promise.resolve('free')).resolves.toBe('free');
  });
});
