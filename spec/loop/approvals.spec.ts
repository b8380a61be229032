/**
 * Human approval (DESIGN §9): a tool that requires approval pauses the run; continueRun()/continueStream() resume
 * it once, through the same hooks. End to end through the real OpenAIChat and the fake server on 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  Agent,
  HookchainConfigError,
  MemorySessionStore,
  OpenAIChat,
  OutputCheckError,
  RunNotPausedError,
  hook,
  tool,
  type AgentEvents,
  type PostHookArgs,
  type RunEvent,
  type SessionStore,
  type ToolCall,
} from 'hookchain';
import { startFakeOpenAI, type FakeOpenAI } from 'hookchain/testing';
import { rejection, sqliteStore, storedRuns } from './approvals-helpers.ts';

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(() => fake.close());

const MARKER = 'FORBIDDEN-7731';

interface World {
  agent: Agent;
  store: SessionStore;
  /** What ran, in order: `pre`, `post:<status>`, `hook>tool:callId`, `hook<tool:callId`, `exec:tool:callId`. */
  log: string[];
  /** Every `execute` of a tool, as `tool:callId`. */
  executed: string[];
  /** The background post-hook's calls: the status it saw. */
  analytics: string[];
  /** Events the agent emitted, with their names. */
  events: { name: keyof AgentEvents; payload: unknown }[];
}

interface WorldOptions {
  store?: SessionStore;
  /** Leave out the guardrail, the tool hook or the refund tool (an agent built differently). */
  without?: 'guardrail' | 'toolHook' | 'refundTool';
  name?: string;
}

/** The agent under test: a pre-hook, a post-hook guardrail, a background post-hook, a tool hook and three tools. */
function world(options: WorldOptions = {}): World {
  const log: string[] = [];
  const executed: string[] = [];
  const background: string[] = [];
  const events: World['events'] = [];
  const lookup = tool({
    name: 'lookup',
    description: 'Look up an order',
    parameters: z.object({ orderId: z.string() }),
    execute: ({ orderId }, { callId }) => {
      executed.push(`lookup:${callId}`);
      log.push(`exec:lookup:${callId}`);
      return { orderId, status: 'shipped' };
    },
  });
  const refund = tool({
    name: 'refund',
    description: 'Refund an order',
    parameters: z.object({ orderId: z.string(), amount: z.number().default(10) }),
    requiresApproval: true,
    execute: ({ orderId, amount }, { callId }) => {
      executed.push(`refund:${callId}`);
      log.push(`exec:refund:${callId}`);
      return { refunded: orderId, amount };
    },
  });
  const transfer = tool({
    name: 'transfer',
    description: 'Move money',
    parameters: z.object({ amount: z.number() }),
    // Only large transfers wait for a human.
    requiresApproval: ({ amount }, runContext) => {
      log.push(`ask:transfer:${amount}:${runContext.runId}`);
      return Promise.resolve(amount > 100);
    },
    execute: ({ amount }, { callId }) => {
      executed.push(`transfer:${callId}`);
      return { moved: amount };
    },
  });
  async function audit(call: ToolCall, next: () => Promise<void>) {
    log.push(`hook>${call.toolName}:${call.callId}`);
    await next();
    log.push(`hook<${call.toolName}:${call.callId}`);
  }
  function count_pre() {
    log.push('pre');
  }
  function no_marker({ runOutput }: PostHookArgs) {
    log.push(`post:${runOutput.status}`);
    if (runOutput.content?.includes(MARKER)) throw new OutputCheckError('the answer names a forbidden code');
  }
  const store = options.store ?? new MemorySessionStore();
  const agent = new Agent({
    name: options.name ?? 'support',
    model: new OpenAIChat({ id: 'gpt-test', client: fake.client() }),
    sessionStore: store,
    tools: options.without === 'refundTool' ? [lookup, transfer] : [lookup, refund, transfer],
    toolHooks: options.without === 'toolHook' ? [] : [audit],
    preHooks: [count_pre],
    postHooks: [
      ...(options.without === 'guardrail' ? [] : [no_marker]),
      hook({ runInBackground: true })(function analytics({ runOutput }: PostHookArgs) {
        background.push(runOutput.status);
      }),
    ],
    logger: { debug() {}, warn() {} },
  });
  const names: (keyof AgentEvents)[] = [
    'run_paused',
    'run_completed',
    'run_error',
    'tool_call_started',
    'tool_call_completed',
    'tool_call_failed',
  ];
  for (const name of names) agent.on(name, (payload: unknown) => void events.push({ name, payload }));
  return { agent, store, log, executed, analytics: background, events };
}

const lookupAndRefund = {
  toolCalls: [
    { id: 'c_look', name: 'lookup', arguments: { orderId: 'A-1' } },
    { id: 'c_ref', name: 'refund', arguments: { orderId: 'A-1' } },
  ],
};

async function collect(iterable: AsyncIterable<RunEvent>): Promise<RunEvent[]> {
  const events: RunEvent[] = [];
  for await (const ev of iterable) events.push(ev);
  return events;
}

describe('a tool that requires approval pauses the run', () => {
  it('resolves paused: the pending call with its validated args, the sibling call completed, no post-hook, nothing flushed', async () => {
    const w = world();
    fake.setReplies([lookupAndRefund]);
    const requestsBefore = fake.chatRequests().length;
    const out = await w.agent.run('Refund A-1', { sessionId: 's-pause' });

    expect(out.status).toBe('paused');
    expect(out.content).toBeUndefined();
    expect(out.pendingApprovals).toEqual([{ callId: 'c_ref', toolName: 'refund', args: { orderId: 'A-1', amount: 10 } }]);
    expect(out.toolCalls).toEqual([
      {
        callId: 'c_look',
        toolName: 'lookup',
        args: { orderId: 'A-1' },
        result: { orderId: 'A-1', status: 'shipped' },
        status: 'completed',
      },
      { callId: 'c_ref', toolName: 'refund', args: { orderId: 'A-1', amount: 10 }, status: 'pending_approval' },
    ]);
    // The sibling went through the tool hook and ran; the refund did neither.
    expect(w.log).toEqual(['pre', 'hook>lookup:c_look', 'exec:lookup:c_look', 'hook<lookup:c_look']);
    expect(w.executed).toEqual(['lookup:c_look']);
    expect(fake.chatRequests().length - requestsBefore).toBe(1);
    // No tool message is appended before every call of the answer is settled.
    expect(out.messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    await w.agent.drain();
    expect(w.analytics).toEqual([]);
    expect(w.events.filter((e) => e.name === 'run_completed')).toEqual([]);
    const paused = w.events.filter((e) => e.name === 'run_paused');
    expect(paused).toHaveLength(1);
    expect(paused[0]!.payload).toMatchObject({ runId: out.runId, pendingApprovals: out.pendingApprovals });
  });

  it('saves the paused run in the store, with the hooks and tools it paused with', async () => {
    const w = world();
    fake.setReplies([lookupAndRefund]);
    const out = await w.agent.run('Refund A-1', { sessionId: 's-saved' });
    const [stored, ...more] = await storedRuns(w.store, 's-saved', out.runId);
    expect(more).toEqual([]);
    expect(stored).toMatchObject({ status: 'paused', pendingApprovals: out.pendingApprovals, toolCalls: out.toolCalls });
    expect(stored!.pausedWith).toEqual({
      hooks: ['pre:count_pre', 'post:no_marker', 'post:analytics', 'tool:audit'],
      tools: ['lookup', 'refund', 'transfer'],
    });
  });

  it('saves a one-off run (no sessionId) under its runId, and resumes it from there', async () => {
    const w = world();
    fake.setReplies([lookupAndRefund]);
    const out = await w.agent.run('Refund A-1');
    expect(out.status).toBe('paused');
    expect(out.sessionId).toBe(out.runId);
    expect((await storedRuns(w.store, out.runId, out.runId)).map((r) => r.status)).toEqual(['paused']);

    fake.setReplies(['Refunded.']);
    const done = await w.agent.continueRun({ sessionId: out.runId, runId: out.runId, approvals: [{ callId: 'c_ref', approved: true }] });
    expect(done.status).toBe('completed');
    expect(w.executed).toEqual(['lookup:c_look', 'refund:c_ref']);
  });

  it('stream(): run_paused is the last event, with the pending calls, and finalOutput resolves paused', async () => {
    const w = world();
    fake.setReplies([{ content: 'Let me check.', ...lookupAndRefund }]);
    const stream = w.agent.stream('Refund A-1', { sessionId: 's-stream' });
    const events = await collect(stream);
    const last = events.at(-1)!;
    expect(last.type).toBe('run_paused');
    const final = await stream.finalOutput;
    expect(final.status).toBe('paused');
    expect(last).toMatchObject({
      runId: final.runId,
      pendingApprovals: [{ callId: 'c_ref', toolName: 'refund', args: { orderId: 'A-1', amount: 10 } }],
    });
    expect(events.map((e) => e.type)).not.toContain('run_completed');
    expect(events.map((e) => e.type)).not.toContain('post_hook_started');
    // The sibling's tool events reach the consumer too.
    expect(events.filter((e) => e.type.startsWith('tool_call_')).map((e) => `${e.type}:${(e as { callId: string }).callId}`)).toEqual([
      'tool_call_started:c_look',
      'tool_call_completed:c_look',
    ]);
  });

  it('asks a requiresApproval function per call, with the validated args and the run context', async () => {
    const w = world();
    fake.setReplies([
      {
        toolCalls: [
          { id: 't_small', name: 'transfer', arguments: { amount: 50 } },
          { id: 't_large', name: 'transfer', arguments: { amount: 500 } },
        ],
      },
    ]);
    const out = await w.agent.run('Move money', { sessionId: 's-fn' });
    expect(out.status).toBe('paused');
    expect(out.pendingApprovals).toEqual([{ callId: 't_large', toolName: 'transfer', args: { amount: 500 } }]);
    expect(w.executed).toEqual(['transfer:t_small']);
    expect(w.log.filter((l) => l.startsWith('ask:'))).toEqual([`ask:transfer:50:${out.runId}`, `ask:transfer:500:${out.runId}`]);
    expect(out.toolCalls.map((c) => [c.callId, c.status])).toEqual([
      ['t_small', 'completed'],
      ['t_large', 'pending_approval'],
    ]);
  });

  it('does not pause when the function says no to every call', async () => {
    const w = world();
    fake.setReplies([{ toolCalls: [{ id: 't1', name: 'transfer', arguments: { amount: 5 } }] }, 'Moved.']);
    const out = await w.agent.run('Move 5');
    expect(out.status).toBe('completed');
    expect(out.pendingApprovals).toBeUndefined();
    expect(w.executed).toEqual(['transfer:t1']);
  });
});

const stores: [string, () => SessionStore][] = [
  ['MemorySessionStore', () => new MemorySessionStore()],
  ['SqliteSessionStore', () => sqliteStore()],
];

describe('continueRun()', () => {
  for (const [storeName, makeStore] of stores) {
    it(`approve (${storeName}): the tool runs through the tool hook, the model reads its result, then post-hooks run and background hooks flush; one stored record`, async () => {
      const w = world({ store: makeStore() });
      fake.setReplies([lookupAndRefund]);
      const paused = await w.agent.run('Refund A-1', { sessionId: 's-approve' });
      w.log.length = 0;
      w.events.length = 0;

      fake.setReplies(['Refunded A-1.']);
      const out = await w.agent.continueRun({
        sessionId: 's-approve',
        runId: paused.runId,
        approvals: [{ callId: 'c_ref', approved: true }],
      });

      expect(out.status).toBe('completed');
      expect(out.content).toBe('Refunded A-1.');
      expect(out.runId).toBe(paused.runId);
      expect(out.pendingApprovals).toBeUndefined();
      expect(out.pausedWith).toBeUndefined();
      expect(out.metrics.steps).toBe(2);
      // No pre-hook again; the approved call through the tool hook, then the post-hook on the final answer.
      expect(w.log).toEqual(['hook>refund:c_ref', 'exec:refund:c_ref', 'hook<refund:c_ref', 'post:running']);
      expect(w.executed).toEqual(['lookup:c_look', 'refund:c_ref']);
      expect(out.toolCalls).toEqual([
        {
          callId: 'c_look',
          toolName: 'lookup',
          args: { orderId: 'A-1' },
          result: { orderId: 'A-1', status: 'shipped' },
          status: 'completed',
        },
        {
          callId: 'c_ref',
          toolName: 'refund',
          args: { orderId: 'A-1', amount: 10 },
          result: { refunded: 'A-1', amount: 10 },
          status: 'completed',
        },
      ]);
      // The model read both results, in the answer's order.
      const sent = fake.chatRequests().at(-1)!.messages;
      expect(sent.slice(-2)).toEqual([
        { role: 'tool', tool_call_id: 'c_look', content: JSON.stringify({ orderId: 'A-1', status: 'shipped' }) },
        { role: 'tool', tool_call_id: 'c_ref', content: JSON.stringify({ refunded: 'A-1', amount: 10 }) },
      ]);
      expect(w.events.map((e) => e.name)).toEqual(['tool_call_started', 'tool_call_completed', 'run_completed']);
      await w.agent.drain();
      expect(w.analytics).toEqual(['completed']);

      const records = await storedRuns(w.store, 's-approve', paused.runId);
      expect(records.map((r) => r.status)).toEqual(['completed']);
      expect(records[0]).toMatchObject({ content: 'Refunded A-1.', toolCalls: out.toolCalls });
      expect(records[0]).not.toHaveProperty('pendingApprovals');
    });

    it(`a second resume (${storeName}) rejects with RunNotPausedError and runs nothing`, async () => {
      const w = world({ store: makeStore() });
      fake.setReplies([lookupAndRefund]);
      const paused = await w.agent.run('Refund A-1', { sessionId: 's-twice' });
      fake.setReplies(['Refunded.']);
      const approvals = [{ callId: 'c_ref', approved: true as const }];
      await w.agent.continueRun({ sessionId: 's-twice', runId: paused.runId, approvals });
      const requests = fake.chatRequests().length;

      const error = await rejection(w.agent.continueRun({ sessionId: 's-twice', runId: paused.runId, approvals }));
      expect(error).toBeInstanceOf(RunNotPausedError);
      expect(error.message).toMatch(/resumes at most once/);
      expect(w.executed).toEqual(['lookup:c_look', 'refund:c_ref']);
      expect(fake.chatRequests().length).toBe(requests);
      expect((await storedRuns(w.store, 's-twice', paused.runId)).map((r) => r.status)).toEqual(['completed']);
    });
  }

  it('deny: the tool never runs, the model reads {"error":"denied: <reason>"}, the call is denied, tool_call_failed says denied', async () => {
    const w = world();
    fake.setReplies([
      {
        toolCalls: [
          { id: 'r1', name: 'refund', arguments: { orderId: 'A-1' } },
          { id: 'r2', name: 'refund', arguments: { orderId: 'B-2', amount: 99 } },
          { id: 'r3', name: 'refund', arguments: { orderId: 'C-3' } },
        ],
      },
    ]);
    const paused = await w.agent.run('Refund all', { sessionId: 's-deny' });
    expect(paused.pendingApprovals!.map((p) => p.callId)).toEqual(['r1', 'r2', 'r3']);
    w.log.length = 0;
    w.events.length = 0;

    fake.setReplies(['Refunded A-1 only.']);
    const out = await w.agent.continueRun({
      sessionId: 's-deny',
      runId: paused.runId,
      approvals: [
        { callId: 'r2', approved: false, reason: 'over the limit' },
        { callId: 'r1', approved: true },
        { callId: 'r3', approved: false },
      ],
    });

    expect(out.status).toBe('completed');
    expect(w.executed).toEqual(['refund:r1']);
    // A denied call does not enter the tool onion.
    expect(w.log.filter((l) => l.startsWith('hook'))).toEqual(['hook>refund:r1', 'hook<refund:r1']);
    expect(out.toolCalls.map((c) => ({ callId: c.callId, status: c.status, error: c.error }))).toEqual([
      { callId: 'r1', status: 'completed', error: undefined },
      { callId: 'r2', status: 'denied', error: 'denied: over the limit' },
      { callId: 'r3', status: 'denied', error: 'denied: not approved' },
    ]);
    expect(fake.chatRequests().at(-1)!.messages.slice(-3)).toEqual([
      { role: 'tool', tool_call_id: 'r1', content: JSON.stringify({ refunded: 'A-1', amount: 10 }) },
      { role: 'tool', tool_call_id: 'r2', content: '{"error":"denied: over the limit"}' },
      { role: 'tool', tool_call_id: 'r3', content: '{"error":"denied: not approved"}' },
    ]);
    const failed = w.events.filter((e) => e.name === 'tool_call_failed').map((e) => e.payload);
    expect(failed).toEqual([
      {
        runId: paused.runId,
        toolName: 'refund',
        callId: 'r2',
        reason: 'denied',
        error: { name: 'ApprovalDenied', message: 'denied: over the limit' },
      },
      {
        runId: paused.runId,
        toolName: 'refund',
        callId: 'r3',
        reason: 'denied',
        error: { name: 'ApprovalDenied', message: 'denied: not approved' },
      },
    ]);
    // No event carries the arguments.
    expect(JSON.stringify(failed)).not.toContain('B-2');
  });

  it('continueStream() yields the rest of the run, without pre-hooks, and ends with run_completed', async () => {
    const w = world();
    fake.setReplies([lookupAndRefund]);
    const paused = await w.agent.run('Refund A-1', { sessionId: 's-cstream' });
    fake.setReplies([{ content: 'Refund of A-1 is on its way.', chunkSize: 5 }]);
    const stream = w.agent.continueStream({
      sessionId: 's-cstream',
      runId: paused.runId,
      approvals: [{ callId: 'c_ref', approved: true }],
    });
    const events = await collect(stream);
    const types = events.map((e) => e.type);

    expect(types.at(-1)).toBe('run_completed');
    expect(types).not.toContain('pre_hook_started');
    expect(types).toContain('post_hook_started');
    expect(
      events
        .filter((e) => e.type === 'content')
        .map((e) => (e as { delta: string }).delta)
        .join(''),
    ).toBe('Refund of A-1 is on its way.');
    expect(events.filter((e) => e.type.startsWith('tool_call_')).map((e) => `${e.type}:${(e as { callId: string }).callId}`)).toEqual([
      'tool_call_started:c_ref',
      'tool_call_completed:c_ref',
    ]);
    const final = await stream.finalOutput;
    expect(final).toMatchObject({ status: 'completed', content: 'Refund of A-1 is on its way.', runId: paused.runId });
    expect(w.log.filter((l) => l === 'pre')).toEqual(['pre']);
  });

  it('a resumed run may pause again; each pause is resumed once and the run completes with every call recorded once', async () => {
    const w = world();
    fake.setReplies([{ toolCalls: [{ id: 'p1', name: 'refund', arguments: { orderId: 'A-1' } }] }]);
    const first = await w.agent.run('Refund two orders', { sessionId: 's-again' });
    fake.setReplies([{ toolCalls: [{ id: 'p2', name: 'refund', arguments: { orderId: 'B-2' } }] }]);
    const second = await w.agent.continueRun({ sessionId: 's-again', runId: first.runId, approvals: [{ callId: 'p1', approved: true }] });
    expect(second.status).toBe('paused');
    expect(second.pendingApprovals).toEqual([{ callId: 'p2', toolName: 'refund', args: { orderId: 'B-2', amount: 10 } }]);
    expect((await storedRuns(w.store, 's-again', first.runId)).map((r) => r.status)).toEqual(['paused']);
    await w.agent.drain();
    expect(w.analytics).toEqual([]);

    // The first pause's decisions do not resume the second.
    const stale = await rejection(
      w.agent.continueRun({ sessionId: 's-again', runId: first.runId, approvals: [{ callId: 'p1', approved: true }] }),
    );
    expect(stale).toBeInstanceOf(HookchainConfigError);

    fake.setReplies(['Both refunded.']);
    const done = await w.agent.continueRun({ sessionId: 's-again', runId: first.runId, approvals: [{ callId: 'p2', approved: true }] });
    expect(done.status).toBe('completed');
    expect(done.toolCalls.map((c) => [c.callId, c.status])).toEqual([
      ['p1', 'completed'],
      ['p2', 'completed'],
    ]);
    expect(w.executed).toEqual(['refund:p1', 'refund:p2']);
    expect(w.log.filter((l) => l === 'pre' || l.startsWith('post'))).toEqual(['pre', 'post:running']);
    await w.agent.drain();
    expect(w.analytics).toEqual(['completed']);
    expect((await storedRuns(w.store, 's-again', first.runId)).map((r) => r.status)).toEqual(['completed']);
  });
});

describe('resuming what cannot be resumed', () => {
  it('an unknown runId or an unknown session rejects with RunNotPausedError', async () => {
    const w = world();
    fake.setReplies([lookupAndRefund]);
    const paused = await w.agent.run('Refund A-1', { sessionId: 's-unknown' });
    const approvals = [{ callId: 'c_ref', approved: true as const }];

    const noRun = await rejection(w.agent.continueRun({ sessionId: 's-unknown', runId: 'no-such-run', approvals }));
    expect(noRun).toBeInstanceOf(RunNotPausedError);
    expect(noRun.message).toContain('no-such-run');
    const noSession = await rejection(w.agent.continueRun({ sessionId: 'no-such-session', runId: paused.runId, approvals }));
    expect(noSession).toBeInstanceOf(RunNotPausedError);
    expect(noSession.message).toContain('no-such-session');
    // A completed run is not paused either.
    fake.setReplies(['Hello.']);
    const plain = await w.agent.run('Hi', { sessionId: 's-unknown-2' });
    const completed = await rejection(w.agent.continueRun({ sessionId: 's-unknown-2', runId: plain.runId, approvals: [] }));
    expect(completed).toBeInstanceOf(RunNotPausedError);
    expect(completed.message).toContain('completed');
    expect(w.executed).toEqual(['lookup:c_look']);
  });

  const bad: [string, unknown, string, RegExp][] = [
    [
      'an unknown callId',
      [
        { callId: 'c_ref', approved: true },
        { callId: 'c_nope', approved: true },
      ],
      'UNKNOWN_CALL',
      /c_nope/,
    ],
    ['a missing decision', [], 'MISSING_APPROVAL', /missing: c_ref/],
    [
      'two decisions for one call',
      [
        { callId: 'c_ref', approved: true },
        { callId: 'c_ref', approved: false },
      ],
      'INVALID_OPTION',
      /"c_ref" has two decisions/,
    ],
    ['approvals that are not an array', { c_ref: true }, 'INVALID_OPTION', /approvals/],
    ['a decision without approved', [{ callId: 'c_ref' }], 'INVALID_OPTION', /approvals\[0\]/],
    ['an approved that is not a boolean', [{ callId: 'c_ref', approved: 'yes' }], 'INVALID_OPTION', /approvals\[0\]/],
    ['a reason that is not a string', [{ callId: 'c_ref', approved: false, reason: 42 }], 'INVALID_OPTION', /approvals\[0\]\.reason/],
    ['a decision that is not an object', ['c_ref'], 'INVALID_OPTION', /approvals\[0\]/],
  ];
  it('bad approvals reject with HookchainConfigError naming the problem; the run stays paused and resumes correctly after', async () => {
    const w = world();
    fake.setReplies([lookupAndRefund]);
    const paused = await w.agent.run('Refund A-1', { sessionId: 's-bad' });
    const requests = fake.chatRequests().length;
    for (const [what, approvals, code, message] of bad) {
      const error = await rejection(w.agent.continueRun({ sessionId: 's-bad', runId: paused.runId, approvals: approvals as never }));
      expect(error, what).toBeInstanceOf(HookchainConfigError);
      expect(error.code, what).toBe(code);
      expect(error.message, what).toMatch(message);
      expect(
        (await storedRuns(w.store, 's-bad', paused.runId)).map((r) => r.status),
        what,
      ).toEqual(['paused']);
    }
    expect(w.executed).toEqual(['lookup:c_look']);
    expect(fake.chatRequests().length).toBe(requests);

    fake.setReplies(['Refunded.']);
    const out = await w.agent.continueRun({ sessionId: 's-bad', runId: paused.runId, approvals: [{ callId: 'c_ref', approved: true }] });
    expect(out.status).toBe('completed');
    expect(w.executed).toEqual(['lookup:c_look', 'refund:c_ref']);
  });

  for (const [without, names] of [
    ['guardrail', /post-hook no_marker/],
    ['toolHook', /tool-hook audit/],
    ['refundTool', /tool refund/],
  ] as const) {
    it(`an agent without the ${without} the run paused with is refused (RESUME_AGENT_MISMATCH); the run stays paused`, async () => {
      const store = new MemorySessionStore();
      const original = world({ store });
      fake.setReplies([lookupAndRefund]);
      const paused = await original.agent.run('Refund A-1', { sessionId: 's-mismatch' });
      const requests = fake.chatRequests().length;

      const other = world({ store, without });
      const approvals = [{ callId: 'c_ref', approved: true as const }];
      const error = await rejection(other.agent.continueRun({ sessionId: 's-mismatch', runId: paused.runId, approvals }));
      expect(error).toBeInstanceOf(HookchainConfigError);
      expect(error.code).toBe('RESUME_AGENT_MISMATCH');
      expect(error.message).toMatch(names);
      expect(other.executed).toEqual([]);
      expect(fake.chatRequests().length).toBe(requests);
      expect((await storedRuns(store, 's-mismatch', paused.runId)).map((r) => r.status)).toEqual(['paused']);

      // The agent built like the original still can, and its guardrail runs.
      fake.setReplies(['Refunded.']);
      const out = await original.agent.continueRun({ sessionId: 's-mismatch', runId: paused.runId, approvals });
      expect(out.status).toBe('completed');
      expect(original.log.at(-1)).toBe('post:running');
    });
  }

  it('an agent of another name is refused (SESSION_AGENT_MISMATCH); the run stays paused', async () => {
    const store = new MemorySessionStore();
    const original = world({ store });
    fake.setReplies([lookupAndRefund]);
    const paused = await original.agent.run('Refund A-1', { sessionId: 's-other' });
    const other = world({ store, name: 'billing' });
    const error = await rejection(
      other.agent.continueRun({ sessionId: 's-other', runId: paused.runId, approvals: [{ callId: 'c_ref', approved: true }] }),
    );
    expect(error).toBeInstanceOf(HookchainConfigError);
    expect(error.code).toBe('SESSION_AGENT_MISMATCH');
    expect((await storedRuns(store, 's-other', paused.runId)).map((r) => r.status)).toEqual(['paused']);
  });
});

describe('a resumed run fails closed', () => {
  it('when a post-hook guardrail blocks its final answer: status error, the blocked text nowhere in the store, nothing flushed', async () => {
    const w = world();
    fake.setReplies([lookupAndRefund]);
    const paused = await w.agent.run('Refund A-1', { sessionId: 's-blocked' });
    fake.setReplies([`Your code is ${MARKER}.`]);

    const error = await rejection(
      w.agent.continueRun({ sessionId: 's-blocked', runId: paused.runId, approvals: [{ callId: 'c_ref', approved: true }] }),
    );
    expect(error).toBeInstanceOf(OutputCheckError);
    expect(error.runOutput).toMatchObject({
      status: 'error',
      content: undefined,
      error: { type: 'output_check_error', hookName: 'no_marker' },
    });
    expect(w.executed).toEqual(['lookup:c_look', 'refund:c_ref']);
    const records = await storedRuns(w.store, 's-blocked', paused.runId);
    expect(records.map((r) => r.status)).toEqual(['error']);
    expect(records[0]).not.toHaveProperty('pendingApprovals');
    expect(JSON.stringify(await w.store.get('s-blocked'))).not.toContain(MARKER);
    expect(JSON.stringify(w.events)).not.toContain(MARKER);
    expect(w.events.at(-1)!.name).toBe('run_error');
    await w.agent.drain();
    expect(w.analytics).toEqual([]);
    // A failed run is not paused: it cannot be resumed again.
    expect(
      await rejection(
        w.agent.continueRun({ sessionId: 's-blocked', runId: paused.runId, approvals: [{ callId: 'c_ref', approved: true }] }),
      ),
    ).toBeInstanceOf(RunNotPausedError);
  });

  it('in continueStream() too: run_error ends the stream and no blocked text reaches the consumer', async () => {
    const w = world();
    fake.setReplies([lookupAndRefund]);
    const paused = await w.agent.run('Refund A-1', { sessionId: 's-blocked-stream' });
    fake.setReplies([{ content: `Your code is ${MARKER}.`, chunkSize: 3 }]);
    const stream = w.agent.continueStream({
      sessionId: 's-blocked-stream',
      runId: paused.runId,
      approvals: [{ callId: 'c_ref', approved: true }],
    });
    const events: RunEvent[] = [];
    let thrown: unknown;
    try {
      for await (const ev of stream) events.push(ev);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(OutputCheckError);
    await expect(stream.finalOutput).rejects.toBeInstanceOf(OutputCheckError);
    expect(events.at(-1)!.type).toBe('run_error');
    expect(JSON.stringify(events)).not.toContain(MARKER);
    expect(JSON.stringify(await w.store.get('s-blocked-stream'))).not.toContain(MARKER);
  });
});
