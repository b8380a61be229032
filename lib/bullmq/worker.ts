/**
 * The worker side of `hookchain/bullmq`: takes background hook calls off the BullMQ queue and runs the hook of the
 * same name on this process's agent with arguments rebuilt from the job's JSON snapshot.
 */
import { Worker, type Job, type RedisOptions } from 'bullmq';
import type { BackgroundJob } from '../background/executor.ts';
import { BackgroundTimeoutError } from '../background/errors.ts';
import { HookchainConfigError } from '../errors.ts';
import { checkOptions, is } from '../options.ts';
import type { Logger } from '../types.ts';
import { checkHookNames } from './names.ts';
import { workerArgs, type BackgroundJobData, type BackgroundWorkerAgent } from './payload.ts';
import { DEFAULT_QUEUE, RULES, ThrottledLog } from './shared.ts';

/** Options of `createBackgroundWorker(options)`; `agents` and `connection` are required. */
export interface BackgroundWorkerOptions {
  /** The agents whose background hooks this worker runs, built as in the producing processes (same ids). */
  agents: readonly BackgroundWorkerAgent[];
  /** BullMQ's connection options: `{ host, port, … }` or `{ url }`, the same Redis as the producers. */
  connection: RedisOptions;
  /** The queue (default `'hookchain-background'`): the `queueName` of the producers' `BullMQExecutor`. */
  queueName?: string;
  /** Jobs this worker runs at once (default 16: background hooks are mostly I/O). */
  concurrency?: number;
  /** Bound on a hook without its own `hook({ timeoutMs })`, in ms (default 30,000); a timeout is a failed attempt. */
  timeoutMs?: number;
  /**
   * How long a job's lock lasts without renewal, in ms (BullMQ's `lockDuration`, default 30,000). A worker that dies
   * mid-job stops renewing it; after it expires, another worker runs the job again.
   */
  lockDuration?: number;
  /** How often, in ms, this worker looks for jobs whose lock expired (BullMQ's `stalledInterval`, default 30,000). */
  stalledInterval?: number;
  /** Where a job's final failure and Redis connection errors go (default `console`). */
  logger?: Logger;
}

/** A running worker, from `createBackgroundWorker`. */
export interface BackgroundWorker {
  /** The queue it takes jobs from. */
  readonly queueName: string;
  /** The BullMQ `Worker` underneath, for BullMQ's own events and controls (`pause()`, `on('completed')`…). */
  readonly worker: Worker;
  /** Stops taking jobs, lets the running ones finish, and closes the worker's Redis connections. */
  close(): Promise<void>;
}

const isAgent = (v: unknown) =>
  v !== null &&
  typeof v === 'object' &&
  typeof (v as BackgroundWorkerAgent).id === 'string' &&
  Array.isArray((v as BackgroundWorkerAgent).backgroundHooks) &&
  typeof (v as BackgroundWorkerAgent).dependencies === 'object';

const WORKER_RULES = {
  ...RULES,
  agents: (v: unknown) =>
    Array.isArray(v) && v.length > 0 && v.every(isAgent) ? undefined : 'a non-empty array of agents (new Agent({ … }))',
  concurrency: is.positiveInt,
  timeoutMs: is.timeoutMs,
  lockDuration: is.timeoutMs,
  stalledInterval: is.timeoutMs,
};

interface Registered {
  agent: BackgroundWorkerAgent;
  hooks: Map<string, BackgroundWorkerAgent['backgroundHooks'][number]>;
}

/**
 * Starts a worker that runs background hooks enqueued by `BullMQExecutor` in other processes, and resolves once it
 * is connected. Build `agents` as the producers do (same ids and background hooks); a hook gets the job's snapshot
 * (input, output, session without its history, session state, metadata, user, the run context's data) plus this
 * process's agent, its `dependencies`, and a signal that aborts on timeout. A failed attempt is retried with the
 * producer's backoff; a job that fails them all is logged once to `logger` and stays in BullMQ's failed set. If this
 * process dies mid-job, another worker runs the job again once its lock expires (`lockDuration`).
 *
 * Checks at once (throwing `HookchainConfigError`) that agent ids are unique and that each agent's background hook
 * names are unique across its pre- and post-hooks.
 *
 * @param options The agents, the connection, and optionally the queue name, concurrency and timeouts.
 * @example
 * import { createBackgroundWorker } from 'hookchain/bullmq';
 * import { agent } from './agent.ts'; // the same module the API processes use
 *
 * const worker = await createBackgroundWorker({ agents: [agent], connection: { host: '127.0.0.1', port: 6379 }, concurrency: 32 });
 * process.on('SIGTERM', () => void worker.close().then(() => process.exit(0)));
 */
export async function createBackgroundWorker(options: BackgroundWorkerOptions): Promise<BackgroundWorker> {
  const o = checkOptions<BackgroundWorkerOptions>('createBackgroundWorker()', options, WORKER_RULES, ['agents', 'connection']);
  const registry = new Map<string, Registered>();
  for (const agent of o.agents!) {
    if (registry.has(agent.id)) {
      throw new HookchainConfigError(
        'DUPLICATE_AGENT_ID',
        `createBackgroundWorker(): two agents have the id "${agent.id}"; jobs name their agent by id, so give each agent its own name or id`,
      );
    }
    checkHookNames(agent, `createBackgroundWorker(): agent "${agent.name}"`);
    registry.set(agent.id, { agent, hooks: new Map(agent.backgroundHooks.map((h) => [`${h.phase}|${h.name}`, h])) });
  }
  const queueName = o.queueName ?? DEFAULT_QUEUE;
  const defaultTimeout = o.timeoutMs ?? 30_000;
  const logger = o.logger ?? console;
  const log = new ThrottledLog(logger, `hookchain: background worker (queue "${queueName}")`);

  const processor = async (job: Job): Promise<{ durationMs: number }> => {
    const data = job.data as BackgroundJobData;
    const entry = registry.get(data?.agentId);
    if (entry === undefined) {
      throw new Error(
        `this worker has no agent with id ${JSON.stringify(data?.agentId)} (it has ${[...registry.keys()].join(', ')}); ` +
          'build the worker with the agents the producing processes use',
      );
    }
    const hook = entry.hooks.get(`${data.phase}|${data.hookName}`);
    if (hook === undefined) {
      throw new Error(
        `agent "${entry.agent.id}" of this worker has no background ${data.phase}-hook named "${data.hookName}"; ` +
          'deploy the same agent code to the workers as to the producing processes',
      );
    }
    const controller = new AbortController();
    const args = workerArgs(data, entry.agent, controller.signal);
    const started = performance.now();
    await withTimeout(() => hook.run(args), hook.timeoutMs ?? defaultTimeout, controller, data);
    return { durationMs: performance.now() - started };
  };

  const worker = new Worker(queueName, processor, {
    connection: { ...o.connection! },
    concurrency: o.concurrency ?? 16,
    ...(o.lockDuration === undefined ? {} : { lockDuration: o.lockDuration }),
    ...(o.stalledInterval === undefined ? {} : { stalledInterval: o.stalledInterval }),
  });
  worker.on('error', (error) => log.warn('Redis connection error', error));
  worker.on('failed', (job, error) => {
    // BullMQ sets finishedOn only when the job has moved to the failed set: no attempt is left.
    if (job === undefined || typeof job.finishedOn !== 'number') return;
    const d = job.data as BackgroundJobData;
    log.always(
      `background hook "${d?.hookName}" of run ${d?.runId} (agent "${d?.agentId}") failed on all ${job.attemptsMade} attempt(s); ` +
        `it stays in the failed set as job ${job.id ?? '?'}`,
      error,
    );
  });
  try {
    await worker.waitUntilReady();
  } catch (error) {
    await worker.close().catch(() => {});
    throw error;
  }
  return {
    queueName,
    worker,
    close: () => worker.close(),
  };
}

/** Runs the hook; past `ms` the attempt fails with `BackgroundTimeoutError` and the hook's signal aborts. */
async function withTimeout(run: () => unknown, ms: number, controller: AbortController, data: BackgroundJobData): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new BackgroundTimeoutError({ hookName: data.hookName, runId: data.runId } as BackgroundJob, ms);
      controller.abort(error);
      reject(error);
    }, ms);
  });
  try {
    await Promise.race([Promise.resolve().then(run), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
