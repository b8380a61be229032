/** The agent loop end to end: the real OpenAIChat over the fake server on 127.0.0.1, real tools, real events. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  Agent,
  MaxStepsExceededError,
  MemorySessionStore,
  RunAbortedError,
  ToolCallError,
  hook,
  tool,
  type RunEvent,
  type RunOutput,
  type ToolExecuteContext,
} from 'hookchain';
import { OfflineModel, startFakeOpenAI, type FakeOpenAI } from 'hookchain/testing';
import { chatModel, collect, deferred, deltas, listen, ofType, sleep, untilAborted } from './loop-kit.ts';

let fake: FakeOpenAI;
beforeEach(async () => {
  fake = await startFakeOpenAI();
});
afterEach(() => fake.close());

const getOrder = tool({
  name: 'get_order',
  description: 'Look up an order by its id',
  parameters: z.object({ orderId: z.string() }),
  execute: ({ orderId }) => ({ orderId, status: 'shipped' }),
});

/** A tool that answers after `delays[orderId]` ms and records when it started and ended. */
function slowTool(delays: Record<string, number>, log: string[] = []) {
  let inFlight = 0;
  const seen = { maxInFlight: 0, log };
  const t = tool({
    name: 'slow',
    description: 'Answers after a while',
    parameters: z.object({ id: z.string() }),
    execute: async ({ id }) => {
      inFlight++;
      seen.maxInFlight = Math.max(seen.maxInFlight, inFlight);
      log.push(`start:${id}`);
      await sleep(delays[id] ?? 20);
      log.push(`end:${id}`);
      inFlight--;
      return { id };
    },
  });
  return { tool: t, seen };
}

describe('the loop: a tool call, its result, then the answer', () => {
  it('runs the tool, sends its result back and completes with the text answer', async () => {
    fake.setReplies([{ toolCalls: [{ id: 'call_a', name: 'get_order', arguments: { orderId: 'A-17' } }] }, 'A-17 has shipped.']);
    const agent = new Agent({ model: chatModel(fake), tools: [getOrder] });
    const output = await agent.run('Where is A-17?');
    expect(output.status).toBe('completed');
    expect(output.content).toBe('A-17 has shipped.');
    expect(output.metrics.steps).toBe(2);
    expect(output.toolCalls).toEqual([
      {
        callId: 'call_a',
        toolName: 'get_order',
        args: { orderId: 'A-17' },
        result: { orderId: 'A-17', status: 'shipped' },
        status: 'completed',
      },
    ]);
    expect(fake.chatRequests()).toHaveLength(2);
  });

  it('the second request carries the assistant tool_calls message, then the tool message with the JSON result', async () => {
    fake.setReplies([{ toolCalls: [{ id: 'call_a', name: 'get_order', arguments: { orderId: 'A-17' } }] }, 'Shipped.']);
    const agent = new Agent({ model: chatModel(fake), instructions: 'Be brief.', tools: [getOrder] });
    await agent.run('Where is A-17?');
    const [first, second] = fake.chatRequests();
    expect(first!.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Where is A-17?' },
    ]);
    expect(first!.tools?.map((t) => t.function.name)).toEqual(['get_order']);
    expect(second!.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Where is A-17?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'call_a', type: 'function', function: { name: 'get_order', arguments: '{"orderId":"A-17"}' } }],
      },
      { role: 'tool', tool_call_id: 'call_a', content: '{"orderId":"A-17","status":"shipped"}' },
    ]);
    expect(second!.tools?.map((t) => t.function.name)).toEqual(['get_order']);
  });

  it('keeps the model order for results and records when calls of one answer finish in another order', async () => {
    const log: string[] = [];
    const { tool: slow } = slowTool({ a: 80, b: 5, c: 40 }, log);
    fake.setReplies([
      {
        toolCalls: [
          { id: 'call_a', name: 'slow', arguments: { id: 'a' } },
          { id: 'call_b', name: 'slow', arguments: { id: 'b' } },
          { id: 'call_c', name: 'slow', arguments: { id: 'c' } },
        ],
      },
      'All three.',
    ]);
    const agent = new Agent({ model: chatModel(fake), tools: [slow] });
    const events = listen(agent);
    const output = await agent.run('go');
    // They ran at once (default toolConcurrency 4) and finished fastest first…
    expect(log.slice(0, 3)).toEqual(['start:a', 'start:b', 'start:c']);
    expect(ofType(events, 'tool_call_completed').map((e) => e.callId)).toEqual(['call_b', 'call_c', 'call_a']);
    // …but the model reads them, and the run records them, in the order it asked.
    expect(output.toolCalls.map((r) => [r.callId, r.result])).toEqual([
      ['call_a', { id: 'a' }],
      ['call_b', { id: 'b' }],
      ['call_c', { id: 'c' }],
    ]);
    const tools = fake.chatRequests()[1]!.messages.filter((m) => m.role === 'tool');
    expect(tools.map((m) => [m.tool_call_id, m.content])).toEqual([
      ['call_a', '{"id":"a"}'],
      ['call_b', '{"id":"b"}'],
      ['call_c', '{"id":"c"}'],
    ]);
    expect(output.metrics.steps).toBe(2);
    expect(output.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'tool', 'tool', 'assistant']);
  });

  it('runs at most toolConcurrency calls at once, and all of them', async () => {
    const { tool: slow, seen } = slowTool({ a: 30, b: 30, c: 30, d: 30, e: 30 });
    fake.setReplies([
      { toolCalls: ['a', 'b', 'c', 'd', 'e'].map((id) => ({ id: `call_${id}`, name: 'slow', arguments: { id } })) },
      'done',
    ]);
    const agent = new Agent({ model: chatModel(fake), tools: [slow], toolConcurrency: 2 });
    const output = await agent.run('go');
    expect(seen.maxInFlight).toBe(2);
    expect(seen.log.filter((l) => l.startsWith('end:'))).toHaveLength(5);
    expect(output.toolCalls.map((r) => r.status)).toEqual(Array(5).fill('completed'));
    expect(fake.chatRequests()[1]!.messages.filter((m) => m.role === 'tool')).toHaveLength(5);
  });

  it('fails with MaxStepsExceededError when the model still calls tools at maxSteps, without running that answer’s tools', async () => {
    let runs = 0;
    const counted = tool({
      name: 'get_order',
      description: 'Look up an order',
      parameters: z.object({ orderId: z.string() }),
      execute: ({ orderId }) => (runs++, { orderId }),
    });
    fake.setReplies([
      { toolCalls: [{ id: 'call_1', name: 'get_order', arguments: { orderId: 'A' } }] },
      { toolCalls: [{ id: 'call_2', name: 'get_order', arguments: { orderId: 'B' } }] },
      'never asked',
    ]);
    const agent = new Agent({ model: chatModel(fake), tools: [counted], maxSteps: 2 });
    const error = (await agent.run('go').catch((e: unknown) => e)) as MaxStepsExceededError;
    expect(error).toBeInstanceOf(MaxStepsExceededError);
    expect(error.maxSteps).toBe(2);
    expect(error.runOutput!.status).toBe('error');
    expect(error.runOutput!.error).toMatchObject({ type: 'max_steps_error', name: 'MaxStepsExceededError' });
    expect(runs).toBe(1);
    expect(fake.chatRequests()).toHaveLength(2);
    expect(error.runOutput!.metrics.steps).toBe(2);
  });
});

describe("a tool's own failure goes to the model (toolErrors: 'model', the default)", () => {
  const explode = tool({
    name: 'explode',
    description: 'Always fails',
    parameters: z.object({}),
    execute: () => {
      throw new Error('warehouse offline');
    },
  });
  const rejecting = tool({
    name: 'rejecting',
    description: 'Always rejects',
    parameters: z.object({}),
    execute: async () => {
      await sleep(1);
      throw new TypeError('inventory unreachable');
    },
  });
  const stuckSeen: { signal?: AbortSignal } = {};
  const forgetStuck = () => delete stuckSeen.signal;
  const stuck = tool({
    name: 'stuck',
    description: 'Never answers on its own',
    parameters: z.object({}),
    timeoutMs: 40,
    execute: (_args, { signal }) => {
      stuckSeen.signal = signal;
      return untilAborted(signal);
    },
  });

  const cases = [
    {
      what: 'invalid JSON arguments',
      call: { name: 'get_order', arguments: '{"orderId": "A-' },
      reason: 'invalid_arguments',
      error: /not valid JSON/,
    },
    {
      what: 'arguments that fail the schema',
      call: { name: 'get_order', arguments: { orderId: 17 } },
      reason: 'invalid_arguments',
      error: /orderId/,
    },
    {
      what: 'an unknown tool',
      call: { name: 'nope', arguments: {} },
      reason: 'invalid_arguments',
      error: /unknown tool "nope".*get_order/,
    },
    { what: 'execute throwing', call: { name: 'explode', arguments: {} }, reason: 'error', error: /^warehouse offline$/ },
    { what: 'execute rejecting', call: { name: 'rejecting', arguments: {} }, reason: 'error', error: /^inventory unreachable$/ },
    {
      what: 'execute outliving timeoutMs',
      call: { name: 'stuck', arguments: {} },
      reason: 'timeout',
      error: /did not finish within 40 ms/,
    },
  ] as const;

  for (const c of cases) {
    it(`${c.what}: the model reads {"error": …}, tool_call_failed says "${c.reason}", the record is failed, the run goes on`, async () => {
      fake.setReplies([{ toolCalls: [{ id: 'call_x', ...c.call }] }, 'Sorry, I could not look that up.']);
      const agent = new Agent({ model: chatModel(fake), tools: [getOrder, explode, rejecting, stuck] });
      const events = listen(agent);
      const output = await agent.run('go');
      expect(output.status).toBe('completed');
      expect(output.content).toBe('Sorry, I could not look that up.');
      const [record] = output.toolCalls;
      expect(record).toMatchObject({ callId: 'call_x', toolName: c.call.name, status: 'failed' });
      expect(record!.error).toMatch(c.error);
      expect(record).not.toHaveProperty('result');
      const toolMessage = fake.chatRequests()[1]!.messages.at(-1)!;
      expect(toolMessage.role).toBe('tool');
      expect(toolMessage.tool_call_id).toBe('call_x');
      expect(JSON.parse(toolMessage.content as string)).toEqual({ error: record!.error });
      const failed = ofType(events, 'tool_call_failed');
      expect(failed).toHaveLength(1);
      expect(failed[0]).toMatchObject({ runId: output.runId, toolName: c.call.name, callId: 'call_x', reason: c.reason });
      expect(failed[0]!.error.message).toBe(record!.error);
      expect(ofType(events, 'tool_call_completed')).toHaveLength(0);
    });
  }

  it('a timed-out tool’s signal is aborted', async () => {
    forgetStuck();
    fake.setReplies([{ toolCalls: [{ id: 'call_t', name: 'stuck', arguments: {} }] }, 'ok']);
    const agent = new Agent({ model: chatModel(fake), tools: [stuck] });
    await agent.run('go');
    expect(stuckSeen.signal?.aborted).toBe(true);
  });

  it("the run's later calls still run when one of the answer's calls failed", async () => {
    fake.setReplies([
      {
        toolCalls: [
          { id: 'call_1', name: 'explode', arguments: {} },
          { id: 'call_2', name: 'get_order', arguments: { orderId: 'B-2' } },
        ],
      },
      'Half done.',
    ]);
    const agent = new Agent({ model: chatModel(fake), tools: [getOrder, explode] });
    const output = await agent.run('go');
    expect(output.toolCalls.map((r) => r.status)).toEqual(['failed', 'completed']);
    expect(
      fake
        .chatRequests()[1]!
        .messages.filter((m) => m.role === 'tool')
        .map((m) => m.content),
    ).toEqual(['{"error":"warehouse offline"}', '{"orderId":"B-2","status":"shipped"}']);
  });
});

describe("toolErrors: 'fail'", () => {
  const explode = tool({
    name: 'explode',
    description: 'Always fails',
    parameters: z.object({}),
    execute: () => {
      throw new Error('warehouse offline');
    },
  });

  for (const [what, call, reason] of [
    ['execute throws', { name: 'explode', arguments: {} }, 'error'],
    ['the arguments are not JSON', { name: 'get_order', arguments: 'nope' }, 'invalid_arguments'],
    ['the arguments fail the schema', { name: 'get_order', arguments: { orderId: 1 } }, 'invalid_arguments'],
    ['the tool is unknown', { name: 'missing', arguments: {} }, 'invalid_arguments'],
  ] as const) {
    it(`fails the run with ToolCallError (tool_error) when ${what}, and calls the model no more`, async () => {
      fake.setReplies([{ toolCalls: [{ id: 'call_f', ...call }] }, 'never asked']);
      const agent = new Agent({ model: chatModel(fake), tools: [getOrder, explode], toolErrors: 'fail' });
      const events = listen(agent);
      const error = (await agent.run('go').catch((e: unknown) => e)) as ToolCallError;
      expect(error).toBeInstanceOf(ToolCallError);
      expect(error).toMatchObject({ toolName: call.name, callId: 'call_f', reason });
      expect(error.runOutput!.status).toBe('error');
      expect(error.runOutput!.error).toMatchObject({ type: 'tool_error', name: 'ToolCallError' });
      expect(error.runOutput!.content).toBeUndefined();
      expect(fake.chatRequests()).toHaveLength(1);
      expect(ofType(events, 'tool_call_failed').map((e) => e.reason)).toEqual([reason]);
      expect(ofType(events, 'run_error')).toHaveLength(1);
    });
  }
});

describe('what execute receives', () => {
  it('validated (transformed, defaulted) arguments and { runContext, signal, callId }', async () => {
    let seen: { args: unknown; context: ToolExecuteContext } | undefined;
    const ship = tool({
      name: 'ship',
      description: 'Ship an order',
      parameters: z.object({ orderId: z.string().transform((s) => s.toUpperCase()), quantity: z.number().default(1) }),
      execute: (args, context) => {
        seen = { args, context };
        return 'queued';
      },
    });
    fake.setReplies([{ toolCalls: [{ id: 'call_s', name: 'ship', arguments: { orderId: 'a-17' } }] }, 'Queued.']);
    const agent = new Agent({ model: chatModel(fake), tools: [ship], dependencies: { db: 'orders' } });
    const output = await agent.run('ship a-17', { userId: 'u1' });
    expect(seen!.args).toEqual({ orderId: 'A-17', quantity: 1 });
    expect(seen!.context.callId).toBe('call_s');
    expect(seen!.context.signal).toBeInstanceOf(AbortSignal);
    expect(seen!.context.signal.aborted).toBe(false);
    expect(seen!.context.runContext.runId).toBe(output.runId);
    expect(seen!.context.runContext.userId).toBe('u1');
    expect(seen!.context.runContext.dependencies).toEqual({ db: 'orders' });
    // The record holds the arguments as the tool received them; a string result goes to the model as it is.
    expect(output.toolCalls[0]).toMatchObject({ args: { orderId: 'A-17', quantity: 1 }, result: 'queued' });
    expect(fake.chatRequests()[1]!.messages.at(-1)!.content).toBe('queued');
  });

  it('aborting the run aborts the running tool’s signal; the run is cancelled and the model is not called again', async () => {
    const entered = deferred();
    let toolSignal: AbortSignal | undefined;
    const wait = tool({
      name: 'wait',
      description: 'Waits for its signal',
      parameters: z.object({}),
      execute: (_args, { signal }) => {
        toolSignal = signal;
        entered.resolve();
        return untilAborted(signal);
      },
    });
    fake.setReplies([{ toolCalls: [{ id: 'call_w', name: 'wait', arguments: {} }] }, 'never asked']);
    const agent = new Agent({ model: chatModel(fake), tools: [wait] });
    const controller = new AbortController();
    const running = agent.run('go', { signal: controller.signal }).catch((e: unknown) => e);
    await entered.promise;
    controller.abort(new Error('user left'));
    const error = (await running) as RunAbortedError;
    expect(error).toBeInstanceOf(RunAbortedError);
    expect(toolSignal!.aborted).toBe(true);
    expect(error.runOutput!.status).toBe('cancelled');
    expect(error.runOutput!.error!.type).toBe('abort_error');
    await sleep(20);
    expect(fake.chatRequests()).toHaveLength(1);
  });
});

describe('tool events', () => {
  it('carry runId, toolName and callId, never the arguments or the result', async () => {
    const secretTool = tool({
      name: 'vault',
      description: 'Reads the vault',
      parameters: z.object({ key: z.string() }),
      execute: ({ key }) => ({ value: `RESULT-${key}-TOKEN` }),
    });
    fake.setReplies([
      {
        toolCalls: [
          { id: 'call_ok', name: 'vault', arguments: { key: 'ARG-SECRET-1' } },
          { id: 'call_bad', name: 'vault', arguments: { key: 42, note: 'ARG-SECRET-2' } },
          { id: 'call_json', name: 'vault', arguments: '{"key": ARG-SECRET-3}' },
        ],
      },
      'done',
    ]);
    const agent = new Agent({ model: chatModel(fake), tools: [secretTool] });
    const events = listen(agent);
    const output = await agent.run('go');
    const toolEvents = events.filter((e) => e.type.startsWith('tool_call_'));
    expect(toolEvents.map((e) => `${e.type}:${(e as { callId: string }).callId}`).sort()).toEqual(
      [
        'tool_call_started:call_ok',
        'tool_call_completed:call_ok',
        'tool_call_started:call_bad',
        'tool_call_failed:call_bad',
        'tool_call_started:call_json',
        'tool_call_failed:call_json',
      ].sort(),
    );
    for (const e of toolEvents) expect(e).toMatchObject({ runId: output.runId, toolName: 'vault' });
    const serialised = JSON.stringify(toolEvents);
    expect(serialised).not.toMatch(/ARG-SECRET/);
    expect(serialised).not.toMatch(/RESULT-/);
    // The model itself did read them.
    expect(output.toolCalls[0]!.result).toEqual({ value: 'RESULT-ARG-SECRET-1-TOKEN' });
  });
});

describe('tool messages are part of the run', () => {
  it('are in output.messages, and in the next run’s history with addHistoryToContext', async () => {
    fake.setReplies([
      { toolCalls: [{ id: 'call_h', name: 'get_order', arguments: { orderId: 'H-1' } }] },
      'H-1 shipped.',
      'You asked about H-1.',
    ]);
    const agent = new Agent({
      model: chatModel(fake),
      tools: [getOrder],
      sessionStore: new MemorySessionStore(),
      addHistoryToContext: true,
    });
    const first = await agent.run('Where is H-1?', { sessionId: 's' });
    expect(first.messages).toEqual([
      { role: 'user', content: 'Where is H-1?' },
      { role: 'assistant', content: '', toolCalls: [{ callId: 'call_h', name: 'get_order', arguments: '{"orderId":"H-1"}' }] },
      { role: 'tool', toolCallId: 'call_h', content: '{"orderId":"H-1","status":"shipped"}' },
      { role: 'assistant', content: 'H-1 shipped.' },
    ]);
    await agent.run('What did I ask?', { sessionId: 's' });
    const third = fake.chatRequests()[2]!;
    expect(third.messages).toEqual([
      { role: 'user', content: 'Where is H-1?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'call_h', type: 'function', function: { name: 'get_order', arguments: '{"orderId":"H-1"}' } }],
      },
      { role: 'tool', tool_call_id: 'call_h', content: '{"orderId":"H-1","status":"shipped"}' },
      { role: 'assistant', content: 'H-1 shipped.' },
      { role: 'user', content: 'What did I ask?' },
    ]);
  });
});

describe('the loop while streaming', () => {
  /** Masks "secret"; always holds the last 5 characters, since "secre" may be completed by the next chunk. */
  const maskSecret = hook({ everyChunk: true, name: 'maskSecret' })(({ text, final }: { text: string; final: boolean }) => {
    const masked = text.replace(/secret/g, '******');
    return { text: masked, hold: final ? 0 : Math.min(5, masked.length) };
  });

  it('sends the text of every step through the chunk checks, the step before a tool call included', async () => {
    fake.setReplies([
      {
        content: 'Looking up the secret order.',
        chunkSize: 3,
        toolCalls: [{ id: 'call_1', name: 'get_order', arguments: { orderId: 'S-1' } }],
      },
      { content: 'The secret order has shipped.', chunkSize: 4 },
    ]);
    const agent = new Agent({ model: chatModel(fake), tools: [getOrder], postHooks: [maskSecret] });
    const stream = agent.stream('go');
    const { events, error } = await collect(stream);
    expect(error).toBeUndefined();
    const streamed = deltas(events).join('');
    expect(streamed).toBe('Looking up the ****** order.The ****** order has shipped.');
    for (const d of deltas(events)) expect(d).not.toMatch(/secret|secre$|^ecret/);
    const output = await stream.finalOutput;
    expect(output.content).toBe('The ****** order has shipped.');
    // The first step's text is recorded (and sent back to the model) as the checks cleared it.
    expect(output.messages[1]).toMatchObject({ role: 'assistant', content: 'Looking up the ****** order.' });
    expect(fake.chatRequests()[1]!.messages[1]!.content).toBe('Looking up the ****** order.');
    expect(JSON.stringify(events)).not.toMatch(/secret/);
  });

  it('assembles interleaved streamed tool-call fragments into whole calls', async () => {
    const seen: unknown[] = [];
    const note = tool({
      name: 'note',
      description: 'Keeps a note',
      parameters: z.object({ text: z.string(), n: z.number() }),
      execute: (args) => (seen.push(args), 'noted'),
    });
    fake.setReplies([
      {
        chunkSize: 3,
        interleaveToolCalls: true,
        toolCalls: [
          { id: 'call_1', name: 'note', arguments: { text: 'first note, long enough to be cut', n: 1 } },
          { id: 'call_2', name: 'note', arguments: { text: 'second', n: 22 } },
          { id: 'call_3', name: 'get_order', arguments: { orderId: 'ORD-333' } },
        ],
      },
      'Noted.',
    ]);
    const agent = new Agent({ model: chatModel(fake), tools: [note, getOrder], toolConcurrency: 1 });
    const stream = agent.stream('go');
    const { error } = await collect(stream);
    expect(error).toBeUndefined();
    expect(seen).toEqual([
      { text: 'first note, long enough to be cut', n: 1 },
      { text: 'second', n: 22 },
    ]);
    const output = await stream.finalOutput;
    expect(output.toolCalls.map((r) => [r.callId, r.toolName, r.status])).toEqual([
      ['call_1', 'note', 'completed'],
      ['call_2', 'note', 'completed'],
      ['call_3', 'get_order', 'completed'],
    ]);
    expect(fake.chatRequests()[0]!.stream).toBe(true);
  });

  it('yields the tool events in the stream, between the model requests', async () => {
    fake.setReplies([
      { toolCalls: [{ id: 'call_1', name: 'get_order', arguments: { orderId: 'E-1' } }] },
      { content: 'Shipped.', chunkSize: 50 },
    ]);
    const agent = new Agent({ model: chatModel(fake), tools: [getOrder] });
    const { events } = await collect(agent.stream('go'));
    expect(events.map((e) => e.type)).toEqual([
      'run_started',
      'model_request_started',
      'model_request_completed',
      'tool_call_started',
      'tool_call_completed',
      'model_request_started',
      'content',
      'model_request_completed',
      'run_completed',
    ]);
    const started = events[3] as Extract<RunEvent, { type: 'tool_call_started' }>;
    expect(started).toEqual({ type: 'tool_call_started', runId: expect.any(String), toolName: 'get_order', callId: 'call_1' });
    const completed = events.at(-1) as Extract<RunEvent, { type: 'run_completed' }>;
    expect((completed.output as RunOutput).toolCalls).toHaveLength(1);
  });
});

describe('a model answer that uses one call id twice', () => {
  it('runs the first call, refuses the second for the model, and records both', async () => {
    let runs = 0;
    const once = tool({
      name: 'once',
      description: 'counts its runs',
      parameters: z.object({}),
      execute: () => {
        runs++;
        return 'ok';
      },
    });
    const model = new OfflineModel({
      reply: (messages) =>
        messages.at(-1)!.role === 'tool'
          ? 'done'
          : {
              toolCalls: [
                { name: 'once', arguments: {}, callId: 'same' },
                { name: 'once', arguments: {}, callId: 'same' },
              ],
            },
    });
    const output = await new Agent({ model, tools: [once] }).run('go');
    expect(runs).toBe(1);
    expect(output.toolCalls.map((c) => c.status)).toEqual(['completed', 'failed']);
    expect(output.toolCalls[1]!.error).toMatch(/used twice/);
    expect(output.content).toBe('done');
  });
});
