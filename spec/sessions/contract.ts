/**
 * The SessionStore contract, as one suite that every store must pass (memory and SQLite here; a third-party store
 * can import and run it too). `open` returns a fresh, empty store.
 */
import { describe, expect, it } from 'vitest';
import { SessionConflictError } from 'hookchain/sessions';
import { Agent, HookchainConfigError, type AgentSession, type PreHookArgs, type RunOutput, type SessionStore } from 'hookchain';
import { OfflineModel } from 'hookchain/testing';
import { storableContract } from './contract-storable.ts';

export function storeContract(name: string, open: () => SessionStore): void {
  describe(`SessionStore contract: ${name}`, () => {
    it('returns undefined for a session it does not hold, and deleting one is a no-op', async () => {
      const store = open();
      expect(await store.get('nope')).toBeUndefined();
      await store.delete('nope');
      expect(await store.get('nope')).toBeUndefined();
    });

    it('round-trips every field and sets the version on save', async () => {
      const store = open();
      const s = session('s1', { state: { cart: ['a'], n: 1, nested: { deep: true } }, runs: [run('r1', 'hello')] });
      await store.save(s);
      expect(s.version).toBe(1);
      const got = await store.get('s1');
      expect(got).toEqual({ ...s, version: 1 });
      expect(JSON.parse(JSON.stringify(got!.runs))).toEqual(JSON.parse(JSON.stringify(s.runs)));
    });

    it('copies on save and on get: neither side can change the other', async () => {
      const store = open();
      const s = session('s1', { state: { n: 1 } });
      await store.save(s);
      (s.sessionState as { n: number }).n = 99;
      s.runs.push(run('late', 'x'));
      const got = (await store.get('s1'))!;
      expect(got.sessionState).toEqual({ n: 1 });
      expect(got.runs).toHaveLength(0);
      (got.sessionState as { n: number }).n = 7;
      got.runs.push(run('mine', 'y'));
      expect((await store.get('s1'))!.sessionState).toEqual({ n: 1 });
      expect((await store.get('s1'))!.runs).toHaveLength(0);
    });

    it('appends runs over many saves in order, and a save with fewer runs replaces them', async () => {
      const store = open();
      await store.save(session('s1'));
      for (let i = 0; i < 5; i++) {
        const s = (await store.get('s1'))!;
        s.runs.push(run(`r${i}`, `answer ${i}`));
        await store.save(s);
        expect(s.version).toBe(i + 2);
      }
      const full = (await store.get('s1'))!;
      expect(full.runs.map((r) => r.runId)).toEqual(['r0', 'r1', 'r2', 'r3', 'r4']);
      full.runs = [full.runs[3]!, run('new', 'n')];
      await store.save(full);
      expect((await store.get('s1'))!.runs.map((r) => r.runId)).toEqual(['r3', 'new']);
    });

    it('refuses a save made from an older version with SessionConflictError and keeps the newer data', async () => {
      const store = open();
      await store.save(session('s1', { state: { n: 0 } }));
      const a = (await store.get('s1'))!;
      const b = (await store.get('s1'))!;
      (a.sessionState as { n: number }).n = 1;
      a.runs.push(run('ra', 'a'));
      await store.save(a);
      (b.sessionState as { n: number }).n = 2;
      b.runs.push(run('rb', 'b'));
      const error = await capture(() => store.save(b));
      expect(error).toBeInstanceOf(SessionConflictError);
      expect(error).toMatchObject({ code: 'SESSION_CONFLICT', sessionId: 's1', expectedVersion: 1, storedVersion: 2 });
      expect((error as Error).message).toContain('"s1"');
      expect(b.version).toBe(1);
      const stored = (await store.get('s1'))!;
      expect(stored.sessionState).toEqual({ n: 1 });
      expect(stored.runs.map((r) => r.runId)).toEqual(['ra']);
    });

    it('refuses to create a session that someone else created meanwhile', async () => {
      const store = open();
      await store.save(session('s1', { state: { who: 'first' } }));
      const error = await capture(() => store.save(session('s1', { state: { who: 'second' } })));
      expect(error).toBeInstanceOf(SessionConflictError);
      expect((await store.get('s1'))!.sessionState).toEqual({ who: 'first' });
    });

    it('stores a session again after it was deleted', async () => {
      const store = open();
      await store.save(session('s1'));
      const held = (await store.get('s1'))!;
      await store.delete('s1');
      expect(await store.get('s1')).toBeUndefined();
      held.runs.push(run('after', 'x'));
      await store.save(held);
      expect((await store.get('s1'))!.runs.map((r) => r.runId)).toEqual(['after']);
    });

    it("lists a user's sessions, newest first, filtered by agent and limited, without their runs", async () => {
      const store = open();
      await store.save(session('old', { userId: 'u1', updatedAt: 1_000, runs: [run('r', 'x')] }));
      await store.save(session('new', { userId: 'u1', updatedAt: 3_000 }));
      await store.save(session('other-agent', { userId: 'u1', agentId: 'billing', updatedAt: 2_000 }));
      await store.save(session('other-user', { userId: 'u2', updatedAt: 4_000 }));
      await store.save(session('anonymous', { userId: undefined, updatedAt: 5_000 }));
      const all = await store.listSessions({ userId: 'u1' });
      expect(all.map((s) => s.sessionId)).toEqual(['new', 'other-agent', 'old']);
      expect(all[2]).toEqual({ sessionId: 'old', agentId: 'support', userId: 'u1', runCount: 1, createdAt: 1_000, updatedAt: 1_000 });
      expect((await store.listSessions({ userId: 'u1', agentId: 'support' })).map((s) => s.sessionId)).toEqual(['new', 'old']);
      expect((await store.listSessions({ userId: 'u1', limit: 1 })).map((s) => s.sessionId)).toEqual(['new']);
      expect(await store.listSessions({ userId: 'nobody' })).toEqual([]);
    });

    it('rejects bad listSessions options with a message naming the option', async () => {
      const store = open();
      for (const bad of [{}, { userId: '' }, { userId: 'u', limit: 0 }, { userId: 'u', limit: 1.5 }, { userId: 'u', agentId: 3 }]) {
        const error = await capture(() => store.listSessions(bad as never));
        expect(error).toBeInstanceOf(HookchainConfigError);
        expect((error as Error).message).toMatch(/listSessions\(\): option "(userId|limit|agentId)"/);
      }
    });

    it('keeps state and every run across agent runs (failed runs included, without their content)', async () => {
      const store = open();
      const count = ({ sessionState }: PreHookArgs) =>
        void ((sessionState as { n?: number }).n = ((sessionState as { n?: number }).n ?? 0) + 1);
      const failOn = ({ runInput }: PreHookArgs) => {
        if (runInput.inputContent === 'fail') throw new Error('boom');
      };
      const agent = new Agent({
        name: 'support',
        model: new OfflineModel({ reply: 'ok' }),
        sessionStore: store,
        preHooks: [count, failOn],
      });
      await agent.run('one', { sessionId: 's', userId: 'u' });
      await expect(agent.run('fail', { sessionId: 's', userId: 'u' })).rejects.toThrow('boom');
      await agent.run('three', { sessionId: 's', userId: 'u' });
      const stored = (await store.get('s'))!;
      expect(stored.sessionState).toEqual({ n: 3 });
      expect(stored.runs.map((r) => [r.input.inputContent, r.status, r.content])).toEqual([
        ['one', 'completed', 'ok'],
        ['fail', 'error', undefined],
        ['three', 'completed', 'ok'],
      ]);
      expect(stored.version).toBe(3);
    });

    it('stores a run replaced where it stands (same runId: a paused run, resumed) and keeps the runs around it', async () => {
      const store = open();
      await store.save(session('s1', { runs: [run('r0', 'a'), run('paused', 'b'), run('r2', 'c')] }));
      const s = (await store.get('s1'))!;
      s.runs[1] = run('paused', 'resumed and answered');
      await store.save(s);
      const again = (await store.get('s1'))!;
      expect(again.runs.map((r) => [r.runId, r.content])).toEqual([
        ['r0', 'a'],
        ['paused', 'resumed and answered'],
        ['r2', 'c'],
      ]);
      // And again from the copy just saved (its version moved on), with a run appended in the same save.
      again.runs[1] = run('paused', 'once more');
      again.runs.push(run('r3', 'd'));
      await store.save(again);
      expect((await store.get('s1'))!.runs.map((r) => r.content)).toEqual(['a', 'once more', 'c', 'd']);
    });
  });
  storableContract(name, open);
}

export function session(
  sessionId: string,
  over: { state?: object; runs?: RunOutput[]; userId?: string | undefined; agentId?: string; updatedAt?: number } = {},
): AgentSession {
  const at = over.updatedAt ?? 1_000;
  return {
    sessionId,
    agentId: over.agentId ?? 'support',
    userId: 'userId' in over ? over.userId : 'u1',
    sessionState: over.state ?? {},
    runs: over.runs ?? [],
    createdAt: at,
    updatedAt: at,
  };
}

/** A finished run as the agent stores it: plain data, frozen. */
export function run(runId: string, content: string): RunOutput {
  return Object.freeze({
    runId,
    sessionId: 's',
    agentId: 'support',
    agentName: 'support',
    userId: 'u1',
    content,
    status: 'completed',
    model: 'offline',
    input: Object.freeze({ inputContent: `question for ${runId}` }),
    messages: Object.freeze([Object.freeze({ role: 'assistant', content })]) as RunOutput['messages'],
    metrics: Object.freeze({ inputTokens: 1, outputTokens: 2, totalTokens: 3, durationMs: 4 }),
    error: undefined,
    createdAt: 1_000,
  }) as RunOutput;
}

export async function capture(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}
