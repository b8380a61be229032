/**
 * A paused run resumes at most once, however many resumes race for it: two agents on two SqliteSessionStore
 * instances over one file (as two processes would be), and one agent with two concurrent continueRun calls.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  Agent,
  MemorySessionStore,
  OpenAIChat,
  RunNotPausedError,
  tool,
  type AgentSession,
  type RunOutput,
  type SessionStore,
} from 'hookchain';
import type { ListSessionsOptions } from 'hookchain/sessions';
import { startFakeOpenAI, type FakeOpenAI } from 'hookchain/testing';
import { sqliteStore, storedRuns, tempDir } from './approvals-helpers.ts';

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI({
    // A new question asks for a refund; once the tool answered, the model answers with text.
    reply: (body) =>
      body.messages.at(-1)!.role === 'tool'
        ? 'Refunded.'
        : { toolCalls: [{ id: 'c_refund', name: 'refund', arguments: { orderId: 'A-1' } }] },
  });
});
afterAll(() => fake.close());

/** How often each run's refund executed, by runId, across every agent of the test. */
type Executions = Map<string, number>;

function agentOn(store: SessionStore, executions: Executions): Agent {
  const refund = tool({
    name: 'refund',
    description: 'Refund an order',
    parameters: z.object({ orderId: z.string() }),
    requiresApproval: true,
    execute: ({ orderId }, { runContext }) => {
      executions.set(runContext.runId, (executions.get(runContext.runId) ?? 0) + 1);
      return { refunded: orderId };
    },
  });
  return new Agent({
    name: 'support',
    model: new OpenAIChat({ id: 'gpt-test', client: fake.client() }),
    sessionStore: store,
    tools: [refund],
    postHooks: [function checked() {}],
    logger: { debug() {}, warn() {} },
  });
}

/**
 * A store whose reads take a few milliseconds: both resumes of a race then read the paused run before either has
 * claimed it, so the loser is refused by the store's versioned save rather than by finding the run taken.
 */
class SlowReads implements SessionStore {
  private readonly inner: SessionStore;
  constructor(inner: SessionStore) {
    this.inner = inner;
  }
  async get(sessionId: string): Promise<AgentSession | undefined> {
    const session = await this.inner.get(sessionId);
    await new Promise((resolve) => setTimeout(resolve, 5));
    return session;
  }
  save(session: AgentSession) {
    return this.inner.save(session);
  }
  delete(sessionId: string) {
    return this.inner.delete(sessionId);
  }
  listSessions(options: ListSessionsOptions) {
    return this.inner.listSessions(options);
  }
}

const RUNS = 10;

/** Pauses RUNS runs, one per session; returns their outputs. */
async function pauseRuns(agent: Agent, prefix: string): Promise<RunOutput[]> {
  const paused: RunOutput[] = [];
  for (let i = 0; i < RUNS; i++) {
    const out = await agent.run('Refund A-1', { sessionId: `${prefix}-${i}` });
    expect(out.status).toBe('paused');
    paused.push(out);
  }
  return paused;
}

/** Resumes every paused run twice at once (first with `a`, second with `b`); checks that exactly one of each pair won. */
async function race(a: Agent, b: Agent, paused: RunOutput[], executions: Executions, store: SessionStore): Promise<string[]> {
  const resume = (agent: Agent, run: RunOutput) =>
    agent.continueRun({ sessionId: run.sessionId, runId: run.runId, approvals: [{ callId: 'c_refund', approved: true }] });
  const settled = await Promise.all(paused.map((run) => Promise.allSettled([resume(a, run), resume(b, run)])));
  const refusals: string[] = [];
  for (const [i, pair] of settled.entries()) {
    const run = paused[i]!;
    const won = pair.filter((r) => r.status === 'fulfilled');
    const lost = pair.filter((r) => r.status === 'rejected');
    expect(won, `run ${i}`).toHaveLength(1);
    expect((won[0] as PromiseFulfilledResult<RunOutput>).value).toMatchObject({ status: 'completed', content: 'Refunded.' });
    expect(lost, `run ${i}`).toHaveLength(1);
    const reason = (lost[0] as PromiseRejectedResult).reason as Error;
    expect(reason, `run ${i}`).toBeInstanceOf(RunNotPausedError);
    refusals.push(reason.message);
    expect(executions.get(run.runId), `run ${i}`).toBe(1);
    expect(
      (await storedRuns(store, run.sessionId, run.runId)).map((r) => r.status),
      `run ${i}`,
    ).toEqual(['completed']);
  }
  return refusals;
}

describe('two agents on one SQLite file resume the same paused run at once', () => {
  it('exactly one resume wins each race, the other rejects with RunNotPausedError, and the tool runs once', async () => {
    const path = join(tempDir(), 'sessions.db');
    const executions: Executions = new Map();
    const a = agentOn(sqliteStore(path), executions);
    const b = agentOn(sqliteStore(path), executions);
    const paused = await pauseRuns(a, 'file');
    await race(a, b, paused, executions, sqliteStore(path));
    expect(executions.size).toBe(RUNS);
  });

  it('when both read the paused run before either claims it, the versioned save refuses the second', async () => {
    const path = join(tempDir(), 'sessions.db');
    const executions: Executions = new Map();
    const a = agentOn(new SlowReads(sqliteStore(path)), executions);
    const b = agentOn(new SlowReads(sqliteStore(path)), executions);
    const paused = await pauseRuns(a, 'slow');
    const refusals = await race(a, b, paused, executions, sqliteStore(path));
    // Every loser lost at its save, not by finding the run already taken.
    for (const message of refusals) expect(message).toMatch(/was resumed by another agent or process first/);
  });
});

describe('one agent, one store, two concurrent continueRun calls', () => {
  for (const [name, makeStore] of [
    ['MemorySessionStore', () => new MemorySessionStore()],
    ['SqliteSessionStore', () => sqliteStore()],
  ] as const) {
    it(`exactly one resume wins, the other rejects with RunNotPausedError, and the tool runs once (${name})`, async () => {
      const store = makeStore();
      const executions: Executions = new Map();
      const agent = agentOn(store, executions);
      const paused = await pauseRuns(agent, name);
      await race(agent, agent, paused, executions, store);
    });
  }
});
