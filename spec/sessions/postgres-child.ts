/**
 * Runs in a child process (spawned by spec/sessions/postgres.spec.ts) against one PostgreSQL schema.
 * argv: mode url schema sessionId count
 *  - agent: `count` agent runs on the session, each incrementing `sessionState.count` (load, yield, save);
 *  - store: `count` increments through the store alone: get, +1, save, again on SessionConflictError;
 *  - hang:  one agent run whose save stops for good inside its transaction, right after writing the run row
 *           (prints "mid" then): the parent kills the process there.
 * agent and store print "ready" and wait for a line on stdin first, so that the parent starts the children together;
 * all print one JSON line at the end: { completed, failed, conflicts }.
 */
import { setImmediate as tick } from 'node:timers/promises';
import pg from 'pg';
import { Agent, type PreHookArgs } from 'hookchain';
import { PostgresSessionStore, type PostgresPool, type PostgresPoolClient } from 'hookchain/postgres';
import { SessionConflictError } from 'hookchain/sessions';
import { OfflineModel } from 'hookchain/testing';

const [mode, url, schema, sessionId, count = '1'] = process.argv.slice(2) as [string, string, string, string, string?];
const pool = new pg.Pool({ connectionString: url, max: 4 });
const store = new PostgresSessionStore({ pool: mode === 'hang' ? stopInsideTheSave(pool) : pool, schema });
type Counter = { count?: number };
const agent = new Agent<Counter>({
  name: 'support',
  model: new OfflineModel({ reply: 'ok' }),
  sessionStore: store,
  preHooks: [
    async ({ sessionState }: PreHookArgs<Counter>) => {
      const seen = sessionState.count ?? 0;
      await tick(); // widens the window between load and save
      sessionState.count = seen + 1;
    },
  ],
  logger: { debug() {}, warn() {} },
});

let completed = 0;
let failed = 0;
let conflicts = 0;
if (mode !== 'hang') {
  console.log('ready');
  await new Promise((resolve) => process.stdin.once('data', resolve));
  process.stdin.pause();
}
for (let i = 0; i < Number(count); i++) {
  if (mode === 'store') {
    for (;;) {
      const s = (await store.get(sessionId))!;
      (s.sessionState as Counter).count = ((s.sessionState as Counter).count ?? 0) + 1;
      try {
        await store.save(s);
        completed++;
        break;
      } catch (error) {
        if (!(error instanceof SessionConflictError)) throw error;
        conflicts++;
      }
    }
    continue;
  }
  try {
    await agent.run(`run ${i}`, { sessionId, userId: 'u1' });
    completed++;
  } catch (error) {
    failed++;
    console.error(error);
  }
}
await store.close();
await pool.end();
console.log(JSON.stringify({ completed, failed, conflicts }));

/** The pool, except that a statement inserting a run row is followed by a wait that never ends. */
function stopInsideTheSave(inner: pg.Pool): PostgresPool {
  return {
    query: (text, values) => inner.query(text, values),
    end: () => inner.end(),
    connect: async () => {
      const client = await inner.connect();
      const query = async (text: string, values?: unknown[]) => {
        const result = await client.query(text, values);
        if (text.includes('INSERT INTO') && text.includes('.runs')) {
          console.log('mid');
          await new Promise(() => undefined);
        }
        return result;
      };
      return new Proxy(client, {
        get: (target, key) => (key === 'query' ? query : (Reflect.get(target, key, target) as unknown)),
      }) as PostgresPoolClient;
    },
  };
}
