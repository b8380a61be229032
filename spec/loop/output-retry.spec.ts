/** OutputCheckError({ retry: true }): a post-hook asks for another answer; the rejected one leaves no trace. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  Agent,
  BaseGuardrail,
  HookchainConfigError,
  InputCheckError,
  MemorySessionStore,
  OutputCheckError,
  tool,
  type HookArgs,
  type PostHookArgs,
  type RunOutput,
} from 'hookchain';
import { z } from 'zod';
import { startFakeOpenAI, type FakeOpenAI } from 'hookchain/testing';
import { chatModel, collect, deltas, listen, ofType } from './loop-kit.ts';

let fake: FakeOpenAI;
beforeEach(async () => {
  fake = await startFakeOpenAI();
});
afterEach(() => fake.close());

/** Rejects French with a retry verdict numbered by attempt; records every answer it saw. */
function englishOnly() {
  const seen: string[] = [];
  const judge = function judge({ runOutput }: PostHookArgs) {
    seen.push(runOutput.content ?? '');
    if (/Bonjour/.test(runOutput.content ?? ''))
      throw new OutputCheckError(`Answer in English only (attempt ${seen.length})`, { retry: true });
  };
  return { judge, seen };
}

/** The same rule as a guardrail without a chunk check: it gates a stream (holds its text until it has checked it). */
class EnglishOnly extends BaseGuardrail {
  override check(args: HookArgs) {
    if (args.phase === 'post' && /Bonjour/.test(args.runOutput.content ?? '')) {
      throw new OutputCheckError('Answer in English only', { retry: true });
    }
  }
}

async function failure(run: Promise<RunOutput>): Promise<{ error: OutputCheckError; output: RunOutput }> {
  const error = (await run.then(
    () => {
      throw new Error('the run should have failed');
    },
    (e: unknown) => e,
  )) as OutputCheckError & { runOutput: RunOutput };
  return { error, output: error.runOutput };
}

describe('a post-hook asking for another answer', () => {
  it('calls the model again with the message as feedback, runs the post-hooks again, and keeps no trace of the rejected answer', async () => {
    const { judge, seen } = englishOnly();
    const before: string[] = [];
    const after: string[] = [];
    const store = new MemorySessionStore();
    fake.setReplies(['Bonjour, REJECTED-TEXT', 'Hello, all good.']);
    const agent = new Agent({
      model: chatModel(fake),
      sessionStore: store,
      maxOutputRetries: 2,
      postHooks: [
        function first({ runOutput }: PostHookArgs) {
          before.push(runOutput.content ?? '');
        },
        judge,
        function last({ runOutput }: PostHookArgs) {
          after.push(runOutput.content ?? '');
        },
      ],
    });
    const events = listen(agent);
    const output = await agent.run('Say hi', { sessionId: 's' });
    expect(output.status).toBe('completed');
    expect(output.content).toBe('Hello, all good.');
    expect(seen).toEqual(['Bonjour, REJECTED-TEXT', 'Hello, all good.']);
    expect(before).toEqual(['Bonjour, REJECTED-TEXT', 'Hello, all good.']);
    expect(after).toEqual(['Hello, all good.']);
    const requests = fake.chatRequests();
    expect(requests).toHaveLength(2);
    expect(requests[1]!.messages).toEqual([
      { role: 'user', content: 'Say hi' },
      { role: 'user', content: 'Answer in English only (attempt 1)' },
    ]);
    expect(output.messages).toEqual([
      { role: 'user', content: 'Say hi' },
      { role: 'assistant', content: 'Hello, all good.' },
    ]);
    expect(output.metrics.steps).toBe(2);
    // Nowhere: the output, the stored session, any event (no content event either), the requests.
    expect(ofType(events, 'content')).toHaveLength(0);
    for (const where of [output, store.get('s'), events, requests]) expect(JSON.stringify(where)).not.toContain('REJECTED');
    expect(ofType(events, 'post_hook_started').map((e) => e.hookName)).toEqual(['first', 'judge', 'first', 'judge', 'last']);
  });

  it("keeps the run's tool calls and results in the retry request and the output; drops only the rejected answer", async () => {
    const { judge } = englishOnly();
    const getOrder = tool({
      name: 'get_order',
      description: 'Look up an order',
      parameters: z.object({ orderId: z.string() }),
      execute: ({ orderId }) => ({ orderId, status: 'shipped' }),
    });
    fake.setReplies([{ toolCalls: [{ id: 'call_1', name: 'get_order', arguments: { orderId: 'A-1' } }] }, 'Bonjour REJECTED', 'Shipped.']);
    const agent = new Agent({ model: chatModel(fake), tools: [getOrder], maxOutputRetries: 1, postHooks: [judge] });
    const output = await agent.run('Where is A-1?');
    expect(output.content).toBe('Shipped.');
    expect(output.metrics.steps).toBe(3);
    expect(fake.chatRequests()[2]!.messages.map((m) => [m.role, m.content])).toEqual([
      ['user', 'Where is A-1?'],
      ['assistant', null],
      ['tool', '{"orderId":"A-1","status":"shipped"}'],
      ['user', 'Answer in English only (attempt 1)'],
    ]);
    expect(output.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'assistant']);
    expect(output.toolCalls).toHaveLength(1);
    expect(JSON.stringify(output)).not.toContain('REJECTED');
  });

  it('fails closed with the last verdict when the retries are used up', async () => {
    const { judge } = englishOnly();
    fake.setReplies(['Bonjour 1', 'Bonjour 2', 'Bonjour 3', 'unused']);
    const store = new MemorySessionStore();
    const agent = new Agent({ model: chatModel(fake), maxOutputRetries: 2, postHooks: [judge], sessionStore: store });
    const { error, output } = await failure(agent.run('x', { sessionId: 's' }));
    expect(error).toBeInstanceOf(OutputCheckError);
    expect(error.message).toBe('Answer in English only (attempt 3)');
    expect(output.error).toMatchObject({ type: 'output_check_error', hookName: 'judge', message: 'Answer in English only (attempt 3)' });
    expect(fake.chatRequests()).toHaveLength(3);
    // Every feedback so far goes along; none of the rejected answers does.
    expect(fake.chatRequests()[2]!.messages.map((m) => m.content)).toEqual([
      'x',
      'Answer in English only (attempt 1)',
      'Answer in English only (attempt 2)',
    ]);
    expect(JSON.stringify(store.get('s'))).not.toContain('Bonjour');
    expect(output.content).toBeUndefined();
  });

  it('fails at once without maxOutputRetries (default 0)', async () => {
    const { judge } = englishOnly();
    fake.setReplies(['Bonjour', 'unused']);
    const agent = new Agent({ model: chatModel(fake), postHooks: [judge] });
    const { error } = await failure(agent.run('x'));
    expect(error.retry).toBe(true);
    expect(error.message).toBe('Answer in English only (attempt 1)');
    expect(fake.chatRequests()).toHaveLength(1);
  });

  it('a verdict without retry: true is final even with retries left', async () => {
    fake.setReplies(['Bonjour', 'unused']);
    const agent = new Agent({
      model: chatModel(fake),
      maxOutputRetries: 3,
      postHooks: [
        function strict() {
          throw new OutputCheckError('no');
        },
      ],
    });
    await failure(agent.run('x'));
    expect(fake.chatRequests()).toHaveLength(1);
  });
});

describe('output retries while streaming', () => {
  it('fail the run when no post-hook gates the stream (the rejected text has already been released)', async () => {
    const { judge } = englishOnly();
    fake.setReplies([{ content: 'Bonjour tout le monde', chunkSize: 4 }, 'unused']);
    const agent = new Agent({ model: chatModel(fake), maxOutputRetries: 2, postHooks: [judge] });
    const stream = agent.stream('x');
    const { events, error } = await collect(stream);
    expect(error).toBeInstanceOf(OutputCheckError);
    expect(deltas(events).join('')).toBe('Bonjour tout le monde');
    expect(events.at(-1)!.type).toBe('run_error');
    expect(fake.chatRequests()).toHaveLength(1);
    await expect(stream.finalOutput).rejects.toBeInstanceOf(OutputCheckError);
  });

  it('work behind a gating guardrail: only the accepted answer is released', async () => {
    fake.setReplies([
      { content: 'Bonjour REJECTED-TEXT', chunkSize: 4 },
      { content: 'Hello there.', chunkSize: 4 },
    ]);
    const store = new MemorySessionStore();
    const agent = new Agent({ model: chatModel(fake), maxOutputRetries: 1, postHooks: [new EnglishOnly()], sessionStore: store });
    const stream = agent.stream('x', { sessionId: 's' });
    const { events, error } = await collect(stream);
    expect(error).toBeUndefined();
    expect(deltas(events).join('')).toBe('Hello there.');
    const output = await stream.finalOutput;
    expect(output.content).toBe('Hello there.');
    expect(fake.chatRequests()).toHaveLength(2);
    expect(fake.chatRequests()[1]!.messages.at(-1)).toEqual({ role: 'user', content: 'Answer in English only' });
    for (const where of [events, output, store.get('s'), fake.chatRequests()[1]]) expect(JSON.stringify(where)).not.toContain('REJECTED');
  });
});

describe('only an OutputCheckError can ask for another answer', () => {
  it('new InputCheckError(message, { retry: true }) is a HookchainConfigError', () => {
    expect(() => new InputCheckError('x', { retry: true } as never)).toThrow(HookchainConfigError);
    expect(() => new InputCheckError('x', { retry: true } as never)).toThrow(/only an OutputCheckError/);
  });
});
