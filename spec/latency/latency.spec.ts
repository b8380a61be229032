/**
 * Guardrails that cost no latency (DESIGN §13): parallel pre-hooks, speculative model calls that release nothing
 * before the checks pass, shadow mode and sampling.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  Agent,
  BaseGuardrail,
  HookchainConfigError,
  InputCheckError,
  OpenAIChat,
  OutputCheckError,
  PIIDetectionGuardrail,
  hook,
  tool,
  type HookArgs,
  type Model,
  type ModelRequest,
  type PreHookArgs,
  type RunEvent,
} from 'hookchain';
import { startFakeOpenAI, type FakeOpenAI } from 'hookchain/testing';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A streaming model whose first token comes after `delayMs`; it records every request's signal. */
function slowModel(delayMs: number, text = 'hello world') {
  const signals: AbortSignal[] = [];
  const model: Model = {
    id: 'slow',
    invoke: async (request) => {
      signals.push(request.signal);
      await sleep(delayMs);
      request.signal.throwIfAborted();
      return { content: text };
    },
    async *stream(request: ModelRequest) {
      signals.push(request.signal);
      await sleep(delayMs);
      request.signal.throwIfAborted();
      for (const word of text.split(/(?= )/)) yield { delta: word };
    },
  };
  return { model, signals };
}

async function collect(stream: AsyncIterable<RunEvent>): Promise<{ events: RunEvent[]; error?: unknown }> {
  const events: RunEvent[] = [];
  try {
    for await (const e of stream) events.push(e);
    return { events };
  } catch (error) {
    return { events, error };
  }
}

describe('parallel pre-hooks', () => {
  it('start side by side: every check has started before the first one finishes', async () => {
    const log: string[] = [];
    const check = (name: string, ms: number) =>
      hook({ name, parallel: true })(async () => {
        log.push(`start ${name}`);
        await sleep(ms);
        log.push(`end ${name}`);
      });
    const agent = new Agent({ model: slowModel(0).model, preHooks: [check('a', 30), check('b', 10), check('c', 20)] });
    await agent.run('hi');
    expect(log.slice(0, 3)).toEqual(['start a', 'start b', 'start c']);
    expect(log.slice(3)).toEqual(['end b', 'end c', 'end a']);
  });

  it('fail with the first verdict, cancel the others through args.signal, and never call the model', async () => {
    const { model, signals } = slowModel(0);
    let slowSignal: AbortSignal | undefined;
    const slow = hook({ name: 'slow', parallel: true })(async ({ signal }: PreHookArgs) => {
      slowSignal = signal;
      await sleep(200);
    });
    const blocker = hook({ name: 'blocker', parallel: true })(async () => {
      await sleep(5);
      throw new InputCheckError('blocked fast');
    });
    const agent = new Agent({ model, preHooks: [slow, blocker] });
    const started = performance.now();
    const error = await agent.run('hi').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputCheckError);
    expect((error as InputCheckError).runOutput?.error?.hookName).toBe('blocker');
    expect(performance.now() - started).toBeLessThan(150); // did not wait for the slow check
    expect(slowSignal!.aborted).toBe(true);
    expect(signals).toHaveLength(0);
  });

  it('run sequential hooks before them in order, and a group runs after the hook before it', async () => {
    const log: string[] = [];
    const seq = (name: string) => hook({ name })(() => void log.push(name));
    const par = (name: string) => hook({ name, parallel: true })(async () => void log.push(name));
    const agent = new Agent({ model: slowModel(0).model, preHooks: [seq('one'), par('p1'), par('p2'), seq('two')] });
    await agent.run('hi');
    expect(log).toEqual(['one', 'p1', 'p2', 'two']);
  });

  it('fail the run naming the hook when a parallel hook edits the input, in place or by assignment', async () => {
    const editors = [
      (args: PreHookArgs) => void (args.runInput.inputContent = 'changed'),
      (args: PreHookArgs) => void (args.runInput = { inputContent: 'other' }),
      (args: PreHookArgs) => {
        const messages = args.runInput.inputContent as { content: string }[];
        messages[0]!.content = 'edited in place';
      },
    ];
    for (const edit of editors) {
      const agent = new Agent({
        model: slowModel(0).model,
        preHooks: [hook({ name: 'reader', parallel: true })(() => {}), hook({ name: 'masker', parallel: true })(edit)],
      });
      const error = await agent.run([{ role: 'user', content: 'original' }]).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HookchainConfigError);
      expect((error as HookchainConfigError).code).toBe('PARALLEL_HOOK_EDITED_INPUT');
      expect((error as Error).message).toContain('"masker"');
    }
  });

  it('are refused as post-hooks when the agent is built, and take the option on guardrails too', () => {
    expect(() => new Agent({ model: slowModel(0).model, postHooks: [hook({ parallel: true })(() => {})] })).toThrow(
      /only applies to pre-hooks/,
    );
    expect(() => new Agent({ model: slowModel(0).model, postHooks: [new PIIDetectionGuardrail({ parallel: true })] })).toThrow(
      /only applies to pre-hooks/,
    );
    expect(new PIIDetectionGuardrail({ parallel: true }).parallel).toBe(true);
    expect(() => hook({ parallel: 'yes' as never })).toThrow(/"parallel" must be true or false/);
  });
});

describe('speculative runs', () => {
  const checks = (ms: number, blockAt?: number) =>
    [0, 1, 2].map((i) =>
      hook({ name: `check${i}`, parallel: true })(async ({ signal }: PreHookArgs) => {
        await sleep(ms);
        signal.throwIfAborted();
        if (i === blockAt) throw new InputCheckError(`check${i} blocked`);
      }),
    );

  it('start the model while the checks run and release its first delta only after they all passed', async () => {
    const { model, signals } = slowModel(40);
    const order: string[] = [];
    const agent = new Agent({ model, preHooks: checks(60), speculative: true });
    agent.on('pre_hook_completed', ({ hookName }) => order.push(`passed ${hookName}`));
    agent.on('content', () => order.push('content'));
    const { events, error } = await collect(agent.stream('hi'));
    expect(error).toBeUndefined();
    expect(signals).toHaveLength(1);
    const firstContent = order.indexOf('content');
    expect(order.slice(0, firstContent).filter((e) => e.startsWith('passed'))).toHaveLength(3);
    expect((await Promise.resolve(events.at(-1)))?.type).toBe('run_completed');
  });

  it('abort the model request in the same turn as the verdict, and release nothing', async () => {
    const { model, signals } = slowModel(200);
    const agent = new Agent({ model, preHooks: checks(20, 1), speculative: true });
    const { events, error } = await collect(agent.stream('hi'));
    expect(error).toBeInstanceOf(InputCheckError);
    expect(signals[0]!.aborted).toBe(true);
    expect(events.filter((e) => e.type === 'content' || e.type === 'model_request_completed')).toEqual([]);
    expect(events.at(-1)!.type).toBe('run_error');
  });

  it('abort the real HTTP request: the fake server records the client hanging up', async () => {
    const fake: FakeOpenAI = await startFakeOpenAI();
    try {
      fake.setReply({ content: 'too late', delayMs: 1_000 });
      // Long enough for the request to reach the server (a first request also loads the client's HTTP stack).
      const agent = new Agent({
        model: new OpenAIChat({ id: 'gpt-test', client: fake.client() }),
        preHooks: checks(250, 0),
        speculative: true,
      });
      await expect(agent.run('hi')).rejects.toBeInstanceOf(InputCheckError);
      const request = fake.requests.find((r) => r.path.endsWith('/chat/completions'))!;
      await request.closed;
      expect(request.aborted).toBe(true);
    } finally {
      await fake.close();
    }
  });

  it('never runs a tool before every check has passed', async () => {
    const timeline: string[] = [];
    const lookup = tool({
      name: 'lookup',
      description: 'looks up',
      parameters: z.object({}),
      execute: () => {
        timeline.push('tool');
        return 'ok';
      },
    });
    const model: Model = {
      id: 'instant',
      invoke: async (request) =>
        request.messages.at(-1)!.role === 'tool'
          ? { content: 'done' }
          : { content: '', toolCalls: [{ callId: 'c1', name: 'lookup', arguments: '{}' }] },
    };
    const check = hook({ name: 'slow', parallel: true })(async () => {
      await sleep(30);
      timeline.push('check passed');
    });
    const output = await new Agent({ model, tools: [lookup], preHooks: [check], speculative: true }).run('hi');
    expect(output.content).toBe('done');
    expect(timeline).toEqual(['check passed', 'tool']);
  });

  it('end exactly as a sequential run for any check durations and verdicts, releasing nothing before the last check (property)', async () => {
    const outcome = fc.constantFrom('pass', 'block', 'crash');
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ ms: fc.integer({ min: 0, max: 15 }), outcome }), { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 0, max: 15 }),
        async (specs, modelMs) => {
          const build = (speculative: boolean) => {
            const timeline: string[] = [];
            const preHooks = specs.map((s, i) =>
              hook({ name: `c${i}`, parallel: speculative })(async () => {
                await sleep(s.ms);
                if (s.outcome === 'block') throw new InputCheckError(`c${i} blocks`);
                if (s.outcome === 'crash') throw new TypeError(`c${i} crashed`);
                timeline.push(`passed c${i}`);
              }),
            );
            const agent = new Agent({ model: slowModel(modelMs, 'a b c').model, preHooks, speculative });
            agent.on('content', () => timeline.push('content'));
            return { agent, timeline };
          };
          const seq = build(false);
          const spec = build(true);
          const a = await collect(seq.agent.stream('hi'));
          const b = await collect(spec.agent.stream('hi'));
          const end = (r: { events: RunEvent[]; error?: unknown }) => {
            const last = r.events.at(-1)!;
            return last.type === 'run_completed'
              ? { status: last.output.status, content: last.output.content }
              : { status: (last as { output: { status: string } }).output.status, type: (last as { error: { type: string } }).error.type };
          };
          // Sequential hooks stop at the first failure in order; parallel ones at the first in time. Both fail closed,
          // with the same kind of error; when every check passes, both complete with the same answer.
          expect(end(b).status).toBe(end(a).status);
          if (end(a).status === 'completed') expect(end(b)).toEqual(end(a));
          const firstContent = spec.timeline.indexOf('content');
          if (firstContent >= 0)
            expect(spec.timeline.slice(0, firstContent).filter((t) => t.startsWith('passed'))).toHaveLength(specs.length);
          if (end(b).status !== 'completed') expect(spec.timeline).not.toContain('content');
        },
      ),
      { numRuns: 40 },
    );
  });

  it('do not speculate when a sequential hook comes after the parallel ones (it could still change the input)', async () => {
    const { model, signals } = slowModel(0);
    let modelCalledDuringCheck = false;
    const par = hook({ name: 'par', parallel: true })(async () => {
      await sleep(20);
      modelCalledDuringCheck = signals.length > 0;
    });
    const masker = hook({ name: 'masker' })((args: PreHookArgs) => void (args.runInput.inputContent = 'masked'));
    const output = await new Agent({ model, preHooks: [par, masker], speculative: true }).run('secret');
    expect(modelCalledDuringCheck).toBe(false);
    expect(output.input.inputContent).toBe('masked');
  });
});

describe('shadow mode', () => {
  class AlwaysBlocks extends BaseGuardrail {
    override check(args: HookArgs) {
      if (args.phase === 'pre') args.runInput.inputContent = 'rewritten by the shadow check';
      this.reject(args, 'would block', { checkTrigger: 'off_topic' });
    }
    override checkChunk() {
      throw new OutputCheckError('would block a chunk', { checkTrigger: 'output_not_allowed' });
    }
  }

  it('reports a verdict once as hook_shadow_verdict, never blocks and keeps its edits out of the run', async () => {
    const agent = new Agent({
      model: slowModel(0, 'one two three four').model,
      preHooks: [new AlwaysBlocks({ name: 'pre-shadow', mode: 'shadow' })],
      postHooks: [new AlwaysBlocks({ name: 'post-shadow', mode: 'shadow' })],
    });
    const { events, error } = await collect(agent.stream('original input'));
    expect(error).toBeUndefined();
    const shadow = events.filter((e) => e.type === 'hook_shadow_verdict');
    expect(shadow.map((e) => [e.hookName, e.phase, e.checkTrigger])).toEqual([
      ['pre-shadow', 'pre', 'off_topic'],
      ['post-shadow', 'chunk', 'output_not_allowed'],
    ]);
    const done = events.at(-1)!;
    expect(done.type).toBe('run_completed');
    if (done.type === 'run_completed') {
      expect(done.output.input.inputContent).toBe('original input');
      expect(done.output.content).toBe('one two three four');
    }
  });

  it('leaves the output as it was when a shadow post-hook masks it', async () => {
    const pii = new PIIDetectionGuardrail({ maskPii: true, mode: 'shadow' });
    const output = await new Agent({ model: slowModel(0, 'mail me at jane@example.com').model, postHooks: [pii] }).run('hi');
    expect(output.content).toBe('mail me at jane@example.com');
  });

  it('validates the option', () => {
    expect(() => hook({ mode: 'dry-run' as never })).toThrow(/"mode" must be 'enforce' or 'shadow'/);
    expect(() => new PIIDetectionGuardrail({ mode: 'loud' as never })).toThrow(/mode/);
  });
});

describe('sampleRate', () => {
  it('runs a hook on that share of runs, all of a run sampled hooks or none, decided by run id', async () => {
    const seen = new Map<string, number>();
    const count = (name: string) =>
      hook({ name, sampleRate: 0.5 })(
        ({ runContext }: PreHookArgs) => void seen.set(runContext.runId, (seen.get(runContext.runId) ?? 0) + 1),
      );
    const agent = new Agent({ model: slowModel(0).model, preHooks: [count('a'), count('b')] });
    const runs = 400;
    for (let i = 0; i < runs; i++) await agent.run('hi');
    expect([...seen.values()].every((n) => n === 2)).toBe(true); // both or neither
    expect(seen.size).toBeGreaterThan(runs * 0.35);
    expect(seen.size).toBeLessThan(runs * 0.65);
  });

  it('never runs at 0 and always at 1; refuses a rate outside 0–1', async () => {
    let never = 0;
    let always = 0;
    const agent = new Agent({
      model: slowModel(0).model,
      preHooks: [hook({ name: 'never', sampleRate: 0 })(() => void never++), hook({ name: 'always', sampleRate: 1 })(() => void always++)],
    });
    for (let i = 0; i < 20; i++) await agent.run('hi');
    expect([never, always]).toEqual([0, 20]);
    expect(() => hook({ sampleRate: 1.5 })).toThrow(/"sampleRate" must be a number from 0 to 1/);
    expect(() => new PIIDetectionGuardrail({ sampleRate: -1 })).toThrow(/sampleRate/);
  });
});
