/**
 * Scale-out benchmark (issue 17): background jobs per second through BullMQ with one and two worker processes, beside
 * the in-process DrainQueue in the same run; the latency a run pays to enqueue its jobs (one addBulk round trip),
 * p50/p99; and a session round trip on PostgreSQL beside SQLite and memory. Needs Redis and PostgreSQL:
 * `scripts/services npm run bench:scale`.
 *
 * Env: SCALE_RUNS (runs per throughput round, default 2,000), SCALE_HOOKS (background hooks per run, default 10),
 * SCALE_LATENCY_RUNS (sequential runs timed for the enqueue latency, default 2,000).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, DrainQueue, MemorySessionStore, SqliteSessionStore, hook, type BackgroundExecutor, type SessionStore } from 'hookchain';
import { PostgresSessionStore } from 'hookchain/postgres';
import type { BackgroundJob } from 'hookchain/background';
import { OfflineModel } from 'hookchain/testing';
import { BullMQExecutor, createBackgroundWorker } from 'hookchain/bullmq';
import { percentile, printTable, type Row } from './harness.ts';

const REDIS_URL = process.env.REDIS_URL;
const DATABASE_URL = process.env.DATABASE_URL;
const SESSION_TRIPS = Number(process.env.SCALE_SESSION_TRIPS ?? 500);
const RUNS = Number(process.env.SCALE_RUNS ?? 2_000);
const HOOKS = Number(process.env.SCALE_HOOKS ?? 10);
const LATENCY_RUNS = Number(process.env.SCALE_LATENCY_RUNS ?? 2_000);
const WORKER_CONCURRENCY = 100;

/** The same agent in the bench process and its worker processes: HOOKS no-op background post-hooks. */
function buildAgent(backgroundQueue?: BackgroundExecutor, hooks = HOOKS): Agent {
  const postHooks = Array.from({ length: hooks }, (_, i) => hook({ runInBackground: true, name: `noop_${i}` })(() => {}));
  return new Agent({ name: 'scale', model: new OfflineModel({ reply: 'ok' }), postHooks, ...(backgroundQueue ? { backgroundQueue } : {}) });
}

async function workerMain(queueName: string): Promise<void> {
  const worker = await createBackgroundWorker({
    agents: [buildAgent()],
    connection: { url: REDIS_URL! },
    queueName,
    concurrency: WORKER_CONCURRENCY,
  });
  console.log('ready');
  process.on('SIGTERM', () => void worker.close().then(() => process.exit(0)));
}

function startWorker(queueName: string): Promise<ChildProcess> {
  const proc = spawn(
    process.execPath,
    ['--conditions=hookchain-source', '--disable-warning=ExperimentalWarning', fileURLToPath(import.meta.url), '--worker', queueName],
    { stdio: ['ignore', 'pipe', 'inherit'], env: process.env },
  );
  return new Promise((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve(proc);
    });
    proc.on('exit', (code) => reject(new Error(`worker exited with ${code}`)));
  });
}

async function runAll(agent: Agent, runs: number, parallel = 50): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next++ < runs) await agent.run('hi');
    }),
  );
}

/** Jobs/s from the moment the queue is resumed (all jobs waiting in Redis) until this process has seen them finish. */
async function bullmqRate(workers: number): Promise<number> {
  const queueName = `hookchain-bench-${process.pid}-${workers}`;
  const executor = new BullMQExecutor({ connection: { url: REDIS_URL! }, queueName });
  await executor.queue.obliterate({ force: true });
  const procs = await Promise.all(Array.from({ length: workers }, () => startWorker(queueName)));
  try {
    const agent = buildAgent(executor);
    await executor.queue.pause();
    await runAll(agent, RUNS);
    const t = performance.now();
    await executor.queue.resume();
    await agent.drain();
    return (RUNS * HOOKS) / ((performance.now() - t) / 1_000);
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    await executor.queue.obliterate({ force: true });
    await executor.close();
  }
}

async function drainQueueRate(): Promise<number> {
  const queue = new DrainQueue({ concurrency: WORKER_CONCURRENCY });
  const agent = buildAgent(queue);
  queue.on('background_hook_failed', () => {});
  const t = performance.now();
  await runAll(agent, RUNS);
  await agent.drain();
  return (RUNS * HOOKS) / ((performance.now() - t) / 1_000);
}

/** What a run waits for its jobs: the time its (awaited) enqueueAll takes, runs one after another. */
async function enqueueLatency(hooks: number): Promise<{ p50: number; p99: number }> {
  const queueName = `hookchain-bench-latency-${process.pid}`;
  const executor = new BullMQExecutor({ connection: { url: REDIS_URL! }, queueName });
  await executor.queue.obliterate({ force: true });
  const samples: number[] = [];
  const timed: BackgroundExecutor = {
    enqueue: (job) => executor.enqueue(job),
    async enqueueAll(jobs: readonly BackgroundJob[]) {
      const t = performance.now();
      await executor.enqueueAll(jobs);
      samples.push(performance.now() - t);
    },
    drain: () => executor.drain(),
    close: () => executor.close(),
  };
  const proc = await startWorker(queueName);
  try {
    const agent = buildAgent(timed, hooks);
    for (let i = 0; i < 200; i++) await agent.run('warm-up');
    samples.length = 0;
    for (let i = 0; i < LATENCY_RUNS; i++) await agent.run('hi');
    await agent.drain();
    return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
  } finally {
    proc.kill('SIGTERM');
    await executor.queue.obliterate({ force: true });
    await executor.close();
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === '--worker') return workerMain(process.argv[3]!);
  if (REDIS_URL === undefined || REDIS_URL === '') {
    console.log('bench:scale needs Redis (REDIS_URL). Start the services and run it under them: scripts/services npm run bench:scale');
    process.exitCode = 1;
    return;
  }
  const rows: Row[] = [];
  const jobs = `${(RUNS * HOOKS).toLocaleString('en-US')} no-op jobs`;
  rows.push({ metric: `DrainQueue (in process), ${jobs}`, value: Math.round(await drainQueueRate()), unit: 'jobs/s', target: '', ok: '' });
  rows.push({ metric: `BullMQ, 1 worker process, ${jobs}`, value: Math.round(await bullmqRate(1)), unit: 'jobs/s', target: '', ok: '' });
  const two = await bullmqRate(2);
  rows.push({
    metric: `BullMQ, 2 worker processes, ${jobs}`,
    value: Math.round(two),
    unit: 'jobs/s',
    target: '≥ 5,000',
    ok: two >= 5_000 ? 'yes' : 'NO',
  });
  for (const hooks of [1, HOOKS]) {
    const { p50, p99 } = await enqueueLatency(hooks);
    rows.push({ metric: `enqueue a run pays, ${hooks} job(s) per run, p50`, value: p50, unit: 'ms', target: '', ok: '' });
    rows.push({
      metric: `enqueue a run pays, ${hooks} job(s) per run, p99`,
      value: p99,
      unit: 'ms',
      target: '≤ 1',
      ok: p99 <= 1 ? 'yes' : 'NO',
    });
  }
  printTable('Scale-out: background hooks on BullMQ (Redis on loopback)', rows);
  if (DATABASE_URL !== undefined && DATABASE_URL !== '')
    printTable('Scale-out: a session round trip (get, append a run, save)', await sessionRoundTrips());
  else console.log('(no DATABASE_URL: the PostgreSQL row is skipped; scripts/services starts PostgreSQL too)');
}

/**
 * One turn's store work, as a run with a sessionId does it: get the session, append a run, save. Median and p99 over
 * SESSION_TRIPS round trips on one session each for memory, SQLite (a file in a temporary directory) and PostgreSQL
 * on loopback, in the same process.
 */
async function sessionRoundTrips(): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'hookchain-scale-'));
  const stores: [string, SessionStore, () => unknown][] = [];
  const memory = new MemorySessionStore();
  stores.push(['MemorySessionStore', memory, () => undefined]);
  const sqlite = new SqliteSessionStore({ path: join(dir, 'sessions.db') });
  stores.push(['SqliteSessionStore (file)', sqlite, () => sqlite.close()]);
  const pg = new PostgresSessionStore({ connectionString: DATABASE_URL! });
  stores.push(['PostgresSessionStore (loopback)', pg, () => pg.close()]);
  const rows: Row[] = [];
  const output = await new Agent({ model: new OfflineModel({ reply: 'ok' }) }).run('hi');
  for (const [name, store, close] of stores) {
    const sessionId = `scale-${Date.now()}-${name.length}`;
    await store.save({ sessionId, agentId: 'bench', userId: undefined, sessionState: { n: 0 }, runs: [], createdAt: 0, updatedAt: 0 });
    const samples: number[] = [];
    for (let i = 0; i < SESSION_TRIPS; i++) {
      const t0 = performance.now();
      const session = (await store.get(sessionId))!;
      // Frozen, as an agent's run record is once sealed: the stores share frozen runs in their cache, and re-read an
      // unfrozen one (a caller could still change it) with every run of the session on the next get().
      session.runs.push(Object.freeze({ ...output, runId: `${output.runId}-${i}` }));
      (session.sessionState as { n: number }).n++;
      await store.save(session);
      samples.push(performance.now() - t0);
    }
    await close();
    rows.push({ store: name, 'p50, ms': percentile(samples, 50), 'p99, ms': percentile(samples, 99), trips: SESSION_TRIPS });
  }
  rmSync(dir, { recursive: true, force: true });
  return rows;
}

await main();
