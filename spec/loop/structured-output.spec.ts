/** outputSchema: the answer parsed and validated into output.parsed, end to end through OpenAIChat and the fake server. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  Agent,
  MemorySessionStore,
  OutputCheckError,
  hook,
  type Model,
  type ModelRequest,
  type PostHookArgs,
  type RunOutput,
} from 'hookchain';
import { startFakeOpenAI, type FakeOpenAI } from 'hookchain/testing';
import { chatModel, collect, deltas, listen } from './loop-kit.ts';

let fake: FakeOpenAI;
beforeEach(async () => {
  fake = await startFakeOpenAI();
});
afterEach(() => fake.close());

/** OpenAIChat, with every request it is handed kept: how the loop's request is seen without reading the wire. */
function recorded(fake: FakeOpenAI): { model: Model; requests: ModelRequest[] } {
  const inner = chatModel(fake);
  const requests: ModelRequest[] = [];
  const model: Model = {
    id: inner.id,
    invoke: (request) => (requests.push(request), inner.invoke(request)),
    stream: (request) => (requests.push(request), inner.stream(request)),
  };
  return { model, requests };
}

const Weather = z.object({ city: z.string(), celsius: z.number() });
const JSON_SCHEMA = {
  type: 'object',
  properties: { count: { type: 'integer', minimum: 0 } },
  required: ['count'],
  additionalProperties: false,
} as const;

async function failure(run: Promise<RunOutput>): Promise<{ error: OutputCheckError; output: RunOutput }> {
  const error = (await run.then(
    () => {
      throw new Error('the run should have failed');
    },
    (e: unknown) => e,
  )) as OutputCheckError & { runOutput: RunOutput };
  return { error, output: error.runOutput };
}

describe('outputSchema on the agent', () => {
  it('asks for the schema and parses a matching answer into output.parsed (zod)', async () => {
    const { model, requests } = recorded(fake);
    fake.setReply('{"city":"Oslo","celsius":4}');
    const agent = new Agent({ model, outputSchema: Weather });
    const output = await agent.run('Weather in Oslo?');
    expect(output.status).toBe('completed');
    expect(output.content).toBe('{"city":"Oslo","celsius":4}');
    expect(output.parsed).toEqual({ city: 'Oslo', celsius: 4 });
    expect(requests[0]!.responseFormat).toEqual({
      name: 'output',
      schema: {
        type: 'object',
        properties: { city: { type: 'string' }, celsius: { type: 'number' } },
        required: ['city', 'celsius'],
      },
    });
  });

  it('keeps zod’s output in parsed: transforms applied, defaults filled', async () => {
    fake.setReply('{"city":"oslo"}');
    const agent = new Agent({
      model: chatModel(fake),
      outputSchema: z.object({ city: z.string().transform((s) => s.toUpperCase()), celsius: z.number().default(0) }),
    });
    const output = await agent.run('x');
    expect(output.parsed).toEqual({ city: 'OSLO', celsius: 0 });
  });

  it('validates a JSON Schema with ajv: a match is parsed, a miss is an OutputCheckError', async () => {
    const { model, requests } = recorded(fake);
    const agent = new Agent({ model, outputSchema: JSON_SCHEMA });
    fake.setReply('{"count":3}');
    expect((await agent.run('x')).parsed).toEqual({ count: 3 });
    expect(requests[0]!.responseFormat?.schema).toMatchObject({ type: 'object', required: ['count'] });
    for (const bad of ['{"count":-1}', '{"count":"3"}', '{"count":1,"extra":true}', '{}']) {
      fake.setReply(bad);
      const { error } = await failure(agent.run('x'));
      expect(error).toBeInstanceOf(OutputCheckError);
      expect(error.checkTrigger).toBe('validation_failed');
    }
  });

  for (const [what, answer] of [
    ['is not JSON', 'Oslo is cold today. MARKER-NOT-JSON'],
    ['misses the schema', '{"city":"MARKER-MISS","celsius":"cold"}'],
    ['is a JSON array', '["MARKER-ARRAY"]'],
  ] as const) {
    it(`fails closed with OutputCheckError (validation_failed) when the answer ${what}, storing nothing of it`, async () => {
      fake.setReply(answer);
      const store = new MemorySessionStore();
      const agent = new Agent({ model: chatModel(fake), outputSchema: Weather, sessionStore: store });
      const events = listen(agent);
      const { error, output } = await failure(agent.run('Weather?', { sessionId: 's' }));
      expect(error).toBeInstanceOf(OutputCheckError);
      expect(error.checkTrigger).toBe('validation_failed');
      expect(error.message).toMatch(/output schema/);
      expect(output.status).toBe('error');
      expect(output.error).toMatchObject({ type: 'output_check_error', checkTrigger: 'validation_failed' });
      expect(output.content).toBeUndefined();
      expect(output).not.toHaveProperty('parsed');
      expect(JSON.stringify(output)).not.toContain('MARKER');
      expect(JSON.stringify(store.get('s'))).not.toContain('MARKER');
      expect(JSON.stringify(events)).not.toContain('MARKER');
      expect(fake.chatRequests()).toHaveLength(1);
    });
  }
});

describe('a retry for an answer that misses the schema (maxOutputRetries)', () => {
  it('asks again with the problem as feedback; the rejected answer appears nowhere', async () => {
    const store = new MemorySessionStore();
    fake.setReplies(['{"city":"REJECTED-ANSWER","celsius":"cold"}', '{"city":"Oslo","celsius":4}']);
    const agent = new Agent({ model: chatModel(fake), outputSchema: Weather, maxOutputRetries: 1, sessionStore: store });
    const events = listen(agent);
    const output = await agent.run('Weather in Oslo?', { sessionId: 's' });
    expect(output.status).toBe('completed');
    expect(output.parsed).toEqual({ city: 'Oslo', celsius: 4 });
    expect(output.metrics.steps).toBe(2);
    const [, retry] = fake.chatRequests();
    // The retry request: the question and the feedback, never the rejected answer.
    expect(retry!.messages).toEqual([
      { role: 'user', content: 'Weather in Oslo?' },
      { role: 'user', content: expect.stringMatching(/does not match the output schema.*celsius/s) },
    ]);
    expect(output.messages).toEqual([
      { role: 'user', content: 'Weather in Oslo?' },
      { role: 'assistant', content: '{"city":"Oslo","celsius":4}' },
    ]);
    for (const where of [output, store.get('s'), events, fake.chatRequests()]) expect(JSON.stringify(where)).not.toContain('REJECTED');
  });

  it('fails with validation_failed when the retries are used up', async () => {
    fake.setReplies(['not json', '{"city":1}', 'unused']);
    const agent = new Agent({ model: chatModel(fake), outputSchema: Weather, maxOutputRetries: 1 });
    const { error } = await failure(agent.run('x'));
    expect(error.checkTrigger).toBe('validation_failed');
    expect(fake.chatRequests()).toHaveLength(2);
  });
});

describe('outputSchema on a run', () => {
  it('wins over the agent’s for that run only', async () => {
    const { model, requests } = recorded(fake);
    const agent = new Agent({ model, outputSchema: Weather });
    fake.setReply('{"count":7}');
    const own = await agent.run('how many?', { outputSchema: JSON_SCHEMA });
    expect(own.parsed).toEqual({ count: 7 });
    expect(requests[0]!.responseFormat?.schema).toMatchObject({ required: ['count'] });
    fake.setReply('{"city":"Oslo","celsius":4}');
    const agents = await agent.run('weather?');
    expect(agents.parsed).toEqual({ city: 'Oslo', celsius: 4 });
    expect(requests[1]!.responseFormat?.schema).toMatchObject({ required: ['city', 'celsius'] });
  });

  it('works on an agent without one, and a run without one sends no responseFormat', async () => {
    const { model, requests } = recorded(fake);
    const agent = new Agent({ model });
    fake.setReply('{"city":"Oslo","celsius":4}');
    expect((await agent.run('x', { outputSchema: Weather })).parsed).toEqual({ city: 'Oslo', celsius: 4 });
    const plain = await agent.run('x');
    expect(plain).not.toHaveProperty('parsed');
    expect(requests[1]).not.toHaveProperty('responseFormat');
  });
});

describe('structured output while streaming', () => {
  it('streams the raw JSON through the chunk checks and sets finalOutput.parsed', async () => {
    const seen: string[] = [];
    const watch = hook({ everyChunk: true, name: 'watch' })(({ text }: { text: string }) => void seen.push(text));
    fake.setReply({ content: '{"city":"Oslo","celsius":4}', chunkSize: 5 });
    const agent = new Agent({ model: chatModel(fake), outputSchema: Weather, postHooks: [watch] });
    const stream = agent.stream('x');
    const { events, error } = await collect(stream);
    expect(error).toBeUndefined();
    expect(seen.length).toBeGreaterThan(3);
    expect(seen.join('')).toBe('{"city":"Oslo","celsius":4}');
    expect(deltas(events).join('')).toBe('{"city":"Oslo","celsius":4}');
    expect((await stream.finalOutput).parsed).toEqual({ city: 'Oslo', celsius: 4 });
  });

  it('parses what the chunk checks left, not the raw model text', async () => {
    const mask = hook({ everyChunk: true, name: 'mask' })(({ text }: { text: string }) => ({ text: text.replace(/Oslo/g, 'XXXX') }));
    fake.setReply({ content: '{"city":"Oslo","celsius":4}', chunkSize: 50 });
    const agent = new Agent({ model: chatModel(fake), outputSchema: Weather, postHooks: [mask] });
    const stream = agent.stream('x');
    await collect(stream);
    expect((await stream.finalOutput).parsed).toEqual({ city: 'XXXX', celsius: 4 });
  });
});

describe('post-hooks and parsed', () => {
  it('a post-hook that makes the content invalid JSON fails the run with validation_failed', async () => {
    fake.setReply('{"city":"Oslo","celsius":4}');
    const agent = new Agent({
      model: chatModel(fake),
      outputSchema: Weather,
      postHooks: [
        function sign({ runOutput }: PostHookArgs) {
          runOutput.content += ' -- signed';
        },
      ],
    });
    const { error, output } = await failure(agent.run('x'));
    expect(error).toBeInstanceOf(OutputCheckError);
    expect(error.checkTrigger).toBe('validation_failed');
    expect(output.content).toBeUndefined();
    expect(output).not.toHaveProperty('parsed');
  });

  it('a post-hook that rewrites the JSON gets parsed re-read from its content', async () => {
    fake.setReply('{"city":"Oslo","celsius":4}');
    const agent = new Agent({
      model: chatModel(fake),
      outputSchema: Weather,
      postHooks: [
        function redact({ runOutput }: PostHookArgs) {
          runOutput.content = runOutput.content!.replace('Oslo', '[city]');
        },
      ],
    });
    const output = await agent.run('x');
    expect(output.content).toBe('{"city":"[city]","celsius":4}');
    expect(output.parsed).toEqual({ city: '[city]', celsius: 4 });
  });
});
