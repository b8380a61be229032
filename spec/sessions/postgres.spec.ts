/**
 * PostgresSessionStore on a real PostgreSQL (DATABASE_URL; scripts/services starts one on loopback): the shared
 * SessionStore contract, unchanged, then what only several processes show: runs of one session from two processes
 * queue and all succeed, a stale save is refused, a process killed inside a save leaves no half-written run and no
 * lock behind, a corrupt row fails with the typed error and stays as it is, a run replaced in place is seen by
 * another store. Without DATABASE_URL the file is skipped (one line says how to run it); under CI=true it fails.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { Agent, HookchainConfigError, RunAbortedError, type PreHookArgs } from 'hookchain';
import { PostgresSessionStore, type PostgresPool } from 'hookchain/postgres';
import { SessionConflictError, SessionStoreError } from 'hookchain/sessions';
import { OfflineModel } from 'hookchain/testing';
import { storeContract, capture, run, session } from './contract.ts';
import { deferred } from './helpers.ts';

const URL = process.env['DATABASE_URL'];
const HOW = 'scripts/services npx vitest run spec/sessions/postgres.spec.ts';

if (URL === undefined || URL === '') {
  if (process.env['CI'] === 'true') {
    describe('PostgresSessionStore', () => {
      it('needs PostgreSQL under CI', () => {
        throw new Error(`DATABASE_URL is not set, and CI=true does not skip: run the specs through ${HOW.replace(/ npx.*/, ' npm test')}`);
      });
    });
  } else {
    process.stderr.write(`spec/sessions/postgres.spec.ts skipped: no DATABASE_URL; run it with ${HOW}\n`);
    describe.skip(`PostgresSessionStore: needs PostgreSQL (DATABASE_URL); run: ${HOW}`, () => {
      it('is skipped', () => undefined);
    });
  }
} else {
  specs(URL);
}

function specs(url: string): void {
  const pool = new pg.Pool({ connectionString: url, max: 8 });
  const schemas: string[] = [];
  const stores: PostgresSessionStore[] = [];
  const ROOT = join(import.meta.dirname, '..', '..');
  const CHILD = join(import.meta.dirname, 'postgres-child.ts');

  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()));
    if (schemas.length > 0) await pool.query(`DROP SCHEMA IF EXISTS ${schemas.map((s) => `"${s}"`).join(', ')} CASCADE`);
    await pool.end();
  }, 60_000);

  /** A schema nobody used yet. */
  const fresh = (): string => {
    const schema = `hookchain_spec_${randomBytes(6).toString('hex')}`;
    schemas.push(schema);
    return schema;
  };
  /** A store on `schema` (a fresh one by default), on the shared pool or on a pool of its own; closed after the file. */
  const open = (schema = fresh(), options: { own?: boolean; cacheSessions?: number } = {}): PostgresSessionStore => {
    const store = new PostgresSessionStore({
      ...(options.own === true ? { connectionString: url } : { pool }),
      schema,
      ...(options.cacheSessions === undefined ? {} : { cacheSessions: options.cacheSessions }),
    });
    stores.push(store);
    return store;
  };

  storeContract('PostgresSessionStore', () => open());
  storeContract('PostgresSessionStore (own pool, no run cache)', () => open(fresh(), { own: true, cacheSessions: 0 }));

  type ChildResult = { completed: number; failed: number; conflicts: number };

  /** Child processes running postgres-child.ts, released together; resolves with their last lines. */
  async function children(mode: 'agent' | 'store', schema: string, sessionId: string, count: number, n = 2): Promise<ChildResult[]> {
    const procs = Array.from({ length: n }, () =>
      spawn(process.execPath, ['--conditions=hookchain-source', CHILD, mode, url, schema, sessionId, String(count)], { cwd: ROOT }),
    );
    const outputs = procs.map((c) => {
      let out = '';
      let err = '';
      c.stdout.on('data', (chunk: Buffer) => void (out += chunk));
      c.stderr.on('data', (chunk: Buffer) => void (err += chunk));
      const ready = new Promise<void>((resolve) => c.stdout.on('data', () => out.includes('ready') && resolve()));
      const done = new Promise<ChildResult>((resolve, reject) =>
        c.on('exit', (code) =>
          code === 0 ? resolve(JSON.parse(out.trim().split('\n').at(-1)!)) : reject(new Error(`child exited with ${code}: ${err}`)),
        ),
      );
      return { ready, done };
    });
    await Promise.all(outputs.map((o) => o.ready));
    for (const c of procs) c.stdin.write('go\n');
    return Promise.all(outputs.map((o) => o.done));
  }

  describe('PostgresSessionStore across processes', () => {
    it('two processes, 500 agent runs each on one session: they queue on the session lock and all 1,000 succeed', async () => {
      const schema = fresh();
      const store = open(schema);
      await store.save(session('shared', { agentId: 'support' }));
      const results = await children('agent', schema, 'shared', 500);
      expect(results).toEqual([
        { completed: 500, failed: 0, conflicts: 0 },
        { completed: 500, failed: 0, conflicts: 0 },
      ]);
      const stored = (await store.get('shared'))!;
      expect(stored.sessionState).toEqual({ count: 1_000 });
      expect(stored.runs).toHaveLength(1_000);
      expect(stored.version).toBe(1_001);
    }, 120_000);

    it('two processes, 500 increments each through the store alone: stale saves are refused and retried, none lost', async () => {
      const schema = fresh();
      const store = open(schema);
      await store.save(session('shared', { state: { count: 0 } }));
      const results = await children('store', schema, 'shared', 500);
      expect(results.map((r) => r.completed)).toEqual([500, 500]);
      const stored = (await store.get('shared'))!;
      expect(stored.sessionState).toEqual({ count: 1_000 });
      expect(stored.version).toBe(1_001);
      // The version check is what kept every update: the processes did collide.
      expect(results[0]!.conflicts + results[1]!.conflicts).toBeGreaterThan(0);
    }, 120_000);

    it('refuses a stale save from another store (another process) with SessionConflictError, keeping the newer data', async () => {
      const schema = fresh();
      const a = open(schema);
      const b = open(schema, { own: true });
      await a.save(session('s1', { state: { by: 'first' }, runs: [run('r0', 'zero')] }));
      const stale = (await a.get('s1'))!;
      const newer = (await b.get('s1'))!;
      newer.sessionState = { by: 'b' };
      newer.runs.push(run('rb', 'b'));
      await b.save(newer);
      stale.sessionState = { by: 'a' };
      stale.runs.push(run('ra', 'a'));
      const error = await capture(() => a.save(stale));
      expect(error).toBeInstanceOf(SessionConflictError);
      expect(error).toMatchObject({ code: 'SESSION_CONFLICT', sessionId: 's1', expectedVersion: 1, storedVersion: 2 });
      const stored = (await a.get('s1'))!;
      expect(stored).toMatchObject({ sessionState: { by: 'b' }, version: 2 });
      expect(stored.runs.map((r) => r.runId)).toEqual(['r0', 'rb']);
    });

    it('a process killed (SIGKILL) inside a save leaves no half-written run, and its session lock goes with it', async () => {
      const schema = fresh();
      const store = open(schema);
      await store.save(session('s1', { agentId: 'support', state: { count: 5 }, runs: [run('r0', 'before')] }));
      const child = spawn(process.execPath, ['--conditions=hookchain-source', CHILD, 'hang', url, schema, 's1'], { cwd: ROOT });
      let out = '';
      const mid = new Promise<void>((resolve) => child.stdout.on('data', (c: Buffer) => ((out += c), out.includes('mid') && resolve())));
      const exited = new Promise((resolve) => child.on('exit', resolve));
      await mid;
      // Inside the transaction: the run row is written, not committed. Nobody else sees it.
      expect((await pool.query(`SELECT count(*)::int AS n FROM "${schema}".runs`)).rows[0]).toEqual({ n: 1 });
      child.kill('SIGKILL');
      await exited;
      const stored = (await store.get('s1'))!;
      expect(stored).toMatchObject({ sessionState: { count: 5 }, version: 1 });
      expect(stored.runs.map((r) => r.runId)).toEqual(['r0']);
      // The dead process held the session's lock; PostgreSQL let it go with the connection, so this run does not wait.
      const agent = new Agent<{ count?: number }>({
        name: 'support',
        model: new OfflineModel({ reply: 'after' }),
        sessionStore: store,
        preHooks: [({ sessionState }: PreHookArgs<{ count?: number }>) => void (sessionState.count = (sessionState.count ?? 0) + 1)],
      });
      await agent.run('after the crash', { sessionId: 's1' });
      const after = (await store.get('s1'))!;
      expect(after.sessionState).toEqual({ count: 6 });
      expect(after.runs.map((r) => r.content)).toEqual(['before', 'after']);
      expect((await pool.query(`SELECT seq FROM "${schema}".runs ORDER BY seq`)).rows).toEqual([{ seq: 0 }, { seq: 1 }]);
    }, 60_000);

    it('sees a run replaced in place (a paused run, resumed) by another store whose cache holds the older runs', async () => {
      const schema = fresh();
      const a = open(schema);
      const b = open(schema, { own: true });
      await a.save(session('s1', { runs: [run('r0', 'a'), run('paused', 'waiting')] }));
      expect((await b.get('s1'))!.runs.map((r) => r.content)).toEqual(['a', 'waiting']); // b caches them
      const s = (await a.get('s1'))!;
      s.runs[1] = run('paused', 'resumed');
      s.runs.push(run('r2', 'c'));
      await a.save(s);
      expect((await b.get('s1'))!.runs.map((r) => r.content)).toEqual(['a', 'resumed', 'c']);
      const { rows } = await pool.query(`SELECT run_rewrites FROM "${schema}".sessions`);
      expect(rows).toEqual([{ run_rewrites: 1 }]);
      expect((await pool.query(`SELECT seq, run_id, data->>'content' AS content FROM "${schema}".runs ORDER BY seq`)).rows).toEqual([
        { seq: 0, run_id: 'r0', content: 'a' },
        { seq: 1, run_id: 'paused', content: 'resumed' },
        { seq: 2, run_id: 'r2', content: 'c' },
      ]);
    });

    it('runs of one session through two stores in one process queue too (each store locks across processes)', async () => {
      const schema = fresh();
      const make = (store: PostgresSessionStore) =>
        new Agent<{ count?: number }>({
          name: 'support',
          model: new OfflineModel({ reply: 'ok' }),
          sessionStore: store,
          preHooks: [
            async ({ sessionState }: PreHookArgs<{ count?: number }>) => {
              const seen = sessionState.count ?? 0;
              await new Promise((resolve) => setTimeout(resolve, 2));
              sessionState.count = seen + 1;
            },
          ],
        });
      const [a, b] = [make(open(schema)), make(open(schema, { own: true }))];
      await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).run(`run ${i}`, { sessionId: 'shared' })));
      const stored = (await open(schema).get('shared'))!;
      expect(stored.sessionState).toEqual({ count: 40 });
      expect(stored.runs).toHaveLength(40);
    });
  });

  describe('PostgresSessionStore: corrupt rows', () => {
    const corruptions: [string, (schema: string) => string, RegExp][] = [
      [
        'a state that is not an object',
        (s) => `UPDATE "${s}".sessions SET state = '[1, 2]'`,
        /sessionState \(.*sessions\.state\) is not a JSON object/,
      ],
      [
        'a run that is not a RunOutput',
        (s) => `UPDATE "${s}".runs SET data = '"spoiled"' WHERE seq = 1`,
        /run 1 \(.*runs\.data\) is not a RunOutput/,
      ],
      ['a missing run row', (s) => `DELETE FROM "${s}".runs WHERE seq = 1`, /run list .* 1 rows long where sessions\.run_count says 2/],
    ];
    it.each(corruptions)(
      '%s: get() and a run fail with CORRUPT_ROW naming the session, and nothing is overwritten',
      async (_what, spoil, says) => {
        const schema = fresh();
        const store = open(schema);
        await store.save(session('s1', { agentId: 'support', state: { n: 1 }, runs: [run('r0', 'zero'), run('r1', 'one')] }));
        await pool.query(spoil(schema));
        const before = await snapshot(schema);
        const fresher = open(schema); // no cache: reads the rows
        const error = await capture(() => fresher.get('s1'));
        expect(error).toBeInstanceOf(SessionStoreError);
        expect(error).toMatchObject({ code: 'CORRUPT_ROW', sessionId: 's1' });
        expect((error as Error).message).toMatch(says);
        expect((error as Error).message).toContain('Nothing was changed');
        const agent = new Agent({ name: 'support', model: new OfflineModel({ reply: 'ok' }), sessionStore: fresher });
        await expect(agent.run('hi', { sessionId: 's1' })).rejects.toMatchObject({ code: 'CORRUPT_ROW' });
        expect(await snapshot(schema)).toEqual(before);
      },
    );

    async function snapshot(schema: string): Promise<unknown> {
      const sessions = await pool.query(`SELECT session_id, state::text, version, run_count FROM "${schema}".sessions ORDER BY 1`);
      const runs = await pool.query(`SELECT session_id, seq, data::text FROM "${schema}".runs ORDER BY 1, 2`);
      return [sessions.rows, runs.rows];
    }
  });

  describe('PostgresSessionStore: the schema', () => {
    it('creates its tables and version table in its own schema, at the current version; state and runs are JSON columns', async () => {
      const schema = fresh();
      const store = open(schema);
      await store.save(session('s1', { state: { cart: ['book'] }, runs: [run('r1', 'one')] }));
      const tables = await pool.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`, [schema]);
      expect(tables.rows.map((r: { table_name: string }) => r.table_name)).toEqual(['runs', 'schema_version', 'sessions']);
      expect((await pool.query(`SELECT version FROM "${schema}".schema_version`)).rows).toEqual([{ version: 1 }]);
      expect((await pool.query(`SELECT state->'cart'->>0 AS item, run_count FROM "${schema}".sessions`)).rows).toEqual([
        { item: 'book', run_count: 1 },
      ]);
    });

    it('refuses a schema written by a newer hookchain, and one holding tables of another application, changing nothing', async () => {
      const newer = fresh();
      await open(newer).save(session('s1'));
      await pool.query(`UPDATE "${newer}".schema_version SET version = 99`);
      await expect(open(newer).get('s1')).rejects.toMatchObject({ code: 'NEWER_SCHEMA', message: expect.stringContaining('version 99') });
      const foreign = fresh();
      await pool.query(`CREATE SCHEMA "${foreign}"; CREATE TABLE "${foreign}".sessions (id int)`);
      const error = await capture(() => open(foreign).get('s1'));
      expect(error).toMatchObject({ code: 'FOREIGN_DATABASE' });
      expect((error as Error).message).toContain(`schema "${foreign}"`);
      const left = await pool.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1`, [foreign]);
      expect(left.rows).toEqual([{ table_name: 'sessions' }]);
    });

    it('migrates once when several stores start together', async () => {
      const schema = fresh();
      const many = Array.from({ length: 5 }, (_, i) => open(schema, { own: i % 2 === 0 }));
      await Promise.all(many.map((s, i) => s.save(session(`s${i}`))));
      expect((await pool.query(`SELECT version FROM "${schema}".schema_version`)).rows).toEqual([{ version: 1 }]);
      expect(await many[0]!.listSessions({ userId: 'u1' })).toHaveLength(5);
    });

    it('keeps key order and U+0000 in strings, which jsonb would not', async () => {
      const store = open();
      await store.save(session('s1', { state: { zebra: 1, a: 2, nul: 'a\u0000b' } }));
      const state = (await open(store.schema).get('s1'))!.sessionState;
      expect(Object.keys(state)).toEqual(['zebra', 'a', 'nul']);
      expect((state as { nul: string }).nul).toBe('a\u0000b');
    });
  });

  describe('PostgresSessionStore: the store object', () => {
    it('validates its options', () => {
      expect(() => new PostgresSessionStore({} as never)).toThrow(/exactly one of connectionString .* and pool .*, got neither/);
      expect(() => new PostgresSessionStore({ connectionString: url, pool })).toThrow(/got both/);
      expect(() => new PostgresSessionStore({ pool, schema: 'Bad-Name' })).toThrow(/option "schema" must be a lowercase SQL identifier/);
      expect(() => new PostgresSessionStore({ pool: {} as PostgresPool })).toThrow(/option "pool" must be a pg Pool/);
      expect(() => new PostgresSessionStore({ pool, cache: 1 } as never)).toThrow(HookchainConfigError);
    });

    it('close() ends the pool it made and leaves a given pool open; later calls throw STORE_CLOSED', async () => {
      const given = open();
      await given.save(session('s1'));
      await given.close();
      await given.close();
      await expect(given.get('s1')).rejects.toMatchObject({ code: 'STORE_CLOSED' });
      expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]); // still open
      const own = new PostgresSessionStore({ connectionString: url, schema: given.schema });
      expect((await own.get('s1'))!.version).toBe(1);
      await own.close();
      await expect(own.save(session('s2'))).rejects.toBeInstanceOf(SessionStoreError);
    });

    it('a run waiting for the session lock held by another process is aborted at once, holding nothing', async () => {
      const schema = fresh();
      const holder = open(schema, { own: true });
      const waiter = open(schema);
      await holder.save(session('s1'));
      const unlock = await holder.lock('s1');
      const gate = deferred();
      const controller = new AbortController();
      const agent = new Agent({ name: 'support', model: new OfflineModel({ reply: 'ok' }), sessionStore: waiter });
      const waiting = agent.run('waits', { sessionId: 's1', signal: controller.signal });
      setTimeout(() => (controller.abort(new Error('gave up')), gate.resolve()), 100);
      await gate.promise;
      await expect(waiting).rejects.toBeInstanceOf(RunAbortedError);
      await unlock();
      // Neither store holds anything now: a run through the waiting store goes straight through.
      await expect(agent.run('next', { sessionId: 's1' })).resolves.toMatchObject({ status: 'completed' });
      expect((await waiter.get('s1'))!.runs.map((r) => r.input.inputContent)).toEqual(['next']);
    });

    it('does not load pg until a store is made from a connection string', async () => {
      const script =
        "import('hookchain/postgres').then(async (m) => { const loaded = () => Object.keys(require.cache ?? {}).some((k) => k.includes('/node_modules/pg/')); const before = loaded(); new m.PostgresSessionStore({ connectionString: 'postgres://x@127.0.0.1:1/x' }); console.log(JSON.stringify([before, loaded()])); })";
      const out = await new Promise<string>((resolve, reject) => {
        const c = spawn(process.execPath, ['--conditions=hookchain-source', '--input-type=commonjs', '-e', script], { cwd: ROOT });
        let text = '';
        c.stdout.on('data', (chunk: Buffer) => void (text += chunk));
        c.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`exit ${code}`))));
      });
      expect(JSON.parse(out)).toEqual([false, true]);
    });
  });
}
