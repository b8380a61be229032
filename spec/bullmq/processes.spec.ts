/**
 * Across processes (issue 17): producers and workers are separate Node processes on one Redis.
 *
 * Scale: RUNS runs (default 1,000, split between two producer processes) × HOOKS background hooks each (default 10)
 * = 10,000 jobs, run by two worker processes. Every job must run at least once (its call is in the `calls` list)
 * and take effect exactly once by its idempotency key (the deterministic job id, used as the `SET NX` key by the
 * hook), and none may be lost. On two shared cores this takes a few seconds; set BULLMQ_SPEC_RUNS /
 * BULLMQ_SPEC_HOOKS to scale it up or down (e.g. BULLMQ_SPEC_RUNS=10000 for 100,000 jobs).
 *
 * Kill: a worker killed with SIGKILL mid-job; with a 1 s lock and a 0.5 s stall check, the other worker runs the
 * job again.
 */
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BullMQExecutor, backgroundJobId } from 'hookchain/bullmq';
import { buildSlowAgent } from './fixtures/slow.ts';
import { REDIS_URL, child, connection, describeRedis, queueName, tempDir, until } from './helpers.ts';

const RUNS = Number(process.env.BULLMQ_SPEC_RUNS ?? 1_000);
const HOOKS = Number(process.env.BULLMQ_SPEC_HOOKS ?? 10);

describeRedis('hookchain/bullmq across processes', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(REDIS_URL!);
  });
  afterAll(() => redis.disconnect());

  it(`runs ${RUNS * HOOKS} jobs from ${RUNS} runs of two producers on two workers: each at least once, each effect once, none lost`, async () => {
    const QUEUE = queueName('scale');
    const PREFIX = `hc-spec-scale-${process.pid}`;
    const env = { REDIS_URL: REDIS_URL!, QUEUE, PREFIX, HOOKS: String(HOOKS) };
    const workers = [child('worker.ts', [], env), child('worker.ts', [], env)];
    try {
      await until(() => workers.every((w) => w.lines.some((l) => l.startsWith('ready'))), 15_000, 'the workers');
      const half = Math.floor(RUNS / 2);
      const producers = [
        child('producer.ts', [], { ...env, RUNS: String(half) }),
        child('producer.ts', [], { ...env, RUNS: String(RUNS - half) }),
      ];
      const codes = await Promise.all(producers.map((p) => p.exited));
      expect(codes).toEqual([0, 0]);
      const summaries = producers.map((p) => JSON.parse(p.lines.at(-1)!) as { event: string; failed: string[]; pid: number });
      for (const s of summaries) expect(s).toMatchObject({ event: 'drained', failed: [] });

      const calls = await redis.lrange(`${PREFIX}:calls`, 0, -1);
      const byKey = new Map<string, number>();
      const byWorker = new Map<string, number>();
      for (const line of calls) {
        const [key, pid] = line.split(' ') as [string, string];
        byKey.set(key, (byKey.get(key) ?? 0) + 1);
        byWorker.set(pid, (byWorker.get(pid) ?? 0) + 1);
      }
      // Every job ran at least once (none lost), and the effect was applied once per idempotency key.
      expect(byKey.size).toBe(RUNS * HOOKS);
      expect(Math.min(...byKey.values())).toBeGreaterThanOrEqual(1);
      expect(Number(await redis.get(`${PREFIX}:effects`))).toBe(RUNS * HOOKS);
      expect(await redis.keys(`${PREFIX}:done:*`).then((k) => k.length)).toBe(RUNS * HOOKS);
      // Both workers took part; no job is left in the queue.
      expect([...byWorker.keys()].sort()).toEqual(workers.map((w) => String(w.proc.pid)).sort());
      const probe = new BullMQExecutor({ connection: connection(), queueName: QUEUE });
      const counts = await probe.queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed');
      expect(counts).toMatchObject({ waiting: 0, active: 0, delayed: 0, failed: 0 });
      await probe.queue.obliterate({ force: true });
      await probe.close();
    } finally {
      for (const w of workers) w.proc.kill('SIGTERM');
      await Promise.all(workers.map((w) => w.exited));
      const keys = await redis.keys(`${PREFIX}:*`);
      for (let i = 0; i < keys.length; i += 1000) await redis.del(...keys.slice(i, i + 1000));
    }
  }, 120_000);

  it('re-runs the job of a worker killed with SIGKILL mid-job on the other worker after the stall interval', async () => {
    const QUEUE = queueName('kill');
    const LOG = join(tempDir(), 'slow.log');
    writeFileSync(LOG, '');
    const env = { REDIS_URL: REDIS_URL!, QUEUE, SLOW: '1', LOG, LOCK_MS: '1000', STALLED_MS: '500', CONCURRENCY: '1' };
    const executor = new BullMQExecutor({ connection: connection(), queueName: QUEUE });
    const agent = buildSlowAgent(LOG, executor);
    const failed: unknown[] = [];
    agent.on('background_hook_failed', (e) => failed.push(e));
    const a = child('worker.ts', [], env);
    let b: ReturnType<typeof child> | undefined;
    try {
      await until(() => a.lines.some((l) => l.startsWith('ready')), 15_000, 'worker A');
      const output = await agent.run('slow job');
      const log = () => readFileSync(LOG, 'utf8').trim().split('\n').filter(Boolean);
      await until(() => log().length === 1, 10_000, 'worker A to start the job');
      expect(log()).toEqual([`start ${a.proc.pid}`]);
      b = child('worker.ts', [], env);
      await until(() => b!.lines.some((l) => l.startsWith('ready')), 15_000, 'worker B');
      a.proc.kill('SIGKILL');
      const killedAt = Date.now();
      await agent.drain();
      const tookMs = Date.now() - killedAt;
      expect(log()).toEqual([`start ${a.proc.pid}`, `start ${b.proc.pid}`, `done ${b.proc.pid}`]);
      // Not before the lock expired (1 s), and well before BullMQ's default 30 s.
      expect(tookMs).toBeGreaterThanOrEqual(500);
      expect(tookMs).toBeLessThan(10_000);
      expect(failed).toEqual([]);
      const job = await executor.queue.getJob(backgroundJobId(output.runId, 'post', 'slow'));
      expect(await job!.getState()).toBe('completed');
      await executor.queue.obliterate({ force: true });
    } finally {
      a.proc.kill('SIGKILL');
      b?.proc.kill('SIGTERM');
      await Promise.all([a.exited, b?.exited]);
      await executor.close();
    }
  }, 60_000);
});
