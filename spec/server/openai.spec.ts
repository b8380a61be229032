/**
 * The OpenAI-compatible endpoint, through the official `openai` client pointed at `${url}/v1`, unchanged.
 */
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { Agent, InputCheckError, OpenAIChat } from 'hookchain';
import { startFakeOpenAI } from 'hookchain/testing';
import { offlineAgent, serve, json } from './kit.ts';

const client = (url: string, apiKey = 'sk-alice') => new OpenAI({ apiKey, baseURL: `${url}/v1`, maxRetries: 0 });
const noSecrets = ({ runInput }: { runInput: { inputContent: unknown } }) => {
  if (JSON.stringify(runInput.inputContent).includes('secret')) throw new InputCheckError('no secrets here', { checkTrigger: 'off_topic' });
};

describe('/v1 with the openai client', () => {
  it('lists the agents as models and answers a chat.completion with usage', async () => {
    const fake = await startFakeOpenAI({ reply: { content: 'from the model', usage: { prompt_tokens: 11, completion_tokens: 3 } } });
    try {
      const agent = new Agent({ name: 'gw', model: new OpenAIChat({ id: 'gpt-x', baseURL: fake.baseURL, apiKey: fake.apiKey }) });
      const { url } = await serve({ agents: [agent], apiKeys: { 'sk-alice': { userId: 'alice' } } });
      const models = await client(url).models.list();
      expect(models.data.map((m) => m.id)).toEqual(['gw']);
      const completion = await client(url).chat.completions.create({
        model: 'gw',
        messages: [{ role: 'user', content: 'hi' }],
        temperature: 0,
      });
      expect(completion.object).toBe('chat.completion');
      expect(completion.choices[0]!.message.content).toBe('from the model');
      expect(completion.choices[0]!.finish_reason).toBe('stop');
      expect(completion.usage).toEqual({ prompt_tokens: 11, completion_tokens: 3, total_tokens: 14 });
      await expect(client(url, 'sk-wrong').models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    } finally {
      await fake.close();
    }
  });

  it('streams chat.completion.chunk events ending with [DONE], with usage when asked', async () => {
    const { url } = await serve({ agents: [offlineAgent({ reply: 'streamed through the gateway' })] });
    const stream = await client(url).chat.completions.create({
      model: 'echo',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    const finishes: (string | null)[] = [];
    for await (const chunk of stream) {
      expect(chunk.object).toBe('chat.completion.chunk');
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.choices[0]) finishes.push(chunk.choices[0].finish_reason);
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe('streamed through the gateway');
    expect(finishes.at(-1)).toBe('stop');
    expect(usage!.completion_tokens).toBeGreaterThan(0);
    expect(usage!.total_tokens).toBe(usage!.prompt_tokens + usage!.completion_tokens);
    const raw = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'echo', messages: [{ role: 'user', content: 'hi' }], stream: true }),
    });
    expect((await raw.text()).trimEnd().endsWith('data: [DONE]')).toBe(true);
  });

  it("answers errors in OpenAI's shape with §10's statuses: unknown model 404, blocked input 400, bad field 400", async () => {
    const { url } = await serve({ agents: [offlineAgent({ preHooks: [noSecrets] })] });
    await expect(
      client(url).chat.completions.create({ model: 'nobody', messages: [{ role: 'user', content: 'hi' }] }),
    ).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    const blocked = client(url).chat.completions.create({ model: 'echo', messages: [{ role: 'user', content: 'a secret' }], stream: true });
    await expect(blocked).rejects.toMatchObject({ status: 400, code: 'off_topic', type: 'input_check_error' });
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'echo', messages: [{ role: 'tool', content: 'x' }] }),
    });
    expect(res.status).toBe(400);
    expect(await json(res)).toEqual({
      error: {
        message: expect.stringMatching(/messages\[0\]\.role/),
        type: 'invalid_request_error',
        code: 'invalid_request_error',
        param: 'messages[0].role',
      },
    });
  });

  it('answers a blocked run as a normal completion whose content is the refusal, plain and streamed', async () => {
    const { url } = await serve({
      agents: [offlineAgent({ preHooks: [noSecrets] })],
      blockedResponse: ({ checkTrigger }) => `Refused (${checkTrigger}).`,
    });
    const plain = await client(url).chat.completions.create({ model: 'echo', messages: [{ role: 'user', content: 'my secret' }] });
    expect(plain.choices[0]!.message.content).toBe('Refused (off_topic).');
    const stream = await client(url).chat.completions.create({
      model: 'echo',
      messages: [{ role: 'user', content: 'my secret' }],
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('Refused (off_topic).');
  });
});
