/** Tool hooks: Koa middleware around each tool call, end to end through the loop and the fake server. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Agent, HookTimeoutError, InputCheckError, OutputCheckError, hook, tool, type RunOutput, type ToolHook } from 'hookchain';
import { startFakeOpenAI, type FakeOpenAI } from 'hookchain/testing';
import { chatModel, listen, ofType, sleep } from './loop-kit.ts';

let fake: FakeOpenAI;
beforeEach(async () => {
  fake = await startFakeOpenAI();
});
afterEach(() => fake.close());

/** get_order, counting its runs and keeping the arguments it got. */
function orders(log: string[] = []) {
  const seen: unknown[] = [];
  const t = tool({
    name: 'get_order',
    description: 'Look up an order by its id',
    parameters: z.object({ orderId: z.string() }),
    execute: (args) => {
      log.push('tool');
      seen.push(args);
      return { orderId: args.orderId, status: 'shipped' };
    },
  });
  return { tool: t, seen, log };
}

const oneCall = (args: Record<string, unknown> = { orderId: 'A-1' }, answer = 'Done.') =>
  fake.setReplies([{ toolCalls: [{ id: 'call_1', name: 'get_order', arguments: args }] }, answer]);

const lastToolMessage = () =>
  fake
    .chatRequests()
    .at(-1)!
    .messages.findLast((m) => m.role === 'tool')!;

async function failure(run: Promise<RunOutput>): Promise<{ error: Error; output: RunOutput }> {
  const error = (await run.then(
    () => {
      throw new Error('the run should have failed');
    },
    (e: unknown) => e,
  )) as Error & { runOutput: RunOutput };
  return { error, output: error.runOutput };
}

describe('tool hooks, in order', () => {
  it('run as an onion: before-parts in declared order, the tool, after-parts reversed', async () => {
    const { tool: getOrder, log } = orders();
    const runIds: string[] = [];
    const layer =
      (name: string): ToolHook =>
      async (call, next) => {
        log.push(`${name}:before`);
        runIds.push(call.runContext.runId);
        await next();
        log.push(`${name}:after`);
      };
    oneCall();
    const agent = new Agent({ model: chatModel(fake), tools: [getOrder], toolHooks: [layer('a'), layer('b'), layer('c')] });
    const output = await agent.run('go');
    expect(log).toEqual(['a:before', 'b:before', 'c:before', 'tool', 'c:after', 'b:after', 'a:after']);
    expect(runIds).toEqual([output.runId, output.runId, output.runId]);
  });

  it('see the call: toolName, callId and parsed (not yet validated) args', async () => {
    const { tool: getOrder } = orders();
    const seen: unknown[] = [];
    oneCall({ orderId: 'A-1', extra: true });
    const agent = new Agent({
      model: chatModel(fake),
      tools: [getOrder],
      toolHooks: [(call, next) => (seen.push({ toolName: call.toolName, callId: call.callId, args: structuredClone(call.args) }), next())],
    });
    await agent.run('go');
    expect(seen).toEqual([{ toolName: 'get_order', callId: 'call_1', args: { orderId: 'A-1', extra: true } }]);
  });
});

describe('what a tool hook may change', () => {
  it('edits call.args before next(): the tool gets the edit, validated, and the record shows it', async () => {
    const { tool: getOrder, seen } = orders();
    oneCall({ orderId: 'a-1' });
    const agent = new Agent({
      model: chatModel(fake),
      tools: [getOrder],
      toolHooks: [
        async (call, next) => {
          call.args = { orderId: String((call.args as { orderId: string }).orderId).toUpperCase(), junk: 1 };
          await next();
        },
      ],
    });
    const output = await agent.run('go');
    // zod's object strips the unknown key: what runs is the edit after the schema.
    expect(seen).toEqual([{ orderId: 'A-1' }]);
    expect(output.toolCalls[0]).toMatchObject({ args: { orderId: 'A-1' }, status: 'completed' });
  });

  it('an edit that breaks the schema becomes invalid_arguments for the model; the tool does not run', async () => {
    const { tool: getOrder, seen } = orders();
    oneCall({ orderId: 'A-1' });
    const agent = new Agent({
      model: chatModel(fake),
      tools: [getOrder],
      toolHooks: [
        async (call, next) => {
          call.args = { orderId: 42 };
          await next();
        },
      ],
    });
    const events = listen(agent);
    const output = await agent.run('go');
    expect(seen).toEqual([]);
    expect(output.status).toBe('completed');
    expect(output.toolCalls[0]).toMatchObject({ status: 'failed', error: expect.stringMatching(/orderId/) });
    expect(ofType(events, 'tool_call_failed').map((e) => e.reason)).toEqual(['invalid_arguments']);
    expect(JSON.parse(lastToolMessage().content as string)).toEqual({ error: output.toolCalls[0]!.error });
  });

  it('replaces call.result after next(): the model reads the hook’s result', async () => {
    const { tool: getOrder, seen } = orders();
    oneCall();
    const agent = new Agent({
      model: chatModel(fake),
      tools: [getOrder],
      toolHooks: [
        async (call, next) => {
          await next();
          call.result = { ...(call.result as object), status: 'redacted' };
        },
      ],
    });
    const output = await agent.run('go');
    expect(seen).toHaveLength(1);
    expect(lastToolMessage().content).toBe('{"orderId":"A-1","status":"redacted"}');
    expect(output.toolCalls[0]!.result).toEqual({ orderId: 'A-1', status: 'redacted' });
  });

  it('answers for the tool without next() (a cache): the tool never runs, the model reads the hook’s result', async () => {
    const { tool: getOrder, seen } = orders();
    oneCall();
    const agent = new Agent({
      model: chatModel(fake),
      tools: [getOrder],
      toolHooks: [
        (call) => {
          call.result = { orderId: 'A-1', status: 'cached' };
        },
      ],
    });
    const events = listen(agent);
    const output = await agent.run('go');
    expect(seen).toEqual([]);
    expect(lastToolMessage().content).toBe('{"orderId":"A-1","status":"cached"}');
    expect(output.toolCalls[0]).toMatchObject({ status: 'completed', result: { orderId: 'A-1', status: 'cached' } });
    expect(ofType(events, 'tool_call_completed')).toHaveLength(1);
  });

  it('reads call.error after next() for a failing tool, and may answer for it instead', async () => {
    const flaky = tool({
      name: 'get_order',
      description: 'Fails',
      parameters: z.object({ orderId: z.string() }),
      execute: () => {
        throw new Error('warehouse offline');
      },
    });
    const errors: (string | undefined)[] = [];
    fake.setReplies([
      {
        toolCalls: [
          { id: 'call_1', name: 'get_order', arguments: { orderId: 'A-1' } },
          { id: 'call_2', name: 'get_order', arguments: { orderId: 'FALLBACK' } },
        ],
      },
      'Done.',
    ]);
    const agent = new Agent({
      model: chatModel(fake),
      tools: [flaky],
      toolHooks: [
        async (call, next) => {
          await next();
          errors.push(call.error);
          if ((call.args as { orderId: string }).orderId === 'FALLBACK') {
            call.error = undefined;
            call.result = { status: 'unknown' };
          }
        },
      ],
    });
    const output = await agent.run('go');
    expect(errors).toEqual(['warehouse offline', 'warehouse offline']);
    expect(output.toolCalls.map((r) => r.status)).toEqual(['failed', 'completed']);
    expect(output.toolCalls[1]!.result).toEqual({ status: 'unknown' });
    expect(
      fake
        .chatRequests()[1]!
        .messages.filter((m) => m.role === 'tool')
        .map((m) => m.content),
    ).toEqual(['{"error":"warehouse offline"}', '{"status":"unknown"}']);
  });
});

describe('a tool hook that fails', () => {
  it('InputCheckError before next(): the run fails closed, the tool does not run, no further model request', async () => {
    const { tool: getOrder, seen } = orders();
    oneCall();
    const agent = new Agent({
      model: chatModel(fake),
      tools: [getOrder],
      toolHooks: [
        function refuseOrders() {
          throw new InputCheckError('no order lookups today');
        },
      ],
    });
    const events = listen(agent);
    const { error, output } = await failure(agent.run('go'));
    expect(error).toBeInstanceOf(InputCheckError);
    expect(output.status).toBe('error');
    expect(output.error).toMatchObject({ type: 'input_check_error', hookName: 'refuseOrders', message: 'no order lookups today' });
    expect(seen).toEqual([]);
    expect(fake.chatRequests()).toHaveLength(1);
    expect(ofType(events, 'run_error')).toHaveLength(1);
    expect(ofType(events, 'tool_call_completed')).toHaveLength(0);
  });

  it('OutputCheckError after next(): the run fails closed with the hook named; the result never reaches the model', async () => {
    const { tool: getOrder, seen } = orders();
    oneCall();
    const agent = new Agent({
      model: chatModel(fake),
      tools: [getOrder],
      toolHooks: [
        async function checkResult(call, next) {
          await next();
          if ((call.result as { status: string }).status === 'shipped') throw new OutputCheckError('result not allowed');
        },
      ],
    });
    const { error, output } = await failure(agent.run('go'));
    expect(error).toBeInstanceOf(OutputCheckError);
    expect(output.error).toMatchObject({ type: 'output_check_error', hookName: 'checkResult' });
    expect(seen).toHaveLength(1);
    expect(fake.chatRequests()).toHaveLength(1);
    expect(output.messages.some((m) => m.role === 'tool')).toBe(false);
  });

  it('a crash (TypeError) fails the run closed as a hook_error naming the hook', async () => {
    const { tool: getOrder, seen } = orders();
    oneCall();
    const agent = new Agent({
      model: chatModel(fake),
      tools: [getOrder],
      toolHooks: [
        function broken(call) {
          (call.args as { missing: { deep: string } }).missing.deep.toString();
        },
      ],
    });
    const { error, output } = await failure(agent.run('go'));
    expect(error).toBeInstanceOf(TypeError);
    expect(output.error).toMatchObject({ type: 'hook_error', name: 'TypeError', hookName: 'broken' });
    expect(seen).toEqual([]);
    expect(fake.chatRequests()).toHaveLength(1);
  });

  it('a failOpen hook’s crash is reported as hook_failed (phase "tool") and the run goes on, the tool still running', async () => {
    const { tool: getOrder, seen } = orders();
    fake.setReplies([
      {
        toolCalls: [
          { id: 'call_1', name: 'get_order', arguments: { orderId: 'A-1' } },
          { id: 'call_2', name: 'get_order', arguments: { orderId: 'B-2' } },
        ],
      },
      'Done.',
    ]);
    const crashBefore = hook({ failOpen: true, name: 'crashBefore' })((() => {
      throw new Error('audit log down');
    }) as ToolHook as never);
    const crashAfter = hook({ failOpen: true, name: 'crashAfter' })((async (_call: unknown, next: () => Promise<void>) => {
      await next();
      throw new Error('metrics down');
    }) as never);
    const agent = new Agent({ model: chatModel(fake), tools: [getOrder], toolHooks: [crashBefore, crashAfter] });
    const events = listen(agent);
    const output = await agent.run('go');
    expect(output.status).toBe('completed');
    expect(seen).toEqual([{ orderId: 'A-1' }, { orderId: 'B-2' }]);
    expect(output.toolCalls.map((r) => r.status)).toEqual(['completed', 'completed']);
    const failed = ofType(events, 'hook_failed');
    expect(failed.map((e) => [e.hookName, e.phase, e.error.message]).sort()).toEqual(
      [
        ['crashAfter', 'tool', 'metrics down'],
        ['crashAfter', 'tool', 'metrics down'],
        ['crashBefore', 'tool', 'audit log down'],
        ['crashBefore', 'tool', 'audit log down'],
      ].sort(),
    );
    for (const e of failed) expect(e.runId).toBe(output.runId);
  });

  it('a failOpen hook’s verdict still blocks', async () => {
    const { tool: getOrder, seen } = orders();
    oneCall();
    const veto = hook({ failOpen: true, name: 'veto' })((() => {
      throw new InputCheckError('blocked anyway');
    }) as never);
    const agent = new Agent({ model: chatModel(fake), tools: [getOrder], toolHooks: [veto] });
    const { output } = await failure(agent.run('go'));
    expect(output.error).toMatchObject({ type: 'input_check_error', hookName: 'veto' });
    expect(seen).toEqual([]);
  });

  it('next() called twice fails the run closed', async () => {
    const { tool: getOrder, seen } = orders();
    oneCall();
    const agent = new Agent({
      model: chatModel(fake),
      tools: [getOrder],
      toolHooks: [
        async function twice(_call, next) {
          await next();
          await next();
        },
      ],
    });
    const { error, output } = await failure(agent.run('go'));
    expect(error.message).toMatch(/next\(\) called multiple times/);
    expect(output.error).toMatchObject({ type: 'hook_error', hookName: 'twice' });
    expect(seen).toHaveLength(1);
    expect(fake.chatRequests()).toHaveLength(1);
  });

  it('hook({ timeoutMs }) bounds a tool hook: past it the run fails with HookTimeoutError', async () => {
    const { tool: getOrder, seen } = orders();
    oneCall();
    const slow = hook({ timeoutMs: 30, name: 'slowAudit' })((async () => {
      await sleep(500);
    }) as never);
    const agent = new Agent({ model: chatModel(fake), tools: [getOrder], toolHooks: [slow] });
    const started = performance.now();
    const { error, output } = await failure(agent.run('go'));
    expect(performance.now() - started).toBeLessThan(400);
    expect(error).toBeInstanceOf(HookTimeoutError);
    expect(output.error).toMatchObject({ type: 'hook_error', name: 'HookTimeoutError', hookName: 'slowAudit' });
    expect(seen).toEqual([]);
  });

  it('a failOpen hook that times out is stepped over: the tool runs and the run goes on', async () => {
    const { tool: getOrder, seen } = orders();
    oneCall();
    const slow = hook({ timeoutMs: 20, failOpen: true, name: 'slowAudit' })((async () => {
      await sleep(300);
    }) as never);
    const agent = new Agent({ model: chatModel(fake), tools: [getOrder], toolHooks: [slow] });
    const events = listen(agent);
    const output = await agent.run('go');
    expect(output.status).toBe('completed');
    expect(seen).toEqual([{ orderId: 'A-1' }]);
    expect(ofType(events, 'hook_failed')).toMatchObject([{ hookName: 'slowAudit', phase: 'tool', error: { name: 'HookTimeoutError' } }]);
  });
});

describe('the tool onion is built once per agent', () => {
  it('many calls over several runs each go through every hook once, the same way', async () => {
    const { tool: getOrder, seen } = orders();
    const trace: string[] = [];
    const outer: ToolHook = async (call, next) => {
      trace.push(`outer>${call.callId}`);
      await next();
      trace.push(`outer<${call.callId}`);
    };
    const inner: ToolHook = async (call, next) => {
      trace.push(`inner>${call.callId}`);
      await next();
      trace.push(`inner<${call.callId}`);
    };
    const agent = new Agent({ model: chatModel(fake), tools: [getOrder], toolHooks: [outer, inner], toolConcurrency: 1 });
    for (let run = 0; run < 4; run++) {
      const ids = [0, 1, 2].map((i) => `call_${run}_${i}`);
      fake.setReplies([{ toolCalls: ids.map((id) => ({ id, name: 'get_order', arguments: { orderId: id } })) }, 'ok']);
      const output = await agent.run('go');
      expect(output.toolCalls.map((r) => r.status)).toEqual(['completed', 'completed', 'completed']);
    }
    expect(seen).toHaveLength(12);
    const expected = [0, 1, 2, 3].flatMap((run) =>
      [0, 1, 2].flatMap((i) => {
        const id = `call_${run}_${i}`;
        return [`outer>${id}`, `inner>${id}`, `inner<${id}`, `outer<${id}`];
      }),
    );
    expect(trace).toEqual(expected);
  });
});
