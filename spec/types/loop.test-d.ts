/**
 * Type tests for the agent loop: `output.parsed` inferred from a zod `outputSchema`, tool hooks, model middleware
 * and `continueRun`. Run by `npm test` (vitest typecheck) and by `npm run typecheck`.
 */
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import {
  Agent,
  type ModelCall,
  type ModelMiddleware,
  type ModelNext,
  type ModelRequest,
  type ModelResponse,
  type Model,
  type RunOutput,
  type RunStream,
  type ToolCall,
  type ToolHook,
  tool,
} from 'hookchain';

declare const model: Model;
const Weather = z.object({ city: z.string(), celsius: z.number() });
type Weather = z.infer<typeof Weather>;
const Count = z.object({ count: z.number().int() });

describe('output.parsed', () => {
  it('is inferred from the agent’s zod outputSchema, in run() and stream()', async () => {
    const agent = new Agent({ model, outputSchema: Weather });
    const output = await agent.run('weather?');
    expectTypeOf(output).toEqualTypeOf<RunOutput<Weather>>();
    expectTypeOf(output.parsed).toEqualTypeOf<Weather | undefined>();
    expectTypeOf(agent.stream('weather?')).toEqualTypeOf<RunStream<Weather>>();
    expectTypeOf((await agent.stream('weather?').finalOutput).parsed).toEqualTypeOf<Weather | undefined>();
  });

  it('follows zod’s output type (transforms), not its input', async () => {
    const agent = new Agent({ model, outputSchema: z.object({ at: z.string().transform((s) => new Date(s)) }) });
    expectTypeOf((await agent.run('x')).parsed).toEqualTypeOf<{ at: Date } | undefined>();
  });

  it('is inferred from a run’s own outputSchema, which wins over the agent’s', async () => {
    const plain = new Agent({ model });
    expectTypeOf((await plain.run('x', { outputSchema: Count })).parsed).toEqualTypeOf<{ count: number } | undefined>();
    const weather = new Agent({ model, outputSchema: Weather });
    expectTypeOf((await weather.run('x', { outputSchema: Count })).parsed).toEqualTypeOf<{ count: number } | undefined>();
    expectTypeOf(weather.stream('x', { outputSchema: Count })).toEqualTypeOf<RunStream<{ count: number }>>();
  });

  it('is unknown without a zod schema', async () => {
    expectTypeOf((await new Agent({ model }).run('x')).parsed).toEqualTypeOf<unknown>();
    const json = new Agent({ model, outputSchema: { type: 'object', properties: { n: { type: 'number' } } } });
    expectTypeOf((await json.run('x')).parsed).toEqualTypeOf<unknown>();
  });

  it('refuses a schema that is not an object schema', () => {
    // @ts-expect-error a JSON Schema outputSchema must have type: 'object'
    new Agent({ model, outputSchema: { type: 'string' } });
  });
});

describe('tools', () => {
  it('an agent takes tools whatever their arguments’ types', () => {
    const getOrder = tool({
      name: 'get_order',
      description: 'Look up an order',
      parameters: z.object({ orderId: z.string() }),
      execute: ({ orderId }) => {
        expectTypeOf(orderId).toEqualTypeOf<string>();
        return { orderId };
      },
    });
    const ping = tool({ name: 'ping', description: 'Ping', parameters: { type: 'object' }, execute: () => 'pong' });
    new Agent({ model, tools: [getOrder, ping] });
    // @ts-expect-error a tool is built with tool({ … })
    new Agent({ model, tools: [{ name: 'raw', execute: () => 1 }] });
  });
});

describe('ToolHook', () => {
  it('gets a ToolCall typed with the agent’s state and dependencies, and next()', () => {
    const hook: ToolHook<{ calls: number }, { audit: (line: string) => void }> = async (call, next) => {
      expectTypeOf(call).toEqualTypeOf<ToolCall<{ calls: number }, { audit: (line: string) => void }>>();
      expectTypeOf(call.toolName).toEqualTypeOf<string>();
      expectTypeOf(call.callId).toEqualTypeOf<string>();
      expectTypeOf(call.args).toEqualTypeOf<unknown>();
      expectTypeOf(call.result).toEqualTypeOf<unknown>();
      expectTypeOf(call.error).toEqualTypeOf<string | undefined>();
      expectTypeOf(call.runContext.sessionState.calls).toEqualTypeOf<number>();
      call.runContext.dependencies.audit(call.toolName);
      expectTypeOf(next).returns.toEqualTypeOf<Promise<void>>();
      call.args = { edited: true };
      call.result = 'replaced';
      // @ts-expect-error the tool's name is not the hook's to change
      call.toolName = 'other';
      // @ts-expect-error nor is the call's id
      call.callId = 'x';
      await next();
    };
    new Agent({ model, sessionState: { calls: 0 }, dependencies: { audit: (_line: string) => {} }, toolHooks: [hook] });
  });

  it('a synchronous hook that answers for the tool fits too', () => {
    const cache: ToolHook = (call) => {
      call.result = { cached: true };
    };
    new Agent({ model, toolHooks: [cache] });
    // @ts-expect-error a tool hook is a function, not a guardrail-like object
    new Agent({ model, toolHooks: [{ check() {} }] });
  });
});

describe('ModelMiddleware', () => {
  it('is (call, next) => Promise<ModelResponse>, with a re-entrant next(request?, model?)', () => {
    const mw: ModelMiddleware = async (call, next) => {
      expectTypeOf(call).toEqualTypeOf<ModelCall>();
      expectTypeOf(call.request).toEqualTypeOf<ModelRequest>();
      expectTypeOf(call.model).toEqualTypeOf<Model>();
      expectTypeOf(call.step).toEqualTypeOf<number>();
      expectTypeOf(call.attempt).toEqualTypeOf<number>();
      expectTypeOf(next).toEqualTypeOf<ModelNext>();
      expectTypeOf(next).parameters.toEqualTypeOf<[request?: ModelRequest, model?: Model]>();
      expectTypeOf(next).returns.toEqualTypeOf<Promise<ModelResponse>>();
      const first = await next();
      if (first.content === '') return next({ ...call.request, messages: call.request.messages.slice(-1) }, model);
      return first;
    };
    new Agent({ model, modelMiddleware: [mw] });
  });

  it('must resolve with a model response', () => {
    // @ts-expect-error a model middleware returns the response (return next())
    const bad: ModelMiddleware = async (_call, next) => {
      await next();
    };
    void bad;
  });

  it('sees the agent’s state type through call.runContext', () => {
    new Agent({
      model,
      sessionState: { budget: 3 },
      modelMiddleware: [
        (call, next) => {
          expectTypeOf(call.runContext.sessionState.budget).toEqualTypeOf<number>();
          return next();
        },
      ],
    });
  });
});

describe('continueRun and continueStream', () => {
  it('resolve with the agent’s RunOutput type', () => {
    const agent = new Agent({ model, outputSchema: Weather });
    const resumed = agent.continueRun({ sessionId: 's', runId: 'r', approvals: [{ callId: 'c', approved: true }] });
    expectTypeOf(resumed).toEqualTypeOf<Promise<RunOutput<Weather>>>();
    const streamed = agent.continueStream({ sessionId: 's', runId: 'r', approvals: [{ callId: 'c', approved: false, reason: 'no' }] });
    expectTypeOf(streamed).toEqualTypeOf<RunStream<Weather>>();
    expectTypeOf(new Agent({ model }).continueRun).returns.toEqualTypeOf<Promise<RunOutput<unknown>>>();
  });
});
