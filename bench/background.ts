/**
 * Background-hook benchmarks: the queue's own costs (enqueue, drain throughput, flush-to-start latency, a million
 * jobs with nothing lost) and what background hooks cost the foreground runs that flush them.
 *
 * Alone: node --conditions=hookchain-source --disable-warning=ExperimentalWarning --expose-gc bench/background.ts
 */
import { pathToFileURL } from 'node:url';
import { getHeapStatistics } from 'node:v8';
import { Agent, DrainQueue, hook, type Model, type PostHookArgs } from 'hookchain';
import { OfflineModel } from 'hookchain/testing';
import type { BackgroundJob } from '../lib/background/executor.ts';
import { gc, median, printTable, type Row } from './harness.ts';

const noop = (): void => {};
const noopJob: BackgroundJob = { hookName: 'noop', runId: 'bench', run: noop };

export async function benchBackground(): Promise<Row[]> {
  const rows: Row[] = [];
  const enqueueNs = median(await rounds(7, enqueueCost));
  rows.push({
    metric: 'enqueue cost (median of 7 × 100k)',
    value: round(enqueueNs, 1),
    unit: 'ns/job',
    target: '≤ 100',
    ok: enqueueNs <= 100 ? 'yes' : 'NO',
  });
  const syncRate = median(await rounds(5, () => drainRate(noopJob)));
  rows.push({
    metric: 'drain throughput, sync no-op jobs',
    value: Math.round(syncRate),
    unit: 'jobs/s',
    target: '≥ 5,000,000',
    ok: syncRate >= 5e6 ? 'yes' : 'NO',
  });
  const asyncJob: BackgroundJob = { hookName: 'async-noop', runId: 'bench', run: () => Promise.resolve() };
  rows.push({
    metric: 'drain throughput, async no-op jobs (30 s timeout armed)',
    value: Math.round(median(await rounds(3, () => drainRate(asyncJob, 200_000)))),
    unit: 'jobs/s',
  });
  const latency = await flushLatency(2_000);
  rows.push({ metric: 'flush → start latency, median', value: round(latency.median, 1), unit: 'µs' });
  rows.push({ metric: 'flush → start latency, p99', value: round(latency.p99, 1), unit: 'µs' });
  for (const mode of ['all queued at once', "default queue, 'wait' backpressure"] as const) {
    const million = await millionJobs(mode);
    rows.push({
      metric: `1,000,000 jobs (${mode}): lost`,
      value: million.lost,
      unit: 'jobs',
      target: '0',
      ok: million.lost === 0 ? 'yes' : 'NO',
    });
    rows.push({ metric: `1,000,000 jobs (${mode}): peak heap above baseline`, value: round(million.peakHeapMb, 1), unit: 'MB' });
  }
  rows.push(...(await foregroundRows()));
  return rows;
}

async function enqueueCost(): Promise<number> {
  const n = 100_000;
  const queue = new DrainQueue({ maxQueued: n });
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) void queue.enqueue(noopJob);
  const ns = Number(process.hrtime.bigint() - t0) / n;
  await queue.drain();
  return ns;
}

async function drainRate(job: BackgroundJob, n = 1_000_000): Promise<number> {
  const queue = new DrainQueue({ maxQueued: n });
  for (let i = 0; i < n; i++) void queue.enqueue(job);
  const t0 = performance.now();
  await queue.drain();
  return n / ((performance.now() - t0) / 1000);
}

async function flushLatency(samples: number): Promise<{ median: number; p99: number }> {
  const queue = new DrainQueue();
  const micros: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = performance.now();
    void queue.enqueue({ hookName: 'latency', runId: 'bench', run: () => void micros.push((performance.now() - t0) * 1000) });
    await queue.drain();
  }
  micros.sort((a, b) => a - b);
  return { median: micros[Math.floor(samples / 2)]!, p99: micros[Math.floor(samples * 0.99)]! };
}

async function millionJobs(
  mode: 'all queued at once' | "default queue, 'wait' backpressure",
): Promise<{ lost: number; peakHeapMb: number }> {
  const n = 1_000_000;
  gc();
  const baseline = getHeapStatistics().used_heap_size;
  let peak = baseline;
  const sample = () => void (peak = Math.max(peak, getHeapStatistics().used_heap_size));
  let ran = 0;
  const queue = mode === 'all queued at once' ? new DrainQueue({ maxQueued: n }) : new DrainQueue();
  for (let i = 0; i < n; i++) {
    // A distinct job and closure each, as real runs produce; every 50,000th samples the heap.
    const accepted = queue.enqueue({
      hookName: 'count',
      runId: `run-${i}`,
      run: i % 50_000 === 0 ? () => (ran++, sample()) : () => void ran++,
    });
    if (accepted !== undefined) await accepted;
  }
  sample();
  await queue.drain();
  return { lost: n - ran, peakHeapMb: (peak - baseline) / 2 ** 20 };
}

type Mode = 'none' | 'inline' | 'background';

/** A model that answers after `latencyMs` (0: after one event-loop turn, as the quickest real I/O would). */
function modelWith(latencyMs: number): Model {
  const offline = new OfflineModel({ reply: 'Thanks, here is how to reset it.' });
  const wait = latencyMs === 0 ? () => new Promise((r) => setImmediate(r)) : () => new Promise((r) => setTimeout(r, latencyMs));
  return { id: `bench-${latencyMs}ms`, invoke: (request) => wait().then(() => offline.invoke(request)) };
}

function agentFor(mode: Mode, model: Model): Agent {
  // Ten cheap hooks, so the numbers are the framework's cost, not the hooks'.
  const hooks = Array.from({ length: mode === 'none' ? 0 : 10 }, (_, i) =>
    hook({ runInBackground: mode === 'background', name: `analytics${i}` })(
      ({ runOutput }: PostHookArgs) => void runOutput.content?.length,
    ),
  );
  return new Agent({ name: 'bench', model, postHooks: hooks });
}

/** Runs/s with `callers` concurrent callers, background jobs drained inside the timed window. */
async function throughput(agent: Agent, callers: number, runs: number): Promise<number> {
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      for (let i = 0; i < runs / callers; i++) await agent.run('How do I reset my password?');
    }),
  );
  await agent.drain();
  return runs / ((performance.now() - t0) / 1000);
}

/** Medians of interleaved rounds, so drift (JIT, GC, a noisy neighbour) hits every mode alike. */
async function compare(modes: Mode[], latencyMs: number, callers: number, runs: number, rounds: number): Promise<Record<Mode, number>> {
  const model = modelWith(latencyMs);
  const agents = modes.map((m) => agentFor(m, model));
  for (const agent of agents) await throughput(agent, callers, runs);
  const samples = modes.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) for (const [i, agent] of agents.entries()) samples[i]!.push(await throughput(agent, callers, runs));
  const out = { none: 0, inline: 0, background: 0 };
  modes.forEach((m, i) => (out[m] = median(samples[i]!)));
  return out;
}

async function foregroundRows(): Promise<Row[]> {
  const rows: Row[] = [];
  // Saturated: an instant model, so the CPU is the limit and every microsecond of hook work shows.
  const instant = await compare(['none', 'inline', 'background'], 0, 50, 5_000, 7);
  const us = (rate: number) => 1e6 / rate;
  const instantSlowdown = (1 - instant.background / instant.none) * 100;
  rows.push({ metric: 'instant model (CPU-bound): runs/s, no hooks', value: Math.round(instant.none), unit: 'runs/s' });
  rows.push({ metric: 'instant model (CPU-bound): runs/s, 10 inline post-hooks', value: Math.round(instant.inline), unit: 'runs/s' });
  rows.push({
    metric: 'instant model (CPU-bound): runs/s, 10 background post-hooks, drained',
    value: Math.round(instant.background),
    unit: 'runs/s',
  });
  rows.push({ metric: 'instant model (CPU-bound): slowdown from 10 background hooks', value: round(instantSlowdown, 1), unit: '%' });
  rows.push({
    metric: 'CPU per run added by 10 background hooks (snapshot + 10 jobs)',
    value: round(us(instant.background) - us(instant.none), 1),
    unit: 'µs',
  });
  rows.push({
    metric: 'CPU per run added by 10 inline hooks, for comparison',
    value: round(us(instant.inline) - us(instant.none), 1),
    unit: 'µs',
  });
  // Not saturated: a 10 ms model (faster than any real LLM call) with 200 concurrent callers.
  const served = await compare(['none', 'background'], 10, 200, 10_000, 5);
  const slowdown = (1 - served.background / served.none) * 100;
  rows.push({ metric: '10 ms model, 200 callers: runs/s, no hooks', value: Math.round(served.none), unit: 'runs/s' });
  rows.push({ metric: '10 ms model, 200 callers: runs/s, 10 background post-hooks', value: Math.round(served.background), unit: 'runs/s' });
  rows.push({
    metric: '10 ms model: slowdown from 10 background hooks',
    value: round(slowdown, 1),
    unit: '%',
    target: '≤ 10',
    ok: slowdown <= 10 ? 'yes' : 'NO',
  });
  return rows;
}

async function rounds(n: number, fn: () => Promise<number>): Promise<number[]> {
  await fn(); // warm-up, discarded
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await fn());
  return out;
}

function round(value: number, digits: number): number {
  return Math.round(value * 10 ** digits) / 10 ** digits;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  printTable('Background hooks', await benchBackground());
}
