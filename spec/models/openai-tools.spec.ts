/** OpenAIChat's tool calling through the real `openai` client against the fake server on 127.0.0.1. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { OpenAIChat, tool, type ChatMessage, type ModelRequest, type ModelStreamChunk } from 'hookchain';
import { startFakeOpenAI, type FakeOpenAI } from 'hookchain/testing';

let server: FakeOpenAI;
beforeAll(async () => {
  server = await startFakeOpenAI();
});
afterAll(() => server.close());

const model = () => new OpenAIChat({ id: 'gpt-test', client: server.client() });
const getOrder = tool({
  name: 'get_order',
  description: 'Look up an order by its id',
  parameters: z.object({ orderId: z.string() }),
  execute: ({ orderId }) => ({ orderId }),
});
const request = (extra: Partial<ModelRequest> = {}): ModelRequest => ({
  messages: [{ role: 'user', content: 'Where is A-17?' }],
  signal: new AbortController().signal,
  runId: 'run-1',
  ...extra,
});
const withTools = () =>
  request({ tools: [{ name: getOrder.name, description: getOrder.description, parameters: { ...getOrder.jsonSchema } }] });

async function drain(chunks: AsyncIterable<ModelStreamChunk>): Promise<ModelStreamChunk[]> {
  const out: ModelStreamChunk[] = [];
  for await (const chunk of chunks) out.push(chunk);
  return out;
}

describe('OpenAIChat with tools', () => {
  it('sends the request tools as function tools, and none when the request has none', async () => {
    server.setReply('fine');
    await model().invoke(withTools());
    expect(server.chatRequests().at(-1)!.tools).toEqual([
      {
        type: 'function',
        function: {
          name: 'get_order',
          description: 'Look up an order by its id',
          parameters: { type: 'object', properties: { orderId: { type: 'string' } }, required: ['orderId'] },
        },
      },
    ]);
    await model().invoke(request({ tools: [] }));
    expect(server.chatRequests().at(-1)).not.toHaveProperty('tools');
    await model().invoke(request());
    expect(server.chatRequests().at(-1)).not.toHaveProperty('tools');
  });

  it('sends the tools on a streamed request too', async () => {
    server.setReply('fine');
    await drain(model().stream(withTools()));
    expect(
      server
        .chatRequests()
        .at(-1)!
        .tools?.map((t) => t.function.name),
    ).toEqual(['get_order']);
  });

  it('reads message.tool_calls into toolCalls, in order, with content "" when the model said nothing', async () => {
    server.setReply({
      toolCalls: [
        { id: 'call_a', name: 'get_order', arguments: { orderId: 'A-17' } },
        { id: 'call_b', name: 'get_order', arguments: '{"orderId":"B-2"}' },
      ],
      usage: { prompt_tokens: 9, completion_tokens: 4 },
    });
    const response = await model().invoke(withTools());
    expect(response).toEqual({
      content: '',
      usage: { inputTokens: 9, outputTokens: 4 },
      toolCalls: [
        { callId: 'call_a', name: 'get_order', arguments: '{"orderId":"A-17"}' },
        { callId: 'call_b', name: 'get_order', arguments: '{"orderId":"B-2"}' },
      ],
    });
    expect(getOrder.parse(response.toolCalls![0]!.arguments)).toEqual({ ok: true, args: { orderId: 'A-17' } });
  });

  it('leaves toolCalls off a text-only answer', async () => {
    server.setReply('It shipped.');
    expect(await model().invoke(withTools())).not.toHaveProperty('toolCalls');
  });

  it('passes broken argument JSON through untouched, for the tool to report to the model', async () => {
    server.setReply({ toolCalls: [{ name: 'get_order', arguments: '{"orderId": "A-' }] });
    const [call] = (await model().invoke(withTools())).toolCalls!;
    expect(call).toEqual({ callId: 'call_1', name: 'get_order', arguments: '{"orderId": "A-' });
    expect(getOrder.parse(call!.arguments)).toMatchObject({ ok: false, error: expect.stringMatching(/not valid JSON/) });
  });

  it('assembles one streamed call whose arguments arrive split across chunks, delivered once at the end', async () => {
    const args = '{"orderId":"A-17","note":"left at the door"}';
    server.setReply({ content: 'Checking.', chunkSize: 5, toolCalls: [{ id: 'call_x', name: 'get_order', arguments: args }] });
    const chunks = await drain(model().stream(withTools()));
    // (spec/testing/kit.spec.ts shows the fake cuts the arguments mid-string, chunkSize characters a fragment.)
    const withCalls = chunks.filter((c) => c.toolCalls !== undefined);
    expect(withCalls).toEqual([{ toolCalls: [{ callId: 'call_x', name: 'get_order', arguments: args }] }]);
    expect(chunks.at(-1)).toBe(withCalls[0]);
    expect(chunks.map((c) => c.delta ?? '').join('')).toBe('Checking.');
    expect(chunks.some((c) => c.usage !== undefined)).toBe(true);
  });

  for (const interleaveToolCalls of [false, true]) {
    it(`assembles 3 parallel streamed calls by index (${interleaveToolCalls ? 'fragments interleaved' : 'one after another'})`, async () => {
      const calls = [
        { id: 'call_1', name: 'get_order', arguments: '{"orderId":"A-1"}' },
        { id: 'call_2', name: 'refund', arguments: '{"orderId":"B-22","amount":12.5}' },
        { id: 'call_3', name: 'get_order', arguments: '{"orderId":"C-333"}' },
      ];
      server.setReply({ chunkSize: 3, interleaveToolCalls, toolCalls: calls });
      const chunks = await drain(model().stream(withTools()));
      const toolCalls = chunks.flatMap((c) => c.toolCalls ?? []);
      expect(toolCalls).toEqual(calls.map((c) => ({ callId: c.id, name: c.name, arguments: c.arguments })));
      expect(chunks.filter((c) => c.toolCalls !== undefined)).toHaveLength(1);
      expect(chunks.every((c) => !c.delta)).toBe(true);
    });
  }

  it('streams a text-only answer with no toolCalls chunk', async () => {
    server.setReply({ content: 'All good', chunkSize: 2 });
    const chunks = await drain(model().stream(withTools()));
    expect(chunks.some((c) => 'toolCalls' in c)).toBe(false);
    expect(chunks.map((c) => c.delta ?? '').join('')).toBe('All good');
  });

  it('answers step 1 with a call and step 2 with text when scripted per request, and says so when the script runs out', async () => {
    server.setReplies([{ toolCalls: [{ name: 'get_order', arguments: { orderId: 'A-17' } }] }, 'It shipped.']);
    const first = await model().invoke(withTools());
    expect(first.toolCalls?.map((c) => c.name)).toEqual(['get_order']);
    const second = await model().invoke(withTools());
    expect(second).toMatchObject({ content: 'It shipped.' });
    expect(second).not.toHaveProperty('toolCalls');
    await expect(model().invoke(withTools())).rejects.toThrow(/no scripted reply left \(setReplies gave 2\)/);
  });
});

describe('OpenAIChat maps tool messages to the wire', () => {
  const conversation: ChatMessage[] = [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Where are A-17 and B-2?' },
    {
      role: 'assistant',
      content: '',
      toolCalls: [
        { callId: 'call_a', name: 'get_order', arguments: '{"orderId":"A-17"}' },
        { callId: 'call_b', name: 'get_order', arguments: '{"orderId":"B-2"}' },
      ],
    },
    { role: 'tool', toolCallId: 'call_a', content: '{"status":"shipped"}' },
    { role: 'tool', toolCallId: 'call_b', content: [{ type: 'text', text: '{"error":"not found"}' }] },
    { role: 'assistant', content: 'Let me check again.', toolCalls: [{ callId: 'call_c', name: 'get_order', arguments: '{}' }] },
    { role: 'tool', toolCallId: 'call_c', content: '{}' },
    { role: 'assistant', content: 'Done.', toolCalls: [] },
    { role: 'user', content: 'thanks' },
  ];
  const wire = [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Where are A-17 and B-2?' },
    {
      role: 'assistant',
      content: null,
      tool_calls: [
        { id: 'call_a', type: 'function', function: { name: 'get_order', arguments: '{"orderId":"A-17"}' } },
        { id: 'call_b', type: 'function', function: { name: 'get_order', arguments: '{"orderId":"B-2"}' } },
      ],
    },
    { role: 'tool', tool_call_id: 'call_a', content: '{"status":"shipped"}' },
    { role: 'tool', tool_call_id: 'call_b', content: [{ type: 'text', text: '{"error":"not found"}' }] },
    {
      role: 'assistant',
      content: 'Let me check again.',
      tool_calls: [{ id: 'call_c', type: 'function', function: { name: 'get_order', arguments: '{}' } }],
    },
    { role: 'tool', tool_call_id: 'call_c', content: '{}' },
    { role: 'assistant', content: 'Done.' },
    { role: 'user', content: 'thanks' },
  ];

  it('sends assistant tool calls as tool_calls and tool results with tool_call_id (invoke)', async () => {
    server.setReply('ok');
    await model().invoke(request({ messages: conversation }));
    expect(server.chatRequests().at(-1)!.messages).toEqual(wire);
  });

  it('does the same for a streamed request', async () => {
    server.setReply('ok');
    await drain(model().stream(request({ messages: conversation })));
    expect(server.chatRequests().at(-1)!.messages).toEqual(wire);
  });

  it('leaves the caller’s messages untouched', async () => {
    const before = structuredClone(conversation);
    server.setReply('ok');
    await model().invoke(request({ messages: conversation }));
    expect(conversation).toEqual(before);
  });

  it('refuses a tool message without toolCallId, naming its position and the fix, before any request', async () => {
    const count = server.requests.length;
    const messages: ChatMessage[] = [
      { role: 'user', content: 'x' },
      { role: 'tool', content: '{}' },
    ];
    await expect(model().invoke(request({ messages }))).rejects.toThrow(
      "OpenAIChat: messages[1] has role 'tool' but no toolCallId; set it to the callId of the tool call it answers",
    );
    await expect(drain(model().stream(request({ messages })))).rejects.toThrow(/messages\[1\] has role 'tool' but no toolCallId/);
    expect(server.requests.length).toBe(count);
  });

  it('refuses an image in a tool message (Chat Completions takes only text there)', async () => {
    const messages: ChatMessage[] = [
      { role: 'tool', toolCallId: 'c', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] },
    ];
    await expect(model().invoke(request({ messages }))).rejects.toThrow(/messages\[0\] \(role 'tool'\) has a non-text part/);
  });
});
