/** hookchain/testing: the fake OpenAI server and the event recorders that users test their own hooks with. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { Agent, OpenAIChat } from 'hookchain';
import { assertOrder, expectHookOrder, OfflineModel, recordEvents, startFakeOpenAI, type FakeOpenAI } from 'hookchain/testing';

let server: FakeOpenAI;
beforeAll(async () => {
  server = await startFakeOpenAI();
});
afterAll(() => server.close());

describe('startFakeOpenAI', () => {
  it('listens on 127.0.0.1 and echoes the last user message by default', async () => {
    expect(server.baseURL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
    server.setReply((body) => `echo: ${String(body.messages.at(-1)!.content)}`);
    const completion = await server.client().chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'ping' }] });
    expect(completion.choices[0]!.message.content).toBe('echo: ping');
    expect(server.chatRequests().at(-1)!.messages).toEqual([{ role: 'user', content: 'ping' }]);
  });

  it('streams exactly the scripted SSE chunks, with usage when asked', async () => {
    server.setReply({ chunks: ['Hel', 'lo', '!'], usage: { prompt_tokens: 5, completion_tokens: 2 } });
    const stream = await server.client().chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const pieces: string[] = [];
    let usage: unknown;
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta?.content;
      if (delta) pieces.push(delta);
      if (chunk.usage) usage = chunk.usage;
    }
    expect(pieces).toEqual(['Hel', 'lo', '!']);
    expect(usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 });
  });

  it('scripts failures, and answers moderation with every category under its API name', async () => {
    server.setReply({ status: 503, body: { error: { message: 'overloaded', type: 'server_error' } } });
    await expect(
      server.client().chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toBeInstanceOf(OpenAI.APIError);
    server.setModeration(() => ({ categories: { 'self-harm/intent': true } }));
    const verdict = await server.client().moderations.create({ model: 'omni-moderation-latest', input: 'x' });
    expect(verdict.results[0]!.flagged).toBe(true);
    expect(Object.keys(verdict.results[0]!.categories)).toHaveLength(13);
    expect((verdict.results[0]!.categories as unknown as Record<string, boolean>)['self-harm/intent']).toBe(true);
    server.setModeration(() => ({ raw: '{"not": "a moderation"' }));
    await expect(server.client().moderations.create({ model: 'm', input: 'x' })).rejects.toThrow();
  });

  it('records whether the client hung up', async () => {
    server.setReply({ content: 'slow', delayMs: 1_000 });
    const controller = new AbortController();
    const pending = server
      .client()
      .chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] }, { signal: controller.signal })
      .catch(() => 'aborted');
    await new Promise((r) => setTimeout(r, 30));
    controller.abort();
    expect(await pending).toBe('aborted');
    const request = server.requests.at(-1)!;
    await request.closed;
    expect(request.aborted).toBe(true);
  });

  it('scripts the failures a retry must handle: headers on a status reply, a dropped socket, a stream cut mid-way', async () => {
    const messages = [{ role: 'user' as const, content: 'x' }];
    server.setReplies([{ status: 429, headers: { 'retry-after': '7' } }, { drop: true }, { content: 'abcdefgh', failAfterChunks: 1 }]);
    const limited = await server
      .client()
      .chat.completions.create({ model: 'm', messages })
      .catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
    expect((limited as InstanceType<typeof OpenAI.APIError>).headers?.get('retry-after')).toBe('7');

    const dropped = await server
      .client()
      .chat.completions.create({ model: 'm', messages })
      .catch((e: unknown) => e);
    expect(dropped).toBeInstanceOf(OpenAI.APIConnectionError);
    const droppedRequest = server.requests.at(-1)!;
    await droppedRequest.closed;
    expect(droppedRequest.aborted).toBe(false);

    const pieces: string[] = [];
    const cut = await (async () => {
      const stream = await server.client().chat.completions.create({ model: 'm', messages, stream: true });
      for await (const chunk of stream) if (chunk.choices[0]?.delta?.content) pieces.push(chunk.choices[0].delta.content);
    })().catch((e: unknown) => e);
    expect(cut).toBeInstanceOf(Error);
    expect(pieces).toEqual(['abcd']);
  });

  it('scripts tool calls: plain tool_calls with finish_reason tool_calls, and streamed fragments cut mid-arguments', async () => {
    const tools = [{ type: 'function' as const, function: { name: 'get_order', parameters: { type: 'object' } } }];
    server.setReply({ toolCalls: [{ name: 'get_order', arguments: { orderId: 'A-17' } }] });
    const plain = await server.client().chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }], tools });
    expect(plain.choices[0]!.finish_reason).toBe('tool_calls');
    expect(plain.choices[0]!.message).toMatchObject({
      content: null,
      tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_order', arguments: '{"orderId":"A-17"}' } }],
    });
    expect(server.chatRequests().at(-1)!.tools).toEqual(tools);

    server.setReply({ chunkSize: 4, toolCalls: [{ id: 'c1', name: 'get_order', arguments: '{"orderId":"A-17"}' }] });
    const stream = await server.client().chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true });
    const fragments: unknown[] = [];
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      fragments.push(...(chunk.choices[0]?.delta?.tool_calls ?? []));
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(fragments).toEqual([
      { index: 0, id: 'c1', type: 'function', function: { name: 'get_order', arguments: '' } },
      ...['{"or', 'derI', 'd":"', 'A-17', '"}'].map((piece) => ({ index: 0, function: { arguments: piece } })),
    ]);
    expect(finish).toBe('tool_calls');
  });

  it('answers unknown routes with 404', async () => {
    const response = await fetch(`${server.baseURL}/embeddings`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(404);
  });
});

describe('recordEvents and the order assertions', () => {
  it('records an agent’s events and hook steps, and stops recording on stop()', async () => {
    server.setReply('ok');
    const agent = new Agent({
      model: new OpenAIChat({ id: 'm', client: server.client() }),
      preHooks: [function first() {}],
      postHooks: [function last() {}],
    });
    const recorder = recordEvents(agent);
    await agent.run('x');
    expectHookOrder(recorder, ['first', 'last']);
    expect(recorder.hookOrder()).toEqual(['pre:started:first', 'pre:completed:first', 'post:started:last', 'post:completed:last']);
    recorder.stop();
    await agent.run('y');
    expect(recorder.names().filter((n) => n === 'run_started')).toHaveLength(1);
  });

  it('fails with both orders shown when they differ', () => {
    expect(() => assertOrder(['a', 'b'], ['b', 'a'])).toThrow('hook order differs\n  expected: b → a\n  actual:   a → b');
  });

  it('filters by run when asked', async () => {
    const agent = new Agent({ model: new OfflineModel() });
    let wanted = '';
    const recorder = recordEvents(agent, (runId) => runId === wanted);
    agent.once('run_started', ({ runId }) => void (wanted = runId));
    await Promise.all([agent.run('a'), agent.run('b')]);
    expect(new Set(recorder.events.map((e) => e.runId))).toEqual(new Set([wanted]));
  });
});
