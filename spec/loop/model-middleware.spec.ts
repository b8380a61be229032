/**
 * Model middleware through the agent's loop, against the real `openai` client and the fake server: retries per
 * step, no retry once a streamed call has released text, fallbacks reported in the output, budgets as typed
 * failures, and a re-entrant custom middleware.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Agent, LimitExceededError, fallback, limits, retry, tool, type ModelMiddleware } from 'hookchain';
import { startFakeOpenAI, type FakeOpenAI } from 'hookchain/testing';
import { chatModel, collect } from './loop-kit.ts';

let fake: FakeOpenAI;
beforeEach(async () => {
  fake = await startFakeOpenAI();
});
afterEach(async () => {
  await fake.close();
});

const quickRetry = () => retry({ attempts: 3, minDelayMs: 1, maxDelayMs: 5 });
const echo = tool({ name: 'echo', description: 'echoes', parameters: z.object({ v: z.string() }), execute: ({ v }) => ({ v }) });

describe('retry() in the loop', () => {
  it('retries the failing step only: a 503 on the second model call is retried, the first step is not repeated', async () => {
    fake.setReplies([{ toolCalls: [{ name: 'echo', arguments: { v: 'a' } }] }, { status: 503 }, 'done']);
    const agent = new Agent({ model: chatModel(fake), tools: [echo], modelMiddleware: [quickRetry()] });
    const output = await agent.run('go');
    expect(output.content).toBe('done');
    expect(output.metrics.steps).toBe(2); // retries of a step are not steps
    expect(fake.chatRequests()).toHaveLength(3);
    expect(output.toolCalls).toHaveLength(1);
  });

  it('retries a streamed call that failed before any text, and not one that failed after some text was released', async () => {
    const agent = new Agent({ model: chatModel(fake), modelMiddleware: [quickRetry()] });
    fake.setReplies([{ content: 'first answer', failAfterChunks: 0 }, 'second answer']);
    const ok = await collect(agent.stream('go'));
    expect(ok.error).toBeUndefined();
    expect(
      ok.events
        .filter((e) => e.type === 'content')
        .map((e) => (e as { delta: string }).delta)
        .join(''),
    ).toBe('second answer');

    fake.setReplies([{ content: 'partial answer that is cut', failAfterChunks: 2 }, 'never asked']);
    const before = fake.chatRequests().length;
    const cut = await collect(agent.stream('go'));
    expect(cut.error).toBeDefined();
    expect(fake.chatRequests().length - before).toBe(1); // not retried: the consumer saw the start of an answer
    const last = cut.events.at(-1)!;
    expect(last.type).toBe('run_error');
    expect((last as { error: { type: string } }).error.type).toBe('model_error');
  });
});

describe('fallback() in the loop', () => {
  it('answers with the next model and reports it in RunOutput.model', async () => {
    fake.setReplies([{ status: 503 }, 'from the backup']);
    const agent = new Agent({ model: chatModel(fake, 'primary'), modelMiddleware: [fallback([chatModel(fake, 'backup')])] });
    const output = await agent.run('go');
    expect(output.content).toBe('from the backup');
    expect(output.model).toBe('backup');
    expect(fake.chatRequests().map((r) => r.model)).toEqual(['primary', 'backup']);
  });
});

describe('limits() in the loop', () => {
  it('fails the run with limit_error before the call that would exceed maxModelCalls, which is never made', async () => {
    fake.setReply({ toolCalls: [{ name: 'echo', arguments: { v: 'again' } }] });
    const agent = new Agent({ model: chatModel(fake), tools: [echo], modelMiddleware: [limits({ maxModelCalls: 2 })] });
    const error = await agent.run('loop forever').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LimitExceededError);
    expect((error as LimitExceededError).limit).toBe('maxModelCalls');
    expect((error as LimitExceededError).runOutput?.error?.type).toBe('limit_error');
    expect(fake.chatRequests()).toHaveLength(2);
  });

  it('refuses an answer whose tool calls would exceed maxToolCalls: none of them runs', async () => {
    let ran = 0;
    const counted = tool({
      name: 'echo',
      description: 'counts',
      parameters: z.object({ v: z.string() }),
      execute: () => ++ran,
    });
    fake.setReplies([
      {
        toolCalls: [
          { name: 'echo', arguments: { v: '1' } },
          { name: 'echo', arguments: { v: '2' } },
          { name: 'echo', arguments: { v: '3' } },
        ],
      },
    ]);
    const agent = new Agent({ model: chatModel(fake), tools: [counted], modelMiddleware: [limits({ maxToolCalls: 2 })] });
    const error = await agent.run('go').catch((e: unknown) => e);
    expect((error as LimitExceededError).runOutput?.error?.type).toBe('limit_error');
    expect(ran).toBe(0);
  });
});

describe('a custom model middleware', () => {
  it('is re-entrant: next() may run again, with a changed request', async () => {
    fake.setReplies(['not good enough', 'good']);
    const askTwice: ModelMiddleware = async (call, next) => {
      const first = await next();
      if (first.content === 'good') return first;
      return next({ ...call.request, messages: [...call.request.messages, { role: 'user', content: 'try harder' }] });
    };
    const agent = new Agent({ model: chatModel(fake), modelMiddleware: [askTwice] });
    const output = await agent.run('go');
    expect(output.content).toBe('good');
    expect(fake.chatRequests()[1]!.messages.at(-1)).toEqual({ role: 'user', content: 'try harder' });
    // The rewritten request was the middleware's: the run's own messages hold no 'try harder'.
    expect(output.messages.map((m) => m.content)).toEqual(['go', 'good']);
  });

  it('fails the run with a message naming it when it resolves without a response', async () => {
    const forgot: ModelMiddleware = async function forgetful(_call, next) {
      await next();
      return undefined as never;
    };
    fake.setReplies(['x']);
    const agent = new Agent({ model: chatModel(fake), modelMiddleware: [forgot] });
    await expect(agent.run('go')).rejects.toThrow(/model middleware "forgetful" resolved with undefined/);
  });
});
