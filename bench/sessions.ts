/**
 * Session stores: what a run costs with the memory and the SQLite store on sessions with 10 and 1,000 prior runs,
 * and that one save costs the same at both sizes (the SQLite store appends the new run; it never rewrites history).
 *
 * Alone: node --conditions=hookchain-source --disable-warning=ExperimentalWarning --expose-gc bench/sessions.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Agent, MemorySessionStore, SqliteSessionStore, type AgentSession, type RunOutput, type SessionStore } from 'hookchain';
import { OfflineModel } from 'hookchain/testing';
import { SessionLocks } from '../lib/sessions/lock.ts';
import { gc, median, printTable, type Row } from './harness.ts';

const SIZES = [10, 1_000] as const;
const SAMPLES = 101;
const WARMUP = 30;

export async function benchSessions(): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'hookchain-bench-'));
  let files = 0;
  const template = await priorRuns(Math.max(...SIZES));
  const stores: Record<Kind, () => SessionStore> = {
    'memory store µs': () => new MemorySessionStore(),
    'SQLite store µs': () => new SqliteSessionStore({ path: join(dir, `bench-${files++}.db`) }),
  };
  const measures: [string, (store: SessionStore) => Promise<Map<number, number>>][] = [
    ['run on a session', (store) => runCost(store, template, false)],
    ['run on a session, history on (3 runs)', (store) => runCost(store, template, true)],
    ['one save (get, append one run, save)', (store) => saveCost(store, template)],
  ];
  const rows: Row[] = [];
  try {
    const ephemeral: Row = { measure: 'run without sessionId (nothing loaded or saved)', 'prior runs': '—' };
    for (const [kind, open] of Object.entries(stores)) ephemeral[kind] = (await runCost(open(), undefined, false)).get(0)!;
    rows.push(ephemeral);
    for (const [measure, cost] of measures) {
      const byKind = new Map<string, Map<number, number>>();
      for (const [kind, open] of Object.entries(stores)) byKind.set(kind, await cost(open()));
      for (const n of SIZES) {
        const row: Row = { measure, 'prior runs': n };
        for (const [kind, medians] of byKind) row[kind] = medians.get(n)!;
        rows.push(row);
      }
    }
    const save = (n: number, kind: Kind) => Number(rows.find((r) => r.measure === measures[2]![0] && r['prior runs'] === n)![kind]);
    const growth: Row = { measure: 'one save at 1,000 ÷ at 10 prior runs', 'prior runs': '' };
    for (const kind of KINDS) growth[kind] = save(1_000, kind) / save(10, kind);
    growth.target = `SQLite ≤ 1.5: ${Number(growth['SQLite store µs']) <= 1.5 ? 'met' : 'MISSED'}`;
    rows.push(growth);
    for (const n of SIZES) {
      const store = new SqliteSessionStore({ path: join(dir, `cold-${n}.db`), cacheSessions: 0 });
      rows.push({
        measure: 'get, cold (SQLite run cache off: parses every run)',
        'prior runs': n,
        'memory store µs': '',
        'SQLite store µs': coldGet(store, template.slice(0, n)),
      });
    }
    rows.push({
      measure: 'session lock, uncontended acquire + release',
      'prior runs': '',
      'memory store µs': lockCost() / 1_000,
      'SQLite store µs': '(same lock)',
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  for (const row of rows) row.target ??= '';
  return rows;
}

const KINDS = ['memory store µs', 'SQLite store µs'] as const;
type Kind = (typeof KINDS)[number];

/** Real runs of a real agent, to seed sessions with: frozen RunOutputs as the store receives them. */
async function priorRuns(n: number): Promise<RunOutput[]> {
  const store = new MemorySessionStore();
  const agent = new Agent({
    name: 'support',
    model: new OfflineModel(),
    sessionStore: store,
    instructions: 'You are a helpful support agent.',
  });
  for (let i = 0; i < n; i++)
    await agent.run(`Question ${i}: where is my order #${1000 + i}? It was due on Monday.`, { sessionId: 'seed', userId: 'u1' });
  return (await store.get('seed'))!.runs;
}

/**
 * Median µs of `op` on sessions seeded with 10 and with 1,000 prior runs, the sizes interleaved sample by sample
 * so that drift hits both alike. Each sample appends one run, as a conversation does (so "10" ends at 10 + 131).
 */
async function interleaved(
  store: SessionStore,
  template: RunOutput[],
  op: (sessionId: string) => Promise<number | unknown>,
): Promise<Map<number, number>> {
  const now = Date.now();
  const samples = new Map<number, number[]>();
  for (const n of SIZES) {
    samples.set(n, []);
    const session: AgentSession = {
      sessionId: `s${n}`,
      agentId: 'support',
      userId: 'u1',
      sessionState: { cart: ['book'], visits: 3 },
      runs: template.slice(0, n),
      createdAt: now,
      updatedAt: now,
    };
    await store.save(session);
  }
  for (let i = 0; i < WARMUP + SAMPLES; i++) {
    if (i % 25 === 0) gc(); // now and then, so a major GC does not land in one size's timings only
    for (const n of SIZES) {
      const t0 = process.hrtime.bigint();
      const own = await op(`s${n}`); // an op may time just its own part and return that (µs)
      if (i >= WARMUP) samples.get(n)!.push(typeof own === 'number' ? own : Number(process.hrtime.bigint() - t0) / 1_000);
    }
  }
  return new Map([...samples].map(([n, values]) => [n, median(values)]));
}

/** One `agent.run()` on the session (or, without a template, with no sessionId: keyed 0). */
async function runCost(store: SessionStore, template: RunOutput[] | undefined, history: boolean): Promise<Map<number, number>> {
  const agent = new Agent({
    name: 'support',
    model: new OfflineModel(),
    sessionStore: store,
    instructions: 'You are a helpful support agent.',
    addHistoryToContext: history,
  });
  if (template === undefined) {
    const values: number[] = [];
    for (let i = 0; i < WARMUP + SAMPLES; i++) {
      const t0 = process.hrtime.bigint();
      await agent.run('Any news about my order?');
      if (i >= WARMUP) values.push(Number(process.hrtime.bigint() - t0) / 1_000);
    }
    return new Map([[0, median(values)]]);
  }
  return interleaved(store, template, (sessionId) => agent.run('Any news about my order?', { sessionId, userId: 'u1' }));
}

/** `store.save()` alone, after a get and one appended finished run, as finishRun does. */
async function saveCost(store: SessionStore, template: RunOutput[]): Promise<Map<number, number>> {
  const extra = template.at(-1)!;
  let appended = 0;
  return interleaved(store, template, async (sessionId) => {
    const session = (await store.get(sessionId))!;
    session.runs.push(Object.freeze({ ...extra, runId: `appended-${appended++}` }));
    session.updatedAt = Date.now();
    const t0 = process.hrtime.bigint();
    await store.save(session);
    return Number(process.hrtime.bigint() - t0) / 1_000;
  });
}

/** Median µs of a `get()` that has to read and parse every run (a new process, or the cache turned off). */
function coldGet(store: SqliteSessionStore, runs: RunOutput[]): number {
  const now = Date.now();
  store.save({ sessionId: 'cold', agentId: 'support', userId: 'u1', sessionState: {}, runs: runs.slice(), createdAt: now, updatedAt: now });
  const samples: number[] = [];
  for (let i = 0; i < 41; i++) {
    const t0 = process.hrtime.bigint();
    store.get('cold');
    samples.push(Number(process.hrtime.bigint() - t0) / 1_000);
  }
  store.close();
  return median(samples.slice(10));
}

/** ns per acquire + release of a free session: what every run with a sessionId pays for serialisation. */
function lockCost(): number {
  const locks = new SessionLocks();
  const ids = Array.from({ length: 64 }, (_, i) => `session-${i}`);
  const n = 1_000_000;
  const rounds: number[] = [];
  for (let r = 0; r < 7; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      const id = ids[i & 63]!;
      void locks.acquire(id);
      locks.release(id);
    }
    rounds.push(Number(process.hrtime.bigint() - t0) / n);
  }
  return median(rounds.slice(2));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(`hookchain session benchmarks — Node ${process.version}; median of ${SAMPLES} samples (µs)`);
  printTable('Sessions: memory store vs SQLite store (offline model)', await benchSessions());
}
