/**
 * The model-middleware built-ins, retry(), fallback() and limits(), driven through composeModelMiddleware with a
 * terminal that calls a real OpenAIChat (the real `openai` client, no retries of its own) against the fake server on
 * 127.0.0.1. The run context is the part of one the middleware reads: the run's signal and its output's metrics and
 * tool calls, which the agent's loop keeps up to date (the loop's own specs drive them end to end).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  HookchainConfigError,
  InputCheckError,
  LimitExceededError,
  OpenAIChat,
  OutputCheckError,
  fallback,
  limits,
  retry,
  type Model,
  type ModelCall,
  type ModelMiddleware,
  type ModelResponse,
  type RunContext,
  type ToolCallRecord,
} from 'hookchain';
import { startFakeOpenAI, type FakeOpenAI } from 'hookchain/testing';
import { composeModelMiddleware, markReleased, type ModelTerminal } from '../lib/models/middleware.ts';

let server: FakeOpenAI;
beforeAll(async () => {
  server = await startFakeOpenAI();
});
afterAll(() => server.close());

const openai = (id: string) => new OpenAIChat({ id, client: server.client() });

interface FakeRun {
  controller: AbortController;
  context: RunContext<object, object>;
  metrics: { inputTokens: number; outputTokens: number; totalTokens: number; durationMs: number; steps: number };
  toolCalls: ToolCallRecord[];
}

function fakeRun(steps = 1): FakeRun {
  const controller = new AbortController();
  const metrics = { inputTokens: 0, outputTokens: 0, totalTokens: 0, durationMs: 0, steps };
  const toolCalls: ToolCallRecord[] = [];
  const context = { signal: controller.signal, output: { metrics, toolCalls } } as unknown as RunContext<object, object>;
  return { controller, context, metrics, toolCalls };
}

function callOf(run: FakeRun, model: Model = openai('model-a')): ModelCall<object, object> {
  return {
    runContext: run.context,
    request: { messages: [{ role: 'user', content: 'Where is my order?' }], signal: run.controller.signal, runId: 'run-1' },
    model,
    step: run.metrics.steps,
    attempt: 1,
  };
}

/** The loop's non-streaming terminal: the current model answers the request. */
const invoke: ModelTerminal = (call) => call.model.invoke(call.request);

/** The loop's streaming terminal: a failure after some text was released is marked so (as the loop marks it). */
const stream: ModelTerminal = async (call) => {
  let content = '';
  try {
    for await (const chunk of call.model.stream!(call.request)) content += chunk.delta ?? '';
  } catch (error) {
    if (content !== '') markReleased(error);
    throw error;
  }
  return { content };
};

/** Records each call that reaches the terminal, then hands it to `terminal`. */
function recording(terminal: ModelTerminal = invoke): { terminal: ModelTerminal; seen: ModelCall<object, object>[] } {
  const seen: ModelCall<object, object>[] = [];
  return { seen, terminal: (call) => (seen.push(call), terminal(call)) };
}

function chain(middleware: ModelMiddleware<object, object>[], terminal: ModelTerminal = invoke) {
  return composeModelMiddleware(middleware, terminal);
}

const requestsSince = (before: number) => server.chatRequests().slice(before);
const released = (error: Error) => (markReleased(error), error);
const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
const httpError = (status: number, headers?: Record<string, string>) => Object.assign(new Error(`HTTP ${status}`), { status, headers });

describe('retry()', () => {
  it('retries a 429 as soon as its Retry-After allows, and answers', async () => {
    server.setReplies([{ status: 429, headers: { 'retry-after': '0' } }, 'shipped']);
    const before = server.chatRequests().length;
    const started = performance.now();
    // The backoff alone would wait 20 s or more: only honouring Retry-After: 0 finishes in time.
    const response = await chain([retry({ minDelayMs: 20_000, maxDelayMs: 30_000 })])(callOf(fakeRun()));
    expect(response.content).toBe('shipped');
    expect(requestsSince(before)).toHaveLength(2);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('honours retry-after-ms, an HTTP-date Retry-After and a plain header record, and caps a long one at maxDelayMs', async () => {
    const past = new Date(Date.now() - 60_000).toUTCString();
    const cases: Record<string, string>[] = [{ 'retry-after-ms': '3' }, { 'Retry-After': past }, { 'retry-after': '3600' }];
    for (const headers of cases) {
      let tries = 0;
      const terminal: ModelTerminal = async () => {
        if (++tries === 1) throw httpError(429, headers);
        return { content: 'ok' };
      };
      const started = performance.now();
      const response = await chain([retry({ minDelayMs: 20, maxDelayMs: 20 })], terminal)(callOf(fakeRun()));
      expect(response.content).toBe('ok');
      expect(tries).toBe(2);
      expect(performance.now() - started, JSON.stringify(headers)).toBeLessThan(5_000);
    }
  });

  it('retries a 500 by calling the rest of the chain again, with the attempt counted', async () => {
    server.setReplies([{ status: 500 }, 'fine']);
    const { terminal, seen } = recording();
    const response = await chain([retry({ minDelayMs: 1, maxDelayMs: 5 })], terminal)(callOf(fakeRun()));
    expect(response.content).toBe('fine');
    expect(seen.map((c) => c.attempt)).toEqual([1, 2]);
  });

  it('waits between tries with a backoff of at least minDelayMs', async () => {
    let tries = 0;
    const terminal: ModelTerminal = async () => {
      if (++tries < 3) throw httpError(503);
      return { content: 'ok' };
    };
    const started = performance.now();
    await chain([retry({ minDelayMs: 50, maxDelayMs: 200 })], terminal)(callOf(fakeRun()));
    expect(tries).toBe(3);
    expect(performance.now() - started).toBeGreaterThanOrEqual(95);
  });

  it('retries a dropped connection', async () => {
    server.setReplies([{ drop: true }, 'after the drop']);
    const before = server.chatRequests().length;
    const response = await chain([retry({ minDelayMs: 1, maxDelayMs: 5 })])(callOf(fakeRun()));
    expect(response.content).toBe('after the drop');
    expect(requestsSince(before)).toHaveLength(2);
  });

  it('does not retry a 400', async () => {
    server.setReplies([{ status: 400, body: { error: { message: 'bad schema', type: 'invalid_request_error' } } }, 'never']);
    const before = server.chatRequests().length;
    await expect(chain([retry({ minDelayMs: 1 })])(callOf(fakeRun()))).rejects.toMatchObject({ status: 400 });
    expect(requestsSince(before)).toHaveLength(1);
  });

  it('rejects with the last error when the attempts run out', async () => {
    server.setReplies([{ status: 500 }, { status: 502 }, { status: 503 }, 'never']);
    const before = server.chatRequests().length;
    await expect(chain([retry({ attempts: 3, minDelayMs: 1, maxDelayMs: 2 })])(callOf(fakeRun()))).rejects.toMatchObject({
      status: 503,
    });
    expect(requestsSince(before)).toHaveLength(3);
  });

  it('asks retryOn which failures to retry', async () => {
    server.setReplies([{ status: 400 }, 'second try']);
    const retryOn = (error: unknown) => (error as { status?: number }).status === 400;
    const response = await chain([retry({ minDelayMs: 1, retryOn })])(callOf(fakeRun()));
    expect(response.content).toBe('second try');
  });

  it.each([
    ['an input check error', () => new InputCheckError('no')],
    ['an output check error', () => new OutputCheckError('no', { retry: true })],
    ['a config error', () => new HookchainConfigError('INVALID_OPTION', 'bad')],
    ['a limit error', () => new LimitExceededError('maxModelCalls', 1, 'one made')],
    ['a streamed failure after its text was released', () => released(httpError(503))],
  ])('never retries %s, even when retryOn says yes', async (_what, make) => {
    const thrown = make();
    const { terminal, seen } = recording(async () => {
      throw thrown;
    });
    await expect(chain([retry({ minDelayMs: 1, retryOn: () => true })], terminal)(callOf(fakeRun()))).rejects.toBe(thrown);
    expect(seen).toHaveLength(1);
  });

  it('does not retry a cancelled run: the client’s abort error is passed on', async () => {
    server.setReplies([{ content: 'slow', delayMs: 2_000 }, 'never']);
    const run = fakeRun();
    const before = server.chatRequests().length;
    const pending = chain([retry({ minDelayMs: 1, retryOn: () => true })])(callOf(run));
    setTimeout(() => run.controller.abort(new Error('user left')), 50);
    await expect(pending).rejects.toThrow();
    expect(requestsSince(before)).toHaveLength(1);
    expect(run.controller.signal.aborted).toBe(true);
  });

  it('does not retry any failure once the run is cancelled, even a 503', async () => {
    const run = fakeRun();
    const failure = httpError(503);
    const { terminal, seen } = recording(async () => {
      run.controller.abort();
      throw failure;
    });
    await expect(chain([retry({ minDelayMs: 1 })], terminal)(callOf(run))).rejects.toBe(failure);
    expect(seen).toHaveLength(1);
  });

  it('does not retry a streamed call that failed after releasing text, but retries one that failed before', async () => {
    server.setReplies([{ content: 'Your order has shipped', failAfterChunks: 2 }, 'never']);
    let before = server.chatRequests().length;
    await expect(chain([retry({ minDelayMs: 1 })], stream)(callOf(fakeRun()))).rejects.toThrow();
    expect(requestsSince(before)).toHaveLength(1);

    server.setReplies([{ content: 'Your order has shipped', failAfterChunks: 0 }, 'Your order has shipped']);
    before = server.chatRequests().length;
    const response = await chain([retry({ minDelayMs: 1 })], stream)(callOf(fakeRun()));
    expect(response.content).toBe('Your order has shipped');
    expect(requestsSince(before)).toHaveLength(2);
  });

  it('ends the wait at once when the run is cancelled, rejects with the reason and leaves no timer', async () => {
    const run = fakeRun();
    const reason = new Error('user cancelled');
    let tries = 0;
    let clearedByAbort = -1;
    const terminal: ModelTerminal = async () => {
      tries++;
      setTimeout(() => {
        // Aborting is synchronous: the timers that go with it are the wait's.
        const during = timers();
        run.controller.abort(reason);
        clearedByAbort = during - timers();
      }, 20);
      throw httpError(503);
    };
    const started = performance.now();
    await expect(chain([retry({ minDelayMs: 60_000, maxDelayMs: 60_000 })], terminal)(callOf(run))).rejects.toBe(reason);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(tries).toBe(1);
    expect(clearedByAbort).toBe(1);
  });

  it('refuses bad options, naming the option and what it must be', () => {
    expect(() => retry({ attempts: 0 })).toThrow(/retry\(\): option "attempts" must be a positive integer, got number 0/);
    expect(() => retry({ attempts: 1.5 })).toThrow(/"attempts" must be a positive integer/);
    expect(() => retry({ minDelayMs: -1 })).toThrow(/"minDelayMs" must be a whole number of milliseconds from 0 to 2147483647/);
    expect(() => retry({ maxDelayMs: 2 ** 31 })).toThrow(/"maxDelayMs" must be a whole number of milliseconds from 0 to 2147483647/);
    expect(() => retry({ minDelayMs: 100, maxDelayMs: 10 })).toThrow(/"minDelayMs" \(100\) must not exceed "maxDelayMs" \(10\)/);
    expect(() => retry({ retryOn: 'always' as never })).toThrow(/"retryOn" must be a function/);
    expect(() => retry({ retries: 3 } as never)).toThrow(
      /unknown option "retries"; known options are attempts, minDelayMs, maxDelayMs, retryOn/,
    );
    expect(() => retry({ attempts: 0 })).toThrow(HookchainConfigError);
  });
});

describe('fallback()', () => {
  it('asks the next model when the first answers 503, and the server sees both model ids', async () => {
    server.setReply((body) => (body.model === 'model-a' ? { status: 503 } : `answered by ${body.model}`));
    const before = server.chatRequests().length;
    const response = await chain([fallback([openai('model-b')])])(callOf(fakeRun(), openai('model-a')));
    expect(response.content).toBe('answered by model-b');
    expect(requestsSince(before).map((r) => r.model)).toEqual(['model-a', 'model-b']);
  });

  it('tries each fallback in turn and rejects with the last error when all fail', async () => {
    server.setReply((body) => ({ status: body.model === 'model-c' ? 502 : 503 }));
    const before = server.chatRequests().length;
    await expect(chain([fallback([openai('model-b'), openai('model-c')])])(callOf(fakeRun(), openai('model-a')))).rejects.toMatchObject({
      status: 502,
    });
    expect(requestsSince(before).map((r) => r.model)).toEqual(['model-a', 'model-b', 'model-c']);
  });

  it('does not fall back on a 400, nor on a check error even when retryOn says yes', async () => {
    server.setReply({ status: 400 });
    const before = server.chatRequests().length;
    await expect(chain([fallback([openai('model-b')])])(callOf(fakeRun(), openai('model-a')))).rejects.toMatchObject({ status: 400 });
    expect(requestsSince(before).map((r) => r.model)).toEqual(['model-a']);

    const verdict = new OutputCheckError('blocked');
    const { terminal, seen } = recording(async () => {
      throw verdict;
    });
    await expect(chain([fallback([openai('model-b')], { retryOn: () => true })], terminal)(callOf(fakeRun()))).rejects.toBe(verdict);
    expect(seen).toHaveLength(1);
  });

  it('under retry() after it, retries each model before moving on', async () => {
    server.setReply((body) => (body.model === 'model-a' ? { status: 500 } : 'b is up'));
    const before = server.chatRequests().length;
    const response = await chain([fallback([openai('model-b')]), retry({ attempts: 2, minDelayMs: 1, maxDelayMs: 2 })])(
      callOf(fakeRun(), openai('model-a')),
    );
    expect(response.content).toBe('b is up');
    expect(requestsSince(before).map((r) => r.model)).toEqual(['model-a', 'model-a', 'model-b']);
  });

  it('refuses anything but a non-empty array of models, and unknown options', () => {
    expect(() => fallback([])).toThrow(/fallback\(\): models must be a non-empty array of models.*got an empty array/);
    expect(() => fallback(openai('x') as never)).toThrow(/models must be a non-empty array.*got an object \(OpenAIChat\)/);
    expect(() => fallback([openai('x'), { id: 'y' } as never])).toThrow(/models\[1\] must be a model/);
    expect(() => fallback([openai('x')], { retryOn: 1 as never })).toThrow(/option "retryOn" must be a function/);
    expect(() => fallback([openai('x')], { attempts: 2 } as never)).toThrow(/unknown option "attempts"; known options are retryOn/);
  });
});

describe('limits()', () => {
  it('refuses the model call past maxModelCalls without calling the model', async () => {
    server.setReply('ok');
    const run = fakeRun(0);
    const { terminal, seen } = recording();
    const call = chain([limits({ maxModelCalls: 2 })], terminal);
    for (let step = 1; step <= 2; step++) {
      run.metrics.steps = step;
      await expect(call(callOf(run))).resolves.toMatchObject({ content: 'ok' });
    }
    run.metrics.steps = 3;
    const refused = call(callOf(run));
    await expect(refused).rejects.toBeInstanceOf(LimitExceededError);
    await expect(refused).rejects.toMatchObject({
      limit: 'maxModelCalls',
      max: 2,
      message: expect.stringMatching(/limits\(\{ maxModelCalls: 2 \}\): the run already made 2 model calls, so model call 3 was not made/),
    });
    expect(seen).toHaveLength(2);
  });

  it('counts the steps a resumed run already made', async () => {
    server.setReply('ok');
    const resumed = fakeRun(3); // two calls before the pause; the loop has counted this one
    await expect(chain([limits({ maxModelCalls: 2 })])(callOf(resumed))).rejects.toMatchObject({ limit: 'maxModelCalls' });
    await expect(chain([limits({ maxModelCalls: 3 })])(callOf(fakeRun(3)))).resolves.toMatchObject({ content: 'ok' });
  });

  it('counts every try when placed after retry()', async () => {
    server.setReplies([{ status: 500 }, { status: 500 }, 'never']);
    const { terminal, seen } = recording();
    await expect(
      chain([retry({ attempts: 3, minDelayMs: 1, maxDelayMs: 2 }), limits({ maxModelCalls: 2 })], terminal)(callOf(fakeRun())),
    ).rejects.toMatchObject({ limit: 'maxModelCalls' });
    expect(seen).toHaveLength(2);
  });

  it('refuses a call once the run has used maxTokensPerRun, but returns the answer that crossed it', async () => {
    server.setReplies([{ content: 'long answer', usage: { prompt_tokens: 90, completion_tokens: 30 } }, 'never']);
    const run = fakeRun();
    const { terminal, seen } = recording();
    const call = chain([limits({ maxTokensPerRun: 100 })], terminal);
    const first = await call(callOf(run));
    expect(first.content).toBe('long answer');
    // What the loop does after each answer.
    run.metrics.inputTokens += first.usage!.inputTokens;
    run.metrics.outputTokens += first.usage!.outputTokens;
    run.metrics.totalTokens = run.metrics.inputTokens + run.metrics.outputTokens;
    run.metrics.steps = 2;
    await expect(call(callOf(run))).rejects.toMatchObject({
      limit: 'maxTokensPerRun',
      max: 100,
      message: expect.stringContaining('the run already used 120 tokens, so model call 2 was not made'),
    });
    expect(seen).toHaveLength(1);
  });

  it('fails an answer whose tool calls would take the run past maxToolCalls', async () => {
    const record: ToolCallRecord = { callId: 'call_0', toolName: 'get_order', args: {}, status: 'completed' };
    const run = fakeRun(2);
    run.toolCalls.push(record);
    server.setReplies([{ toolCalls: [{ name: 'get_order', arguments: { orderId: 'A-1' } }] }]);
    const response: ModelResponse = await chain([limits({ maxToolCalls: 2 })])(callOf(run));
    expect(response.toolCalls).toHaveLength(1);

    server.setReplies([
      {
        toolCalls: [
          { name: 'get_order', arguments: { orderId: 'A-1' } },
          { name: 'get_order', arguments: { orderId: 'A-2' } },
        ],
      },
    ]);
    await expect(chain([limits({ maxToolCalls: 2 })])(callOf(run))).rejects.toMatchObject({
      limit: 'maxToolCalls',
      max: 2,
      message: expect.stringContaining('the run already made 1 tool call and the model asked for 2 more (3 in all)'),
    });
  });

  it('is never retried by retry() or fallback()', async () => {
    const { terminal, seen } = recording();
    const run = fakeRun(5);
    const middleware = [
      retry({ minDelayMs: 1, retryOn: () => true }),
      fallback([openai('model-b')], { retryOn: () => true }),
      limits({ maxModelCalls: 1 }),
    ];
    await expect(chain(middleware, terminal)(callOf(run))).rejects.toBeInstanceOf(LimitExceededError);
    expect(seen).toHaveLength(0);
  });

  it('refuses no budget, a budget that is not a positive integer, and unknown options', () => {
    expect(() => limits({})).toThrow(/limits\(\): give at least one budget: maxModelCalls, maxTokensPerRun or maxToolCalls/);
    expect(() => limits(undefined as never)).toThrow(/give at least one budget/);
    expect(() => limits({ maxModelCalls: 0 })).toThrow(/option "maxModelCalls" must be a positive integer, got number 0/);
    expect(() => limits({ maxTokensPerRun: 1.5 })).toThrow(/option "maxTokensPerRun" must be a positive integer/);
    expect(() => limits({ maxSteps: 3 } as never)).toThrow(
      /unknown option "maxSteps"; known options are maxModelCalls, maxTokensPerRun, maxToolCalls/,
    );
  });
});

describe('the built-ins as typed middleware', () => {
  it('fit an agent’s typed middleware list and keep their names for error messages', () => {
    const typed: ModelMiddleware<{ cart: string[] }, { db: string }>[] = [retry(), fallback([openai('b')]), limits({ maxModelCalls: 3 })];
    expect(typed.map((m) => m.name)).toEqual(['retry', 'fallback', 'limits']);
  });
});
