import { afterEach, describe, expect, it, vi } from 'vitest';
import { DrainQueue } from '../../lib/background/drain-queue.ts';
import { BackgroundQueueError, BackgroundTimeoutError } from '../../lib/background/errors.ts';
import { Ring } from '../../lib/background/ring.ts';
import { deferred, job, recordingReporter, trapUnhandledRejections, turn } from './helpers.ts';

trapUnhandledRejections();
afterEach(() => vi.restoreAllMocks());

describe('DrainQueue: ordering against the caller', () => {
  it('gives the caller its result before any job starts, however many microtasks it takes', async () => {
    const queue = new DrainQueue();
    const log: string[] = [];
    async function flushingRun() {
      void queue.enqueue(job('sync', () => void log.push('sync job')));
      void queue.enqueue(job('async', async () => void log.push('async job')));
      return 'result';
    }
    log.push(await flushingRun());
    for (let i = 0; i < 50; i++) await Promise.resolve();
    log.push('caller done');
    await queue.drain();
    expect(log).toEqual(['result', 'caller done', 'sync job', 'async job']);
  });

  it('does not let a finishing job start a job enqueued after the batch began', async () => {
    const queue = new DrainQueue({ concurrency: 1 });
    const gate = deferred();
    const log: string[] = [];
    void queue.enqueue(job('first', () => gate.promise));
    void queue.enqueue(job('second', () => void log.push('second')));
    await turn();
    expect(queue.pending).toBe(1);
    gate.resolve();
    void queue.enqueue(job('late', () => void log.push('late')));
    for (let i = 0; i < 20; i++) await Promise.resolve();
    // `second` was ready and started when `first` finished; `late` waits for its own setImmediate.
    expect(log).toEqual(['second']);
    await queue.drain();
    expect(log).toEqual(['second', 'late']);
  });

  it('takes one setImmediate per batch, and finished jobs start the next without another', async () => {
    const spy = vi.spyOn(globalThis, 'setImmediate');
    const queue = new DrainQueue({ concurrency: 4 });
    let ran = 0;
    for (let i = 0; i < 1000; i++) void queue.enqueue(job(`j${i}`, i % 2 ? () => void ran++ : async () => void ran++));
    const callsFromQueue = spy.mock.calls.length;
    await queue.drain();
    expect(ran).toBe(1000);
    expect(callsFromQueue).toBe(1);
    expect(queue.stats.batches).toBe(1);
    for (let i = 0; i < 10; i++) void queue.enqueue(job('again', () => void ran++));
    await queue.drain();
    expect(queue.stats.batches).toBe(2);
  });

  it('runs sync jobs back to back in one loop, with no microtask between them', async () => {
    const queue = new DrainQueue();
    const log: string[] = [];
    void queue.enqueue(
      job('a', () => {
        queueMicrotask(() => log.push('microtask from a'));
        log.push('a');
      }),
    );
    void queue.enqueue(job('b', () => void log.push('b')));
    void queue.enqueue(job('c', () => void log.push('c')));
    await queue.drain();
    expect(log).toEqual(['a', 'b', 'c', 'microtask from a']);
  });
});

describe('DrainQueue: drain and concurrency', () => {
  it('drain() resolves at once with no jobs, and otherwise only when nothing is queued or running', async () => {
    const queue = new DrainQueue({ concurrency: 2 });
    await queue.drain();
    const gates = [deferred(), deferred(), deferred()];
    for (const [i, gate] of gates.entries()) void queue.enqueue(job(`j${i}`, () => gate.promise));
    let drained = false;
    const draining = queue.drain().then(() => (drained = true));
    await turn();
    expect([queue.size, queue.pending]).toEqual([1, 2]);
    gates[0]!.resolve();
    gates[1]!.resolve();
    await turn();
    expect([queue.size, queue.pending, drained]).toEqual([0, 1, false]);
    gates[2]!.resolve();
    await draining;
    expect(queue.stats).toMatchObject({ accepted: 3, started: 3, completed: 3 });
  });

  it('never holds more than `concurrency` jobs at once', async () => {
    const queue = new DrainQueue({ concurrency: 3 });
    let inFlight = 0;
    let peak = 0;
    for (let i = 0; i < 30; i++) {
      void queue.enqueue(
        job(`j${i}`, async () => {
          peak = Math.max(peak, ++inFlight);
          await new Promise((r) => setTimeout(r, 1));
          inFlight--;
        }),
      );
    }
    await queue.drain();
    expect(peak).toBe(3);
  });
});

describe('DrainQueue: overflow policies', () => {
  it("'reject' refuses the new job, reports and counts it, and runs the rest", async () => {
    const queue = new DrainQueue({ maxQueued: 2, overflow: 'reject' });
    const { report, rec } = recordingReporter();
    const events: unknown[] = [];
    queue.on('background_hook_failed', (e) => void events.push(e));
    const ran: string[] = [];
    for (const name of ['a', 'b', 'c']) void queue.enqueue(job(name, () => void ran.push(name), { report }));
    await queue.drain();
    expect(ran).toEqual(['a', 'b']);
    expect(rec.failed).toHaveLength(1);
    expect(rec.failed[0]).toMatchObject({ hookName: 'c', reason: 'rejected' });
    expect(rec.failed[0]!.error).toBeInstanceOf(BackgroundQueueError);
    expect((rec.failed[0]!.error as BackgroundQueueError).code).toBe('QUEUE_FULL');
    expect(events).toEqual([
      expect.objectContaining({
        hookName: 'c',
        reason: 'rejected',
        error: expect.objectContaining({ message: expect.stringContaining('maxQueued 2') }),
      }),
    ]);
    expect(queue.stats).toMatchObject({ accepted: 2, rejected: 1, completed: 2 });
  });

  it("'drop-oldest' evicts the oldest waiting job, reports and counts it", async () => {
    const queue = new DrainQueue({ maxQueued: 2, overflow: 'drop-oldest' });
    const { report, rec } = recordingReporter();
    const ran: string[] = [];
    for (const name of ['a', 'b', 'c', 'd']) void queue.enqueue(job(name, () => void ran.push(name), { report }));
    expect(queue.size).toBe(2);
    await queue.drain();
    expect(ran).toEqual(['c', 'd']);
    expect(rec.failed.map((f) => [f.hookName, f.reason])).toEqual([
      ['a', 'dropped'],
      ['b', 'dropped'],
    ]);
    expect(queue.stats).toMatchObject({ accepted: 4, dropped: 2, completed: 2 });
  });

  it("'wait' holds the producer until there is room, keeps FIFO order and loses nothing", async () => {
    const queue = new DrainQueue({ maxQueued: 1, concurrency: 1 });
    const gates = { a: deferred(), b: deferred(), c: deferred() };
    const ran: string[] = [];
    const gated = (name: 'a' | 'b' | 'c') => job(name, () => (ran.push(name), gates[name].promise));
    expect(queue.enqueue(gated('a'))).toBeUndefined();
    let bIn = false;
    let cIn = false;
    void queue.enqueue(gated('b'))!.then(() => (bIn = true));
    await Promise.resolve();
    expect([bIn, queue.waiting]).toEqual([false, 1]);
    await turn(); // a starts, which frees the only queue slot for b
    expect([bIn, ran]).toEqual([true, ['a']]);
    void queue.enqueue(gated('c'))!.then(() => (cIn = true));
    await turn();
    expect(cIn).toBe(false); // b still queued behind the running a
    gates.a.resolve();
    await turn();
    expect([cIn, ran]).toEqual([true, ['a', 'b']]);
    gates.b.resolve();
    gates.c.resolve();
    await queue.drain();
    expect(ran).toEqual(['a', 'b', 'c']);
    expect(queue.stats).toMatchObject({ accepted: 3, completed: 3, rejected: 0, dropped: 0 });
  });
});

describe('DrainQueue: failures never escape', () => {
  it('reports a sync throw and an async rejection as errors, and keeps going', async () => {
    const queue = new DrainQueue();
    const { report, rec } = recordingReporter();
    let after = 0;
    void queue.enqueue(
      job(
        'throws',
        () => {
          throw new RangeError('sync boom');
        },
        { report },
      ),
    );
    void queue.enqueue(job('rejects', () => Promise.reject(new Error('async boom')), { report }));
    void queue.enqueue(job('fine', () => void after++, { report }));
    await queue.drain();
    expect(after).toBe(1);
    expect(rec.failed.map((f) => [f.hookName, f.reason, (f.error as Error).message])).toEqual([
      ['throws', 'error', 'sync boom'],
      ['rejects', 'error', 'async boom'],
    ]);
    expect(queue.stats).toMatchObject({ failed: 2, completed: 1 });
  });

  it('times a job out, frees its slot, and ignores (but handles) its rejection afterwards', async () => {
    const queue = new DrainQueue({ concurrency: 1 });
    const { report, rec } = recordingReporter();
    let next = false;
    void queue.enqueue(
      job('slow', () => new Promise((_, reject) => setTimeout(() => reject(new Error('too late')), 40)), { report, timeoutMs: 10 }),
    );
    void queue.enqueue(job('next', () => void (next = true), { report }));
    await queue.drain();
    expect(next).toBe(true);
    expect(rec.failed).toEqual([expect.objectContaining({ hookName: 'slow', reason: 'timeout' })]);
    expect(rec.failed[0]!.error).toBeInstanceOf(BackgroundTimeoutError);
    await new Promise((r) => setTimeout(r, 60)); // the late rejection lands here and must stay handled
    expect(queue.stats).toMatchObject({ timedOut: 1, failed: 0, completed: 1 });
  });

  it("applies the queue's default timeout to jobs that set none", async () => {
    const queue = new DrainQueue({ timeoutMs: 5 });
    const failures: string[] = [];
    queue.on('background_hook_failed', (e) => void failures.push(`${e.hookName}:${e.reason}:${e.error.name}`));
    void queue.enqueue(job('hangs', () => new Promise(() => {})));
    await queue.drain();
    expect(failures).toEqual(['hangs:timeout:BackgroundTimeoutError']);
  });

  it('isolates throwing reporters and listeners', async () => {
    const queue = new DrainQueue();
    const isolated: string[] = [];
    queue.onListenerError = (_e, where) => void isolated.push(where);
    queue.on('background_hook_started', () => {
      throw new Error('listener boom');
    });
    queue.on('background_hook_completed', async () => {
      throw new Error('async listener boom');
    });
    const bad = {
      started() {
        throw new Error('r');
      },
      completed() {
        throw new Error('r');
      },
      failed() {
        throw new Error('r');
      },
    };
    let ran = 0;
    void queue.enqueue(job('ok', () => void ran++, { report: bad }));
    void queue.enqueue(job('fails', () => Promise.reject(new Error('x')), { report: bad }));
    await queue.drain();
    await turn();
    expect(ran).toBe(1);
    expect(queue.stats).toMatchObject({ completed: 1, failed: 1 });
    expect(isolated.filter((w) => w === 'background job reporter')).toHaveLength(4);
    expect(isolated.filter((w) => w.startsWith('background_hook_'))).toHaveLength(3);
  });

  it('skips progress calls when the reporter does not want them, but always reports failures', async () => {
    const queue = new DrainQueue();
    const { report, rec } = recordingReporter();
    let wants = false;
    const quiet = { ...report, wantsProgress: () => wants };
    void queue.enqueue(job('quiet', () => {}, { report: quiet }));
    void queue.enqueue(job('fails', () => Promise.reject(new Error('x')), { report: quiet }));
    await queue.drain();
    expect([rec.started, rec.completed, rec.failed.map((f) => f.hookName)]).toEqual([[], [], ['fails']]);
    wants = true;
    void queue.enqueue(job('loud', () => {}, { report: quiet }));
    await queue.drain();
    expect([rec.started, rec.completed]).toEqual([[3], [3]]);
  });

  it('survives a reporter whose wantsProgress throws', async () => {
    const queue = new DrainQueue();
    const isolated: string[] = [];
    queue.onListenerError = (_e, where) => void isolated.push(where);
    const { report, rec } = recordingReporter();
    let ran = 0;
    void queue.enqueue(
      job('ok', () => void ran++, {
        report: {
          ...report,
          wantsProgress: () => {
            throw new Error('bad');
          },
        },
      }),
    );
    await queue.drain();
    expect([ran, rec.completed.length, isolated]).toEqual([1, 0, ['background job reporter']]);
  });

  it('warns instead of staying silent when a failure has no reporter and no listener', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const queue = new DrainQueue();
    void queue.enqueue(
      job('unobserved', () => {
        throw new Error('nobody listens');
      }),
    );
    await queue.drain();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toContain('"unobserved"');
  });
});

describe('DrainQueue: events', () => {
  it('emits typed started/completed/failed payloads with job ids', async () => {
    const queue = new DrainQueue();
    const seen: unknown[] = [];
    queue.on('background_hook_started', (e) => void seen.push(['started', e]));
    queue.on('background_hook_completed', (e) => void seen.push(['completed', e]));
    queue.on('background_hook_failed', (e) => void seen.push(['failed', e]));
    void queue.enqueue(job('ok', () => {}));
    void queue.enqueue(job('bad', () => Promise.reject('plain string')));
    await queue.drain();
    expect(seen).toEqual([
      ['started', { runId: 'run-1', hookName: 'ok', jobId: 1 }],
      ['completed', { runId: 'run-1', hookName: 'ok', jobId: 1, durationMs: expect.any(Number) }],
      ['started', { runId: 'run-1', hookName: 'bad', jobId: 2 }],
      ['failed', { runId: 'run-1', hookName: 'bad', jobId: 2, reason: 'error', error: { name: 'string', message: 'plain string' } }],
    ]);
  });
});

describe('DrainQueue: close', () => {
  it('drains what it accepted, waiting producers included, then refuses new jobs loudly', async () => {
    const queue = new DrainQueue({ maxQueued: 1, concurrency: 1 });
    const failures: string[] = [];
    queue.on('background_hook_failed', (e) => void failures.push(`${e.hookName}:${e.reason}:${e.error.message}`));
    const ran: string[] = [];
    void queue.enqueue(job('a', async () => void ran.push('a')));
    const waitingB = queue.enqueue(job('b', async () => void ran.push('b')));
    await queue.close();
    await waitingB;
    expect(ran).toEqual(['a', 'b']);
    expect(queue.closed).toBe(true);
    expect(queue.enqueue(job('late', () => void ran.push('late')))).toBeUndefined();
    await turn();
    expect(ran).toEqual(['a', 'b']);
    expect(failures).toEqual([expect.stringMatching(/^late:rejected:.*closed/)]);
    expect(queue.stats.rejected).toBe(1);
    await queue.close(); // idempotent
  });
});

describe('DrainQueue: load', () => {
  it.each([
    ['default options', {}],
    ["a small queue under 'wait'", { maxQueued: 300, concurrency: 8 }],
  ])('runs 20,000 jobs from 2,000 concurrent producers exactly once (%s)', async (_label, options) => {
    const queue = new DrainQueue(options);
    const runs = new Uint8Array(20_000);
    const producer = async (p: number) => {
      for (let i = 0; i < 10; i++) {
        const id = p * 10 + i;
        await Promise.resolve();
        await queue.enqueue(job(`p${p}`, id % 3 === 0 ? async () => void runs[id]!++ : () => void runs[id]!++));
      }
    };
    await Promise.all(Array.from({ length: 2_000 }, (_, p) => producer(p)));
    await queue.drain();
    expect(runs.every((n) => n === 1)).toBe(true);
    expect(queue.stats).toMatchObject({ accepted: 20_000, completed: 20_000, failed: 0, rejected: 0, dropped: 0 });
  });
});

describe('DrainQueue: options', () => {
  // Bad options and jobs, timeouts past the timer range included: spec/background/bad-options.spec.ts.
  it('sets no timer for timeoutMs Infinity, on the queue or on a job', async () => {
    const queue = new DrainQueue({ timeoutMs: Infinity });
    const failures: string[] = [];
    queue.on('background_hook_failed', (e) => void failures.push(e.reason));
    const gate = deferred();
    const timers = vi.spyOn(globalThis, 'setTimeout');
    void queue.enqueue(job('queue-default', () => gate.promise));
    void queue.enqueue(job('own', () => gate.promise, { timeoutMs: Infinity }));
    await new Promise((r) => setImmediate(r));
    expect(queue.pending).toBe(2);
    expect(timers).not.toHaveBeenCalled();
    timers.mockRestore();
    gate.resolve();
    await queue.drain();
    expect(failures).toEqual([]);
    expect(queue.stats).toMatchObject({ completed: 2, timedOut: 0 });
  });
});

describe('Ring', () => {
  it('stays FIFO across wrap-around and growth', () => {
    const ring = new Ring<number>(4);
    const model: number[] = [];
    let next = 0;
    for (let step = 0; step < 2_000; step++) {
      if (step % 3 !== 2 || model.length === 0) {
        ring.push(next);
        model.push(next++);
      } else {
        expect(ring.shift()).toBe(model.shift());
      }
      expect(ring.length).toBe(model.length);
    }
    while (model.length) expect(ring.shift()).toBe(model.shift());
    expect(ring.shift()).toBeUndefined();
  });
});
