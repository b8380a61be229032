/**
 * Redis restarted mid-run (issue 17). The policy (docs/scale-out.md, "Failure modes"): while Redis is unreachable a
 * run does not wait for it — it succeeds, and each of its jobs is reported lost through `background_hook_failed`
 * (reason `'rejected'`, `BackgroundEnqueueError`). Jobs Redis already had survive a restart of a Redis that
 * persists (AOF here) and finish; after the restart new jobs flow with no process restart.
 *
 * This spec starts a Redis server of its own (the `redis-server` binary that scripts/services installs), so that
 * it can stop and restart it on the same port; REDIS_URL only gates it like the other BullMQ specs.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { Agent, hook } from 'hookchain';
import { OfflineModel } from 'hookchain/testing';
import { BullMQExecutor, createBackgroundWorker } from 'hookchain/bullmq';
import { describeRedis, freePort, sleep, tempDir, until } from './helpers.ts';

function redisServer(port: number, dir: string): void {
  const r = spawnSync('redis-server', [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--daemonize',
    'yes',
    '--dir',
    dir,
    '--appendonly',
    'yes',
    '--save',
    '',
    '--pidfile',
    `${dir}/redis.pid`,
    '--logfile',
    `${dir}/redis.log`,
  ]);
  if (r.error !== undefined || r.status !== 0)
    throw new Error(`could not start redis-server (${r.error?.message ?? r.stderr.toString()}); install it or run scripts/services`);
}

/** Shuts the server down and waits (up to 5 s) until its process is gone, so that its directory can be removed. */
function stopRedis(port: number, dir: string): void {
  const pid = Number(readFileSync(join(dir, 'redis.pid'), 'utf8'));
  spawnSync('redis-cli', ['-p', String(port), 'shutdown']);
  for (const deadline = Date.now() + 5_000; Date.now() < deadline;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
}

const pingable = (port: number) =>
  spawnSync('redis-cli', ['-p', String(port), 'ping'])
    .stdout?.toString()
    .trim() === 'PONG';

describeRedis('hookchain/bullmq when Redis restarts mid-run', () => {
  it('runs succeed during the outage with their jobs reported lost; queued jobs survive; new jobs flow after the restart', async () => {
    const port = await freePort();
    const dir = tempDir();
    redisServer(port, dir);
    await until(() => pingable(port), 5_000, 'redis-server to start');
    const connection = { host: '127.0.0.1', port };
    const ran: string[] = [];
    const audit = hook({ runInBackground: true, name: 'audit' })(({ runInput }) => {
      ran.push(String(runInput.inputContent));
    });
    const queue = new BullMQExecutor({ connection, queueName: 'outage', enqueueTimeoutMs: 2_000, logger: { debug() {}, warn() {} } });
    const agent = new Agent({ name: 'outage', model: new OfflineModel({ reply: 'ok' }), postHooks: [audit], backgroundQueue: queue });
    const failed: { reason: string; error: { name: string; message: string } }[] = [];
    agent.on('background_hook_failed', (e) => failed.push(e));
    const worker = await createBackgroundWorker({
      agents: [new Agent({ name: 'outage', model: new OfflineModel({ reply: 'ok' }), postHooks: [audit] })],
      connection,
      queueName: 'outage',
      logger: { debug() {}, warn() {} },
    });
    try {
      await agent.run('before');
      await agent.drain();
      expect(ran).toEqual(['before']);

      // A job Redis has but no worker took yet: it must survive the restart.
      await worker.worker.pause();
      await agent.run('queued');
      expect(queue.pending).toBe(1);

      stopRedis(port, dir);
      await until(() => !pingable(port), 5_000, 'redis-server to stop');
      await sleep(100);
      const t = performance.now();
      const during = await agent.run('during');
      const waited = performance.now() - t;
      expect(during.status).toBe('completed');
      expect(waited).toBeLessThan(500); // fails fast: no wait for a reconnect
      expect(failed).toHaveLength(1);
      expect(failed[0]).toMatchObject({ reason: 'rejected', error: { name: 'BackgroundEnqueueError' } });
      expect(failed[0]!.error.message).toMatch(/was not enqueued: Redis did not take it .* the run succeeded without it/);

      redisServer(port, dir);
      await until(() => pingable(port), 5_000, 'redis-server to restart');
      await worker.worker.resume();
      // The same processes reconnect by themselves (BullMQ's retry strategy: a retry within about a second).
      await until(
        async () => {
          const before = failed.length;
          await agent.run(`after ${Date.now()}`);
          return failed.length === before;
        },
        15_000,
        'a job to be enqueued after the restart',
      );
      await agent.drain();
      expect(ran).toContain('queued');
      expect(ran.some((r) => r.startsWith('after'))).toBe(true);
      expect(ran).not.toContain('during');
    } finally {
      await queue.close();
      await worker.close();
      stopRedis(port, dir);
    }
  }, 60_000);
});
