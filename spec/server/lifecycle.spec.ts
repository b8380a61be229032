/**
 * A run's life on the server: cancelled by a client that leaves, background hooks after the response, busy
 * sessions, background runs, human approval, and a graceful close under load.
 */
import { describe, expect, it } from 'vitest';
import { Agent, OpenAIChat, hook, tool } from 'hookchain';
import { OfflineModel, startFakeOpenAI } from 'hookchain/testing';
import { offlineAgent, parseSse, post, serve, json } from './kit.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('run lifecycle', () => {
  it('cancels the run of a client that disconnects mid-stream: status cancelled, model request aborted, no background job', async () => {
    const fake = await startFakeOpenAI({ reply: { content: 'x'.repeat(400), chunkSize: 4, chunkDelayMs: 20 } });
    try {
      let jobs = 0;
      const agent = new Agent({
        name: 'remote',
        model: new OpenAIChat({ id: 'gpt', baseURL: fake.baseURL, apiKey: fake.apiKey }),
        postHooks: [hook({ runInBackground: true })(() => void jobs++)],
      });
      const { url } = await serve({ agents: [agent] });
      const controller = new AbortController();
      const res = await fetch(`${url}/agents/remote/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ input: 'hi', sessionId: 'leaver', stream: true }),
        signal: controller.signal,
      });
      const reader = res.body!.getReader();
      let seen = '';
      while (!seen.includes('event: content')) seen += new TextDecoder().decode((await reader.read()).value);
      controller.abort();
      await fake.requests[0]!.closed;
      expect(fake.requests[0]!.aborted).toBe(true);
      await sleep(50);
      await agent.drain();
      const session = await json(fetch(`${url}/sessions/leaver`));
      expect(session.runs[0].status).toBe('cancelled');
      expect(jobs).toBe(0);
    } finally {
      await fake.close();
    }
  });

  it('starts background hooks only after the response has been written, and a slow one does not delay it', async () => {
    const log: string[] = [];
    const agent = offlineAgent({
      postHooks: [
        hook({ runInBackground: true })(async () => {
          log.push('background hook');
          await sleep(400);
        }),
      ],
    });
    const { server, url } = await serve({ agents: [agent] });
    server.app.use(async (ctx, next) => {
      ctx.res.once('finish', () => log.push('response written'));
      await next();
    });
    const started = Date.now();
    const res = await post(`${url}/agents/echo/runs`, { input: 'hi' });
    await json(res);
    expect(Date.now() - started).toBeLessThan(300);
    await agent.drain();
    expect(log).toEqual(['response written', 'background hook']);
  });

  it("queues a second run on a busy session by default, and answers 409 with busySession: 'reject'", async () => {
    const slowPre = async () => sleep(100);
    const queued = await serve({ agents: [offlineAgent({ preHooks: [slowPre] })] });
    const [a, b] = await Promise.all([
      post(`${queued.url}/agents/echo/runs`, { input: 'one', sessionId: 'q' }),
      post(`${queued.url}/agents/echo/runs`, { input: 'two', sessionId: 'q' }),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect((await json(fetch(`${queued.url}/sessions/q`))).runs).toHaveLength(2);

    const rejecting = await serve({ agents: [offlineAgent({ preHooks: [slowPre] })], busySession: 'reject' });
    const first = post(`${rejecting.url}/agents/echo/runs`, { input: 'one', sessionId: 'r' });
    await sleep(30);
    const second = await post(`${rejecting.url}/agents/echo/runs`, { input: 'two', sessionId: 'r' });
    expect(second.status).toBe(409);
    expect((await json(second)).error.type).toBe('session_busy');
    expect((await first).status).toBe(200);
    expect((await post(`${rejecting.url}/agents/echo/runs`, { input: 'three', sessionId: 'r' })).status).toBe(200);
  });

  it('answers a background run 202 with runId and sessionId at once, then serves it to polling', async () => {
    const agent = offlineAgent({ reply: 'done later', preHooks: [async () => sleep(150)] });
    const { url } = await serve({ agents: [agent] });
    const res = await post(`${url}/agents/echo/runs`, { input: 'hi', background: true });
    expect(res.status).toBe(202);
    const { runId, sessionId } = await json(res);
    expect(res.headers.get('x-run-id')).toBe(runId);
    expect(typeof sessionId).toBe('string');
    const running = await json(fetch(`${url}/agents/echo/runs/${runId}`));
    expect(running).toEqual({ runId, sessionId, agentId: 'echo', status: 'running' });
    let polled: { status: string; content?: string } = running;
    for (let i = 0; i < 50 && polled.status === 'running'; i++) {
      await sleep(20);
      polled = await json(fetch(`${url}/agents/echo/runs/${runId}`));
    }
    expect(polled).toMatchObject({ status: 'completed', content: 'done later', runId, sessionId });
  });

  it('pauses a run on a tool that needs approval, continues it to completion, and answers 409 to a second continue', async () => {
    const refund = tool({
      name: 'refund',
      description: 'Refund an order',
      parameters: { type: 'object', properties: { orderId: { type: 'string' } }, required: ['orderId'] },
      requiresApproval: true,
      execute: ({ orderId }) => ({ refunded: orderId }),
    });
    const model = new OfflineModel({
      reply: (messages) =>
        messages.at(-1)!.role === 'tool' ? 'Refunded.' : { toolCalls: [{ name: 'refund', arguments: { orderId: '42' } }] },
    });
    const agent = new Agent({ name: 'desk', model, tools: [refund] });
    const { url } = await serve({ agents: [agent] });
    const paused = await json(post(`${url}/agents/desk/runs`, { input: 'refund 42', sessionId: 'h1' }));
    expect(paused.status).toBe('paused');
    const approvals = paused.pendingApprovals.map(({ callId }: { callId: string }) => ({ callId, approved: true }));
    const cont = await post(`${url}/agents/desk/runs/${paused.runId}/continue`, { sessionId: 'h1', approvals, stream: true });
    expect(cont.status).toBe(200);
    const frames = parseSse(await cont.text());
    expect(frames.at(-1)!.event).toBe('run_completed');
    expect(JSON.parse(frames.at(-1)!.data).output.content).toBe('Refunded.');
    const again = await post(`${url}/agents/desk/runs/${paused.runId}/continue`, { sessionId: 'h1', approvals });
    expect(again.status).toBe(409);
    expect((await json(again)).error.type).toBe('run_not_paused');
    const bad = await post(`${url}/agents/desk/runs/${paused.runId}/continue`, { sessionId: 'h1', approvals: 'yes' });
    expect((await json(bad)).error.message).toBe('field "approvals" must be an array');
  });
});

describe('graceful close', () => {
  it('finishes 50 in-flight requests, runs every queued background hook, and answers 503 to new requests', async () => {
    let hooksRun = 0;
    let entered = 0;
    let allEntered!: () => void;
    const inside = new Promise<void>((resolve) => (allEntered = resolve));
    const agent = offlineAgent({
      reply: 'complete answer',
      preHooks: [
        async () => {
          if (++entered === 50) allEntered();
          await sleep(150);
        },
      ],
      postHooks: [
        hook({ runInBackground: true })(async () => {
          await sleep(20);
          hooksRun++;
        }),
      ],
    });
    const { server, url } = await serve({ agents: [agent] });
    const inFlight = Array.from({ length: 50 }, (_, i) =>
      post(`${url}/agents/echo/runs`, { input: `request ${i}`, stream: i % 2 === 0 }).then(async (r) => ({
        status: r.status,
        body: await r.text(),
      })),
    );
    await inside;
    const closed = server.close({ timeoutMs: 5000 });
    const refused = await post(`${url}/agents/echo/runs`, { input: 'late' });
    expect(refused.status).toBe(503);
    expect((await json(refused)).error.type).toBe('unavailable');
    const answers = await Promise.all(inFlight);
    for (const [i, a] of answers.entries()) {
      expect(a.status).toBe(200);
      if (i % 2 === 0) expect(parseSse(a.body).at(-1)!.event).toBe('run_completed');
      else expect(JSON.parse(a.body).content).toBe('complete answer');
    }
    await closed;
    expect(hooksRun).toBe(50);
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  });
});
