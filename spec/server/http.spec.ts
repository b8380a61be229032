/**
 * The routes' statuses and error shapes (DESIGN §10), over real HTTP on 127.0.0.1.
 */
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { Agent, InputCheckError, OutputCheckError, limits, tool, type PostHookArgs } from 'hookchain';
import { OfflineModel, startFakeOpenAI } from 'hookchain/testing';
import { OpenAIChat } from 'hookchain';
import { offlineAgent, parseSse, post, serve, json } from './kit.ts';

const blockSecrets = ({ runInput }: { runInput: { inputContent: unknown } }) => {
  if (JSON.stringify(runInput.inputContent).includes('secret')) throw new InputCheckError('no secrets here', { checkTrigger: 'off_topic' });
};
const noRefunds = ({ runOutput }: PostHookArgs) => {
  if (runOutput.content?.includes('refund')) throw new OutputCheckError('no refund promises');
};

describe('routes', () => {
  it('answers /health with { status: ok } and lists the agents by name only', async () => {
    const agent = new Agent({ name: 'support', model: new OfflineModel({ id: 'm1' }), preHooks: [blockSecrets], postHooks: [noRefunds] });
    const { url } = await serve({ agents: [agent, offlineAgent()] });
    expect(await json(fetch(`${url}/health`))).toEqual({ status: 'ok' });
    expect(await json(fetch(`${url}/agents`))).toEqual([
      { id: 'support', name: 'support', model: 'm1', preHooks: ['blockSecrets'], postHooks: ['noRefunds'], tools: [] },
      { id: 'echo', name: 'echo', model: 'offline', preHooks: [], postHooks: [], tools: [] },
    ]);
  });

  it('runs an agent and answers its RunOutput with x-run-id, echoing x-request-id', async () => {
    const { url } = await serve({ agents: [offlineAgent({ reply: 'hello' })] });
    const res = await post(
      `${url}/agents/echo/runs`,
      { input: 'hi', sessionId: 's1', userId: 'u1', metadata: { a: 1 } },
      { 'x-request-id': 'req-42' },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('req-42');
    const out = await json(res);
    expect(out).toMatchObject({ content: 'hello', status: 'completed', sessionId: 's1', userId: 'u1', agentId: 'echo' });
    expect(res.headers.get('x-run-id')).toBe(out.runId);
    // A request without an id gets a generated one.
    expect((await fetch(`${url}/health`)).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('streams a run as SSE: id, event and data per RunEvent, ending with run_completed, with the proxy headers', async () => {
    const { url } = await serve({ agents: [offlineAgent({ reply: 'streamed answer' })] });
    const res = await post(`${url}/agents/echo/runs`, { input: 'hi', stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    const frames = parseSse(await res.text());
    expect(frames.map((f) => f.id)).toEqual(frames.map((_, i) => String(i + 1)));
    for (const f of frames) expect(JSON.parse(f.data).type).toBe(f.event);
    expect(frames[0]!.event).toBe('run_started');
    expect(frames.at(-1)!.event).toBe('run_completed');
    expect(JSON.parse(frames.at(-1)!.data).runId).toBe(res.headers.get('x-run-id'));
    const text = frames.filter((f) => f.event === 'content').map((f) => JSON.parse(f.data).delta as string);
    expect(text.join('')).toBe('streamed answer');
  });

  it('ends a blocked stream with run_error carrying the verdict', async () => {
    const { url } = await serve({ agents: [offlineAgent({ preHooks: [blockSecrets] })] });
    const frames = parseSse(await (await post(`${url}/agents/echo/runs`, { input: 'a secret', stream: true })).text());
    const last = frames.at(-1)!;
    expect(last.event).toBe('run_error');
    expect(JSON.parse(last.data).error).toEqual({
      type: 'input_check_error',
      name: 'InputCheckError',
      message: 'no secrets here',
      checkTrigger: 'off_topic',
    });
  });

  it('replays what a client missed after Last-Event-ID, for a recent run', async () => {
    const { url } = await serve({ agents: [offlineAgent({ reply: 'one two three four' })] });
    const res = await post(`${url}/agents/echo/runs`, { input: 'hi', stream: true });
    const all = parseSse(await res.text());
    const runId = res.headers.get('x-run-id')!;
    const replay = await fetch(`${url}/agents/echo/runs/${runId}/events`, { headers: { 'Last-Event-ID': '3' } });
    expect(replay.status).toBe(200);
    expect(parseSse(await replay.text())).toEqual(all.slice(3));
    expect((await fetch(`${url}/agents/echo/runs/unknown-run/events`)).status).toBe(404);
  });

  it('replays a live background run, then follows it live to its end', async () => {
    const agent = new Agent({ name: 'slow', model: new OfflineModel({ reply: 'a b c d e f g h', chunkSize: 2, chunkDelayMs: 20 }) });
    const { url } = await serve({ agents: [agent] });
    const started = await post(`${url}/agents/slow/runs`, { input: 'hi', background: true });
    const { runId } = await json(started);
    await new Promise((r) => setTimeout(r, 50));
    const frames = parseSse(await (await fetch(`${url}/agents/slow/runs/${runId}/events`, { headers: { 'Last-Event-ID': '1' } })).text());
    expect(frames[0]!.id).toBe('2');
    expect(frames.map((f) => Number(f.id))).toEqual(frames.map((_, i) => i + 2));
    expect(frames.at(-1)!.event).toBe('run_completed');
  });

  it('answers 400 for malformed JSON, a missing field, a wrong-typed field (named) and an unknown field', async () => {
    const { url } = await serve({ agents: [offlineAgent()] });
    const bad = await fetch(`${url}/agents/echo/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"input": ',
    });
    expect(bad.status).toBe(400);
    expect(await json(bad)).toEqual({ error: { type: 'invalid_request_error', message: 'the body is not valid JSON' } });
    const missing = await post(`${url}/agents/echo/runs`, { sessionId: 's' });
    expect(missing.status).toBe(400);
    expect((await json(missing)).error.message).toMatch(/field "input" is required/);
    const wrong = await post(`${url}/agents/echo/runs`, { input: 'hi', stream: 'yes' });
    expect(wrong.status).toBe(400);
    expect((await json(wrong)).error.message).toBe('field "stream" must be true or false');
    const wrongSession = await post(`${url}/agents/echo/runs`, { input: 'hi', sessionId: 7 });
    expect((await json(wrongSession)).error.message).toMatch(/field "sessionId"/);
    const unknown = await post(`${url}/agents/echo/runs`, { input: 'hi', temperature: 1 });
    expect(unknown.status).toBe(400);
    expect((await json(unknown)).error.message).toMatch(/unknown field "temperature"/);
    const array = await post(`${url}/agents/echo/runs`, [1, 2]);
    expect(array.status).toBe(400);
  });

  it('answers 415 for a body that is not JSON and 413 for one over bodyLimit', async () => {
    const { url } = await serve({ agents: [offlineAgent()], bodyLimit: '1kb' });
    const text = await fetch(`${url}/agents/echo/runs`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' });
    expect(text.status).toBe(415);
    expect((await json(text)).error.type).toBe('unsupported_media_type');
    const huge = await post(`${url}/agents/echo/runs`, { input: 'x'.repeat(5000) });
    expect(huge.status).toBe(413);
    expect((await json(huge)).error.type).toBe('payload_too_large');
  });

  it('times out a client that sends headers and stalls, and closes its connection', async () => {
    const { url } = await serve({ agents: [offlineAgent()], requestTimeoutMs: 200 });
    const { port } = new URL(url);
    const socket = connect(Number(port), '127.0.0.1');
    let received = '';
    socket.on('data', (d) => (received += d.toString()));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.write('POST /agents/echo/runs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"inp');
    const started = Date.now();
    await closed;
    expect(Date.now() - started).toBeLessThan(3000);
    expect(received).toMatch(/^HTTP\/1\.1 408/);
    expect(received).toContain('"type":"request_timeout"');
  });

  it('answers 404 for an unknown agent, run and session', async () => {
    const { url } = await serve({ agents: [offlineAgent()] });
    const agent = await post(`${url}/agents/nobody/runs`, { input: 'hi' });
    expect(agent.status).toBe(404);
    expect(await json(agent)).toEqual({ error: { type: 'not_found', message: 'unknown agent "nobody"' } });
    expect((await fetch(`${url}/agents/echo/runs/nope?sessionId=s`)).status).toBe(404);
    expect((await fetch(`${url}/sessions/nope`)).status).toBe(404);
    expect((await fetch(`${url}/sessions/nope`, { method: 'DELETE' })).status).toBe(404);
    const cont = await post(`${url}/agents/echo/runs/r1/continue`, { sessionId: 'nope', approvals: [] });
    expect(cont.status).toBe(404);
  });

  it('answers an input verdict 400 and an output verdict 422 with the trigger and runId, never the blocked text', async () => {
    const agent = offlineAgent({ reply: 'we will refund you', preHooks: [blockSecrets], postHooks: [noRefunds] });
    const { url } = await serve({ agents: [agent] });
    const input = await post(`${url}/agents/echo/runs`, { input: 'my secret' });
    expect(input.status).toBe(400);
    const inputBody = await json(input);
    expect(inputBody).toEqual({
      error: { type: 'input_check_error', message: 'no secrets here', checkTrigger: 'off_topic', runId: input.headers.get('x-run-id') },
    });
    const output = await post(`${url}/agents/echo/runs`, { input: 'hello' });
    expect(output.status).toBe(422);
    const text = await output.text();
    expect(JSON.parse(text).error).toMatchObject({ type: 'output_check_error', checkTrigger: 'output_not_allowed' });
    expect(text).not.toContain('refund you');
  });

  it('answers blocked runs with the refusal when blockedResponse is a function: 200, blocked, trigger, no blocked text', async () => {
    const agent = offlineAgent({ reply: 'we will refund you', postHooks: [noRefunds] });
    const seen: unknown[] = [];
    const blockedResponse = (info: { checkTrigger: string }) => {
      seen.push(info);
      return `Sorry, I cannot help with that (${info.checkTrigger}).`;
    };
    const { url } = await serve({ agents: [agent], blockedResponse });
    const res = await post(`${url}/agents/echo/runs`, { input: 'hello' });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({
      content: 'Sorry, I cannot help with that (output_not_allowed).',
      blocked: true,
      checkTrigger: 'output_not_allowed',
    });
    expect(text).not.toContain('refund you');
    expect(seen[0]).toMatchObject({
      checkTrigger: 'output_not_allowed',
      message: 'no refund promises',
      agentId: 'echo',
      type: 'output_check_error',
    });
    const frames = parseSse(await (await post(`${url}/agents/echo/runs`, { input: 'hello', stream: true })).text());
    const sse = frames.map((f) => f.data).join('\n');
    expect(sse).not.toContain('refund you');
    expect(frames.at(-2)).toMatchObject({ event: 'content' });
    expect(JSON.parse(frames.at(-2)!.data).delta).toBe('Sorry, I cannot help with that (output_not_allowed).');
    expect(JSON.parse(frames.at(-1)!.data)).toMatchObject({ type: 'run_error', blocked: true, checkTrigger: 'output_not_allowed' });
  });

  it('answers a model failure 502, a limit 422 and a crashing hook 500 with a generic message and the runId', async () => {
    const fake = await startFakeOpenAI({
      reply: { status: 500, body: { error: { message: 'upstream db password=hunter2', type: 'server_error' } } },
    });
    try {
      const failing = new Agent({
        name: 'remote',
        model: new OpenAIChat({ id: 'gpt', baseURL: fake.baseURL, apiKey: fake.apiKey, maxRetries: 0 }),
      });
      const ping = tool({ name: 'ping', description: 'ping', parameters: { type: 'object', properties: {} }, execute: () => 'pong' });
      const limited = new Agent({
        name: 'limited',
        model: new OfflineModel({ reply: () => ({ toolCalls: [{ name: 'ping', arguments: {} }] }) }),
        tools: [ping],
        modelMiddleware: [limits({ maxModelCalls: 1 })],
      });
      const crashing = offlineAgent({
        name: 'crash',
        preHooks: [
          () => {
            throw new Error('internal detail: /etc/keys');
          },
        ],
      });
      const { url } = await serve({ agents: [failing, limited, crashing] });
      const model = await post(`${url}/agents/remote/runs`, { input: 'hi' });
      expect(model.status).toBe(502);
      const modelText = await model.text();
      expect(modelText).not.toContain('hunter2');
      expect(JSON.parse(modelText).error).toMatchObject({ type: 'model_error', runId: model.headers.get('x-run-id') });
      const limit = await post(`${url}/agents/limited/runs`, { input: 'hi' });
      expect(limit.status).toBe(422);
      expect((await json(limit)).error.type).toBe('limit_error');
      const crash = await post(`${url}/agents/crash/runs`, { input: 'hi' });
      expect(crash.status).toBe(500);
      const crashText = await crash.text();
      expect(crashText).not.toContain('internal detail');
      expect(crashText).not.toMatch(/at .*\.ts:\d+/);
      expect(JSON.parse(crashText).error).toMatchObject({ type: 'server_error', runId: crash.headers.get('x-run-id') });
      // The SSE twin hides the crash's message too.
      const sse = await (await post(`${url}/agents/crash/runs`, { input: 'hi', stream: true })).text();
      expect(sse).toContain('event: run_error');
      expect(sse).not.toContain('internal detail');
    } finally {
      await fake.close();
    }
  });

  it('answers 503 over maxConcurrentRuns', async () => {
    const slow = new Agent({ name: 'slow', model: new OfflineModel({ reply: 'abcdefgh', chunkSize: 1, chunkDelayMs: 30 }) });
    const { url } = await serve({ agents: [slow], maxConcurrentRuns: 1 });
    const first = post(`${url}/agents/slow/runs`, { input: 'hi', stream: true });
    await new Promise((r) => setTimeout(r, 50));
    const second = await post(`${url}/agents/slow/runs`, { input: 'hi' });
    expect(second.status).toBe(503);
    expect((await json(second)).error.type).toBe('unavailable');
    expect((await (await first).text()).endsWith('\n\n')).toBe(true);
    expect((await post(`${url}/agents/slow/runs`, { input: 'hi' })).status).toBe(200);
  });
});

describe('sessions', () => {
  it('lists, reads and deletes sessions without auth, given ?userId=', async () => {
    const { url } = await serve({ agents: [offlineAgent()] });
    await post(`${url}/agents/echo/runs`, { input: 'hi', sessionId: 's1', userId: 'u1' });
    await post(`${url}/agents/echo/runs`, { input: 'hi', sessionId: 's2', userId: 'u2' });
    const list = await json(fetch(`${url}/sessions?userId=u1&agentId=echo&limit=10`));
    expect(list.map((s: { sessionId: string }) => s.sessionId)).toEqual(['s1']);
    expect((await fetch(`${url}/sessions`)).status).toBe(400);
    expect((await fetch(`${url}/sessions?userId=u1&limit=zero`)).status).toBe(400);
    expect((await fetch(`${url}/sessions?userId=u1&agentId=nobody`)).status).toBe(404);
    const session = await json(fetch(`${url}/sessions/s1`));
    expect(session).toMatchObject({ sessionId: 's1', agentId: 'echo', userId: 'u1' });
    expect(session.runs).toHaveLength(1);
    expect((await fetch(`${url}/sessions/s1`, { method: 'DELETE' })).status).toBe(204);
    expect((await fetch(`${url}/sessions/s1`)).status).toBe(404);
  });
});
