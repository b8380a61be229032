/**
 * The agent of the scale-out example, built the same way in every process: the API processes give it a
 * `BullMQExecutor` (background hooks go to Redis) and a `PostgresSessionStore` (sessions in PostgreSQL); the workers
 * build it with no executor, to find its background hooks by name.
 */
import { Agent, PIIDetectionGuardrail, hook, type PostHookArgs } from 'hookchain';
import { BullMQExecutor } from 'hookchain/bullmq';
import { PostgresSessionStore } from 'hookchain/postgres';
import { OfflineModel } from 'hookchain/testing';

export const QUEUE = 'scale-out-example';

/** A background hook: runs on a worker process, after the run, from the JSON snapshot BullMQ carries. */
export const recordTurn = hook({ runInBackground: true, name: 'recordTurn' })(({ runOutput, session }: PostHookArgs) => {
  console.log(`  [worker ${process.pid}] recorded turn of session ${session.sessionId}: run ${runOutput.runId}`);
});

export function buildAgent(services?: { redisUrl: string; databaseUrl: string }): Agent<{ turns?: number }> {
  return new Agent<{ turns?: number }>({
    name: 'support',
    model: new OfflineModel({ reply: (messages) => `Answer to "${String(messages.at(-1)?.content)}" from process ${process.pid}` }),
    preHooks: [
      new PIIDetectionGuardrail({ maskPii: true }),
      function countTurn({ sessionState }) {
        sessionState.turns = (sessionState.turns ?? 0) + 1;
      },
    ],
    postHooks: [recordTurn],
    ...(services === undefined
      ? {}
      : {
          backgroundQueue: new BullMQExecutor({ connection: { url: services.redisUrl }, queueName: QUEUE }),
          sessionStore: new PostgresSessionStore({ connectionString: services.databaseUrl }),
        }),
  });
}
