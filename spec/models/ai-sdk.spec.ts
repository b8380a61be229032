/**
 * `hookchain/ai-sdk`: AISdkModel against the AI SDK's own mock models (ai/test), and end to end through a real
 * provider package (@ai-sdk/openai) pointed at the fake OpenAI server on 127.0.0.1.
 */
import { createOpenAI } from '@ai-sdk/openai';
import { convertArrayToReadableStream, MockLanguageModelV3, MockLanguageModelV4 } from 'ai/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, HookchainConfigError, type ChatMessage, type ModelRequest, type ModelStreamChunk } from 'hookchain';
import { AISdkModel, type AISdkLanguageModel } from 'hookchain/ai-sdk';
import { startFakeOpenAI, type FakeOpenAI } from 'hookchain/testing';

const usage = (input: number, output: number) => ({
  inputTokens: { total: input, noCache: input, cacheRead: undefined, cacheWrite: undefined },
  outputTokens: { total: output, text: output, reasoning: undefined },
});
const finishReason = (unified: 'stop' | 'tool-calls') => ({ unified, raw: unified });

const request = (extra: Partial<ModelRequest> = {}): ModelRequest => ({
  messages: [{ role: 'user', content: 'Where is A-17?' }],
  signal: new AbortController().signal,
  runId: 'run-1',
  ...extra,
});

const orderTool = {
  name: 'get_order',
  description: 'Look up an order by its id',
  parameters: { type: 'object', properties: { orderId: { type: 'string' } }, required: ['orderId'] },
};

async function drain(chunks: AsyncIterable<ModelStreamChunk>): Promise<ModelStreamChunk[]> {
  const out: ModelStreamChunk[] = [];
  for await (const chunk of chunks) out.push(chunk);
  return out;
}

/** A conversation with every role, an image by URL and one inline, and a step of two tool calls and their results. */
const conversation: ChatMessage[] = [
  { role: 'system', content: 'You are a support agent.' },
  { role: 'developer', content: [{ type: 'text', text: 'Be brief.' }] },
  {
    role: 'user',
    content: [
      { type: 'text', text: 'Is this parcel mine?' },
      { type: 'image_url', image_url: { url: 'https://example.com/parcel.png', detail: 'low' } },
      { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
    ],
  },
  {
    role: 'assistant',
    content: 'Let me look.',
    toolCalls: [
      { callId: 'call_a', name: 'get_order', arguments: '{"orderId":"A-17"}' },
      { callId: 'call_b', name: 'track', arguments: '{"parcel":' },
    ],
  },
  { role: 'tool', toolCallId: 'call_a', content: '{"status":"shipped"}' },
  { role: 'tool', toolCallId: 'call_b', content: [{ type: 'text', text: '{"error":"bad arguments"}' }] },
  { role: 'user', content: 'Thanks' },
];

/** The prompt `conversation` becomes; only the file parts' data differ between v3 and v4. */
const expectedPrompt = (https: unknown, inline: unknown) => [
  { role: 'system', content: 'You are a support agent.' },
  { role: 'system', content: 'Be brief.' },
  {
    role: 'user',
    content: [
      { type: 'text', text: 'Is this parcel mine?' },
      { type: 'file', mediaType: 'image/*', data: https, providerOptions: { openai: { imageDetail: 'low' } } },
      { type: 'file', mediaType: 'image/png', data: inline },
    ],
  },
  {
    role: 'assistant',
    content: [
      { type: 'text', text: 'Let me look.' },
      { type: 'tool-call', toolCallId: 'call_a', toolName: 'get_order', input: { orderId: 'A-17' } },
      // Broken JSON arguments (that call failed) stay the string the model wrote.
      { type: 'tool-call', toolCallId: 'call_b', toolName: 'track', input: '{"parcel":' },
    ],
  },
  {
    role: 'tool',
    content: [
      { type: 'tool-result', toolCallId: 'call_a', toolName: 'get_order', output: { type: 'text', value: '{"status":"shipped"}' } },
      { type: 'tool-result', toolCallId: 'call_b', toolName: 'track', output: { type: 'text', value: '{"error":"bad arguments"}' } },
    ],
  },
  { role: 'user', content: [{ type: 'text', text: 'Thanks' }] },
];

describe('AISdkModel.invoke (doGenerate)', () => {
  it('joins the text parts into content and reads the nested usage totals; the id defaults to the modelId', async () => {
    const mock = new MockLanguageModelV3({
      modelId: 'mock-1',
      doGenerate: {
        content: [
          { type: 'reasoning', text: 'thinking…' },
          { type: 'text', text: 'Your order ' },
          { type: 'text', text: 'shipped.' },
        ],
        finishReason: finishReason('stop'),
        usage: usage(12, 3),
        warnings: [],
      },
    });
    const model = new AISdkModel(mock);
    expect(model.id).toBe('mock-1');
    expect(model.model).toBe(mock);
    expect(await model.invoke(request())).toEqual({ content: 'Your order shipped.', usage: { inputTokens: 12, outputTokens: 3 } });
  });

  it('maps tool-call parts to toolCalls with the input string untouched, skipping tools the provider ran itself', async () => {
    const mock = new MockLanguageModelV4({
      doGenerate: {
        content: [
          { type: 'tool-call', toolCallId: 'ws_1', toolName: 'web_search', input: '{}', providerExecuted: true },
          { type: 'tool-call', toolCallId: 'call_1', toolName: 'get_order', input: '{"orderId":"A-17"}' },
          { type: 'tool-call', toolCallId: 'call_2', toolName: 'get_order', input: '{"orderId": "B-2"}' },
        ],
        finishReason: finishReason('tool-calls'),
        usage: usage(20, 8),
        warnings: [],
      },
    });
    expect(await new AISdkModel(mock).invoke(request({ tools: [orderTool] }))).toEqual({
      content: '',
      usage: { inputTokens: 20, outputTokens: 8 },
      toolCalls: [
        { callId: 'call_1', name: 'get_order', arguments: '{"orderId":"A-17"}' },
        { callId: 'call_2', name: 'get_order', arguments: '{"orderId": "B-2"}' },
      ],
    });
  });

  it('reports no usage when the provider gives no totals', async () => {
    const mock = new MockLanguageModelV4({
      doGenerate: {
        content: [{ type: 'text', text: 'ok' }],
        finishReason: finishReason('stop'),
        usage: {
          inputTokens: { total: undefined, noCache: undefined, cacheRead: undefined, cacheWrite: undefined },
          outputTokens: { total: undefined, text: undefined, reasoning: undefined },
        },
        warnings: [],
      },
    });
    const response = await new AISdkModel(mock).invoke(request());
    expect(response).toEqual({ content: 'ok', usage: undefined });
  });

  it('maps every role to a v3 prompt: system/developer as system, images as file parts, tool results named after their calls', async () => {
    const mock = new MockLanguageModelV3({
      doGenerate: { content: [{ type: 'text', text: 'ok' }], finishReason: finishReason('stop'), usage: usage(1, 1), warnings: [] },
    });
    await new AISdkModel(mock).invoke(request({ messages: conversation }));
    expect(mock.doGenerateCalls[0]!.prompt).toEqual(expectedPrompt(new URL('https://example.com/parcel.png'), 'iVBORw0KGgo='));
  });

  it('maps the same conversation to a v4 prompt, whose file data is tagged', async () => {
    const mock = new MockLanguageModelV4({
      doGenerate: { content: [{ type: 'text', text: 'ok' }], finishReason: finishReason('stop'), usage: usage(1, 1), warnings: [] },
    });
    await new AISdkModel(mock).invoke(request({ messages: conversation }));
    expect(mock.doGenerateCalls[0]!.prompt).toEqual(
      expectedPrompt({ type: 'url', url: new URL('https://example.com/parcel.png') }, { type: 'data', data: 'iVBORw0KGgo=' }),
    );
  });

  it('sends the tools as function tools, responseFormat as json with schema and name, the options and the run signal', async () => {
    const mock = new MockLanguageModelV4({
      doGenerate: {
        content: [{ type: 'text', text: 'draft' }],
        structuredOutputText: '{"answer":"shipped"}',
        finishReason: finishReason('stop'),
        usage: usage(1, 1),
        warnings: [],
      },
    });
    const model = new AISdkModel(mock, {
      id: 'my-model',
      maxOutputTokens: 256,
      temperature: 0.2,
      providerOptions: { openai: { user: 'u1' } },
    });
    const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] };
    const signal = new AbortController().signal;
    const response = await model.invoke(request({ tools: [orderTool], responseFormat: { name: 'answer', schema }, signal }));
    // With a structured-output request, the provider's structuredOutputText is the answer.
    expect(response.content).toBe('{"answer":"shipped"}');
    expect(model.id).toBe('my-model');
    const call = mock.doGenerateCalls[0]!;
    expect(call).toEqual({
      prompt: [{ role: 'user', content: [{ type: 'text', text: 'Where is A-17?' }] }],
      tools: [{ type: 'function', name: 'get_order', description: 'Look up an order by its id', inputSchema: orderTool.parameters }],
      responseFormat: { type: 'json', schema, name: 'answer' },
      maxOutputTokens: 256,
      temperature: 0.2,
      providerOptions: { openai: { user: 'u1' } },
      abortSignal: signal,
    });
    expect(call.abortSignal).toBe(signal);
  });

  it('sends no tools and no responseFormat when the request has none', async () => {
    const mock = new MockLanguageModelV4({
      doGenerate: { content: [{ type: 'text', text: 'x' }], finishReason: finishReason('stop'), usage: usage(1, 1), warnings: [] },
    });
    await new AISdkModel(mock).invoke(request({ tools: [] }));
    expect(Object.keys(mock.doGenerateCalls[0]!).sort()).toEqual(['abortSignal', 'prompt']);
  });

  it('cancels the provider call when the run is cancelled: the run signal is the abortSignal', async () => {
    const mock = new MockLanguageModelV4({
      doGenerate: ({ abortSignal }) =>
        new Promise((_, reject) => abortSignal!.addEventListener('abort', () => reject(abortSignal!.reason), { once: true })),
    });
    const controller = new AbortController();
    const running = new Agent({ model: new AISdkModel(mock) }).run('hi', { signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort(new Error('user left'));
    await expect(running).rejects.toMatchObject({ name: 'AbortError', runOutput: { status: 'cancelled' } });
    expect(mock.doGenerateCalls[0]!.abortSignal!.aborted).toBe(true);
  });

  it("refuses a tool message whose call is not in an earlier assistant message, naming the message (the tool's name is needed)", async () => {
    const mock = new MockLanguageModelV4();
    const messages: ChatMessage[] = [
      { role: 'user', content: 'hi' },
      { role: 'tool', toolCallId: 'call_x', content: '{}' },
    ];
    await expect(new AISdkModel(mock).invoke(request({ messages }))).rejects.toThrow(
      /messages\[1\] answers tool call "call_x", but no earlier assistant message has a tool call with that callId/,
    );
    await expect(new AISdkModel(mock).invoke(request({ messages: [{ role: 'tool', content: '{}' }] }))).rejects.toThrow(
      /messages\[0\] has role 'tool' but no toolCallId/,
    );
    await expect(
      new AISdkModel(mock).invoke(
        request({ messages: [{ role: 'system', content: [{ type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] }] }),
      ),
    ).rejects.toThrow(/messages\[0\] \(role 'system'\) has a "image_url" part; only text is allowed there/);
    await expect(
      new AISdkModel(mock).invoke(
        request({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'not a url' } }] }] }),
      ),
    ).rejects.toThrow(/messages\[0\]\.content\[0\]\.image_url\.url must be an https: URL or a data: URL/);
    expect(mock.doGenerateCalls).toEqual([]);
  });
});

describe('AISdkModel.stream (doStream)', () => {
  it('yields text deltas, each tool call once when its tool-call part arrives (not its input deltas), and the finish usage', async () => {
    const mock = new MockLanguageModelV4({
      doStream: {
        stream: convertArrayToReadableStream([
          { type: 'stream-start', warnings: [] },
          { type: 'response-metadata', id: 'r1', modelId: 'mock' },
          { type: 'text-start', id: 't1' },
          { type: 'text-delta', id: 't1', delta: 'Let me ' },
          { type: 'text-delta', id: 't1', delta: '' },
          { type: 'text-delta', id: 't1', delta: 'check.' },
          { type: 'text-end', id: 't1' },
          { type: 'tool-input-start', id: 'call_1', toolName: 'get_order' },
          { type: 'tool-input-start', id: 'call_2', toolName: 'get_order' },
          { type: 'tool-input-delta', id: 'call_1', delta: '{"orderId"' },
          { type: 'tool-input-delta', id: 'call_2', delta: '{"orderId":"B-2"}' },
          { type: 'tool-input-delta', id: 'call_1', delta: ':"A-17"}' },
          { type: 'tool-input-end', id: 'call_2' },
          { type: 'tool-call', toolCallId: 'call_2', toolName: 'get_order', input: '{"orderId":"B-2"}' },
          { type: 'tool-input-end', id: 'call_1' },
          { type: 'tool-call', toolCallId: 'call_1', toolName: 'get_order', input: '{"orderId":"A-17"}' },
          { type: 'tool-call', toolCallId: 'ws_1', toolName: 'web_search', input: '{}', providerExecuted: true },
          { type: 'finish', finishReason: finishReason('tool-calls'), usage: usage(30, 12) },
        ]),
      },
    });
    const signal = new AbortController().signal;
    const chunks = await drain(new AISdkModel(mock).stream(request({ tools: [orderTool], signal })));
    expect(chunks).toEqual([
      { delta: 'Let me ' },
      { delta: 'check.' },
      { toolCalls: [{ callId: 'call_2', name: 'get_order', arguments: '{"orderId":"B-2"}' }] },
      { toolCalls: [{ callId: 'call_1', name: 'get_order', arguments: '{"orderId":"A-17"}' }] },
      { usage: { inputTokens: 30, outputTokens: 12 } },
    ]);
    expect(mock.doStreamCalls[0]!.abortSignal).toBe(signal);
    expect(mock.doStreamCalls[0]!.tools).toEqual([
      { type: 'function', name: 'get_order', description: 'Look up an order by its id', inputSchema: orderTool.parameters },
    ]);
  });

  it('rejects with the error of an error part, after the text before it, and cancels the provider stream', async () => {
    const failure = new Error('overloaded');
    let cancelled = false;
    const mock = new MockLanguageModelV3({
      doStream: {
        stream: new ReadableStream({
          start(controller) {
            controller.enqueue({ type: 'text-delta', id: 't1', delta: 'Hel' });
            controller.enqueue({ type: 'error', error: failure });
            controller.enqueue({ type: 'text-delta', id: 't1', delta: 'never read' });
          },
          cancel() {
            cancelled = true;
          },
        }),
      },
    });
    const seen: ModelStreamChunk[] = [];
    const reading = (async () => {
      for await (const chunk of new AISdkModel(mock).stream(request())) seen.push(chunk);
    })();
    await expect(reading).rejects.toBe(failure);
    expect(seen).toEqual([{ delta: 'Hel' }]);
    expect(cancelled).toBe(true);
  });

  it('wraps an error part that is not an Error, naming the model', async () => {
    const mock = new MockLanguageModelV4({
      provider: 'acme.chat',
      modelId: 'acme-1',
      doStream: { stream: convertArrayToReadableStream([{ type: 'error', error: { code: 'rate_limited' } }]) },
    });
    await expect(drain(new AISdkModel(mock).stream(request()))).rejects.toThrow(
      'acme.chat:acme-1 reported an error in its stream: {"code":"rate_limited"}',
    );
  });

  it('cancels the provider stream when the consumer stops reading', async () => {
    let cancelled = false;
    const mock = new MockLanguageModelV4({
      doStream: {
        stream: new ReadableStream({
          pull(controller) {
            controller.enqueue({ type: 'text-delta', id: 't1', delta: 'more ' });
          },
          cancel() {
            cancelled = true;
          },
        }),
      },
    });
    for await (const chunk of new AISdkModel(mock).stream(request())) {
      expect(chunk).toEqual({ delta: 'more ' });
      break;
    }
    expect(cancelled).toBe(true);
  });

  it('rejects with the abort reason when the provider ends an aborted stream quietly', async () => {
    const controller = new AbortController();
    const mock = new MockLanguageModelV4({
      doStream: async () => {
        controller.abort(new Error('run cancelled'));
        return { stream: convertArrayToReadableStream([{ type: 'text-delta', id: 't1', delta: 'partial' }]) };
      },
    });
    await expect(drain(new AISdkModel(mock).stream(request({ signal: controller.signal })))).rejects.toThrow('run cancelled');
  });
});

describe('AISdkModel with a real provider (@ai-sdk/openai Chat Completions) against the fake server', () => {
  let fake: FakeOpenAI;
  let chatModel: (id: string) => AISdkModel;
  beforeAll(async () => {
    fake = await startFakeOpenAI();
    const openai = createOpenAI({ baseURL: fake.baseURL, apiKey: fake.apiKey });
    chatModel = (id) => new AISdkModel(openai.chat(id));
  });
  afterAll(() => fake.close());

  it('answers agent.run() and sends the instructions and input as Chat Completions messages', async () => {
    fake.setReplies([{ content: 'Your order shipped.', usage: { prompt_tokens: 17, completion_tokens: 4 } }]);
    const agent = new Agent({ model: chatModel('gpt-4o-mini'), instructions: 'You are a support agent.' });
    const output = await agent.run('Where is A-17?');
    expect(output).toMatchObject({
      content: 'Your order shipped.',
      status: 'completed',
      model: 'gpt-4o-mini',
      metrics: { inputTokens: 17, outputTokens: 4 },
    });
    const body = fake.chatRequests().at(-1)!;
    expect(body.model).toBe('gpt-4o-mini');
    expect(body.stream).toBeFalsy();
    expect(body.messages).toEqual([
      { role: 'system', content: 'You are a support agent.' },
      { role: 'user', content: 'Where is A-17?' },
    ]);
  });

  it('streams agent.stream() as content events and reports the usage of the final chunk', async () => {
    fake.setReplies([{ content: 'Your order shipped yesterday.', chunkSize: 5, usage: { prompt_tokens: 9, completion_tokens: 6 } }]);
    const agent = new Agent({ model: chatModel('gpt-4o-mini') });
    const stream = agent.stream('Where is A-17?');
    const deltas: string[] = [];
    for await (const event of stream) if (event.type === 'content') deltas.push(event.delta);
    const output = await stream.finalOutput;
    expect(deltas.join('')).toBe('Your order shipped yesterday.');
    expect(deltas.length).toBeGreaterThan(1);
    expect(output).toMatchObject({ content: 'Your order shipped yesterday.', metrics: { inputTokens: 9, outputTokens: 6 } });
    const body = fake.chatRequests().at(-1)!;
    expect(body.stream).toBe(true);
    expect(body.messages).toEqual([{ role: 'user', content: 'Where is A-17?' }]);
  });

  it('delivers interleaved streamed tool calls complete and once each, and sends the tools as function tools', async () => {
    fake.setReplies([
      {
        toolCalls: [
          { id: 'call_a', name: 'get_order', arguments: { orderId: 'A-17' } },
          { id: 'call_b', name: 'get_order', arguments: { orderId: 'B-2' } },
        ],
        interleaveToolCalls: true,
        chunkSize: 3,
      },
    ]);
    const chunks = await drain(chatModel('gpt-4o-mini').stream(request({ tools: [orderTool] })));
    expect(chunks.flatMap((c) => c.toolCalls ?? [])).toEqual([
      { callId: 'call_a', name: 'get_order', arguments: '{"orderId":"A-17"}' },
      { callId: 'call_b', name: 'get_order', arguments: '{"orderId":"B-2"}' },
    ]);
    expect(fake.chatRequests().at(-1)!.tools).toEqual([
      { type: 'function', function: { name: 'get_order', description: 'Look up an order by its id', parameters: orderTool.parameters } },
    ]);
  });

  it('sends a tool step back in the wire shape: assistant tool_calls, then tool messages with tool_call_id', async () => {
    fake.setReplies(['A-17 has shipped.']);
    const messages: ChatMessage[] = [
      { role: 'user', content: 'Where is A-17?' },
      { role: 'assistant', content: '', toolCalls: [{ callId: 'call_a', name: 'get_order', arguments: '{"orderId":"A-17"}' }] },
      { role: 'tool', toolCallId: 'call_a', content: '{"status":"shipped"}' },
    ];
    const response = await chatModel('gpt-4o-mini').invoke(request({ messages, tools: [orderTool] }));
    expect(response.content).toBe('A-17 has shipped.');
    expect(fake.chatRequests().at(-1)!.messages).toEqual([
      { role: 'user', content: 'Where is A-17?' },
      {
        role: 'assistant',
        content: null, // the provider's wire shape for a message that only calls tools
        tool_calls: [{ id: 'call_a', type: 'function', function: { name: 'get_order', arguments: '{"orderId":"A-17"}' } }],
      },
      { role: 'tool', tool_call_id: 'call_a', content: '{"status":"shipped"}' },
    ]);
  });
});

describe('AISdkModel bad input', () => {
  it("refuses a model id string, pointing at the provider's model function", () => {
    expect(() => new AISdkModel('gpt-4o-mini' as unknown as AISdkLanguageModel)).toThrow(HookchainConfigError);
    expect(() => new AISdkModel('gpt-4o-mini' as unknown as AISdkLanguageModel)).toThrow(
      /AISdkModel: model must be a language model object from an AI SDK provider package, such as anthropic\('claude-sonnet-4-5'\)/,
    );
  });

  it('refuses what is not a model at all', () => {
    expect(() => new AISdkModel(undefined as unknown as AISdkLanguageModel)).toThrow(/model must be a language model .* got undefined/);
    expect(() => new AISdkModel({ id: 'x', invoke: () => {} } as unknown as AISdkLanguageModel)).toThrow(
      /an object with specificationVersion, doGenerate and doStream/,
    );
  });

  it('refuses a model of the v2 specification (AI SDK 5 providers), saying to upgrade the provider package', () => {
    const v2 = { specificationVersion: 'v2', provider: 'openai.chat', modelId: 'gpt-4o', doGenerate() {}, doStream() {} };
    expect(() => new AISdkModel(v2 as unknown as AISdkLanguageModel)).toThrow(
      /model openai\.chat:gpt-4o implements the AI SDK provider specification "v2", and AISdkModel needs "v3" or "v4".*upgrade the provider package/,
    );
  });

  it('refuses an unknown option and a wrong option value, naming them', () => {
    const mock = new MockLanguageModelV4();
    expect(() => new AISdkModel(mock, { maxTokens: 10 } as never)).toThrow(
      'AISdkModel: unknown option "maxTokens"; known options are id, maxOutputTokens, temperature, providerOptions',
    );
    expect(() => new AISdkModel(mock, { maxOutputTokens: 0 })).toThrow('option "maxOutputTokens" must be a positive integer, got number 0');
    expect(() => new AISdkModel(mock, { providerOptions: { openai: 'x' } as never })).toThrow(
      /option "providerOptions" must be an object of objects/,
    );
    expect(() => new AISdkModel(mock, { id: '' })).toThrow('option "id" must be a non-empty string');
  });
});
