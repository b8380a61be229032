/** OpenAIChat through the official client against a real HTTP server on 127.0.0.1 (no mocks). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, OpenAIChat, type PreHookArgs } from 'hookchain';
import { startFakeOpenAI, type FakeOpenAI } from 'hookchain/testing';

let server: FakeOpenAI;
beforeAll(async () => {
  server = await startFakeOpenAI();
});
afterAll(() => server.close());

const model = (extra: Record<string, unknown> = {}) => new OpenAIChat({ id: 'gpt-test', client: server.client(), ...extra });

describe('OpenAIChat', () => {
  it('sends instructions and the pre-hooked input, fills content, messages and token metrics', async () => {
    server.setReply((body) => ({
      content: `you said ${String(body.messages.at(-1)!.content)}`,
      usage: { prompt_tokens: 11, completion_tokens: 3 },
    }));
    const agent = new Agent({
      model: model({ temperature: 0.2 }),
      instructions: 'Be brief.',
      preHooks: [({ runInput }: PreHookArgs) => void (runInput.inputContent = 'masked text')],
    });
    const out = await agent.run('raw text');
    const sent = server.chatRequests().at(-1)!;
    expect(sent.model).toBe('gpt-test');
    expect(sent.temperature).toBe(0.2);
    expect(sent.stream).toBeFalsy();
    expect(sent.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'masked text' },
    ]);
    expect(out.content).toBe('you said masked text');
    expect(out.metrics).toMatchObject({ inputTokens: 11, outputTokens: 3, totalTokens: 14 });
    expect(out.metrics.modelDurationMs).toBeGreaterThan(0);
    expect(out.model).toBe('gpt-test');
  });

  it('passes multimodal chat messages through with their shape', async () => {
    server.setReply('seen');
    const agent = new Agent({ model: model() });
    await agent.run([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'what is this?' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AA' } },
        ],
      },
    ]);
    expect(server.chatRequests().at(-1)!.messages.at(-1)).toEqual({
      role: 'user',
      content: [
        { type: 'text', text: 'what is this?' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,AA' } },
      ],
    });
  });

  it('sends a request’s responseFormat as a json_schema response_format, plain and streamed, and none without', async () => {
    server.setReply('{"ok":true}');
    const schema = { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] };
    const request = {
      messages: [{ role: 'user' as const, content: 'x' }],
      signal: new AbortController().signal,
      runId: 'run-1',
      responseFormat: { name: 'verdict', schema },
    };
    const expected = { type: 'json_schema', json_schema: { name: 'verdict', schema } };
    await model().invoke(request);
    expect(server.chatRequests().at(-1)!.response_format).toEqual(expected);
    for await (const _chunk of model().stream(request));
    expect(server.chatRequests().at(-1)!.response_format).toEqual(expected);
    await model().invoke({ ...request, responseFormat: undefined });
    expect(server.chatRequests().at(-1)).not.toHaveProperty('response_format');
  });

  it('an HTTP 500 fails the run as a model error', async () => {
    server.setReply({ status: 500, body: { error: { message: 'upstream broke', type: 'server_error' } } });
    const error = (await new Agent({ model: model() }).run('x').catch((e: unknown) => e)) as { runOutput: { error: unknown } };
    expect(error.runOutput.error).toMatchObject({ type: 'model_error' });
  });

  it('aborting the run closes the HTTP request', async () => {
    server.setReply({ content: 'late', delayMs: 2_000 });
    const controller = new AbortController();
    const pending = new Agent({ model: model() }).run('x', { signal: controller.signal }).catch((e: Error) => e);
    await new Promise((r) => setTimeout(r, 50));
    const request = server.requests.at(-1)!;
    controller.abort();
    const error = (await pending) as Error & { runOutput: { status: string } };
    expect(error.name).toBe('AbortError');
    expect(error.runOutput.status).toBe('cancelled');
    await request.closed;
    expect(request.aborted).toBe(true);
  });

  it('works through baseURL and apiKey options, as with Ollama, vLLM or LM Studio', async () => {
    server.setReply('via baseURL');
    const out = await new Agent({ model: new OpenAIChat({ id: 'llama3', baseURL: server.baseURL, apiKey: 'local', maxRetries: 0 }) }).run(
      'x',
    );
    expect(out.content).toBe('via baseURL');
    expect(server.requests.at(-1)!.headers['authorization']).toBe('Bearer local');
  });

  it('rejects client together with apiKey/baseURL', () => {
    expect(() => new OpenAIChat({ id: 'x', client: server.client(), apiKey: 'k' })).toThrow(/either "client" or "apiKey"\/"baseURL"/);
  });
});
