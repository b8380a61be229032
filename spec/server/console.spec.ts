/**
 * The run console (DESIGN §12) without a browser: the recorder's bounds and what it refuses to keep, the timeline
 * it derives, the JSON and SSE endpoints, the option's checks, and auth (the header, the `?key=` cookie exchange,
 * and per-user scoping).
 */
import { describe, expect, it } from 'vitest';
import { Agent, CheckTrigger, InputCheckError, hook, type PreHookArgs } from 'hookchain';
import { AgentServer } from 'hookchain/server';
import { OfflineModel } from 'hookchain/testing';
import { ConsoleRecorder, timeline } from '../../lib/server/console/recorder.ts';
import { json, offlineAgent, parseSse, post, serve } from './kit.ts';

const SECRET_INPUT = 'my card is 4111 1111 1111 1111 and the password is hunter2';
const SECRET_ANSWER = 'the vault code is 8675309';

const noSecrets = hook({ name: 'no_secrets' })(({ runInput }: PreHookArgs) => {
  if (String(runInput.inputContent).includes('BLOCK')) {
    throw new InputCheckError('secrets are not allowed here', { checkTrigger: CheckTrigger.INPUT_NOT_ALLOWED });
  }
});
const countWords = hook({ name: 'count_words' })(() => {});

function consoleAgent(): Agent {
  return new Agent({
    name: 'support',
    model: new OfflineModel({ reply: SECRET_ANSWER }),
    preHooks: [countWords, noSecrets],
    postHooks: [hook({ name: 'polite' })(() => {})],
  });
}

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('ConsoleRecorder', () => {
  it('records names, times and outcomes only: no input, answer or error message anywhere in what it keeps', async () => {
    const agent = consoleAgent();
    const recorder = new ConsoleRecorder();
    recorder.attach(agent);
    await agent.run(SECRET_INPUT);
    await agent.run(`BLOCK ${SECRET_INPUT}`).catch(() => {});
    const stream = agent.stream(SECRET_INPUT);
    for await (const _ of stream) void _;
    const [streamed, blocked, passed] = recorder.list();
    expect(passed!.status).toBe('completed');
    expect(blocked!.status).toBe('blocked');
    expect(blocked!.blockedBy).toEqual({ hookName: 'no_secrets', checkTrigger: 'input_not_allowed' });
    expect(streamed!.status).toBe('completed');
    const everything = JSON.stringify([recorder.list(), ...recorder.list().map((r) => recorder.detail(r.runId))]);
    for (const secret of ['4111', 'hunter2', '8675309', 'secrets are not allowed']) expect(everything).not.toContain(secret);
    expect(recorder.detail(passed!.runId)!.recorded.map((e) => e.type)).toEqual([
      'run_started',
      'pre_hook_started',
      'pre_hook_completed',
      'pre_hook_started',
      'pre_hook_completed',
      'model_request_started',
      'model_request_completed',
      'post_hook_started',
      'post_hook_completed',
      'run_completed',
    ]);
    recorder.detach();
    await agent.run('after detach');
    expect(recorder.size).toBe(3);
  });

  it('keeps at most maxRuns runs (the oldest is evicted) and maxEventsPerRun events per run, with the status still exact', async () => {
    const agent = consoleAgent();
    const recorder = new ConsoleRecorder({ maxRuns: 3, maxEventsPerRun: 4 });
    recorder.attach(agent);
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push((await agent.run(`hi ${i}`)).runId);
    expect(recorder.size).toBe(3);
    expect(recorder.list().map((r) => r.runId)).toEqual(ids.slice(-3).reverse());
    expect(recorder.detail(ids[0]!)).toBeUndefined();
    const last = recorder.detail(ids[9]!)!;
    expect(last.recorded).toHaveLength(4);
    expect(last.events).toBe(4);
    expect(last.dropped).toBe(6);
    expect(last.status).toBe('completed');
    recorder.detach();
  });

  it('keeps its memory bounded over many runs', async () => {
    const agent = consoleAgent();
    const recorder = new ConsoleRecorder({ maxRuns: 50, maxEventsPerRun: 20 });
    recorder.attach(agent);
    for (let i = 0; i < 200; i++) await agent.run(`run ${i}`);
    const size = () => JSON.stringify(recorder.list().map((r) => recorder.detail(r.runId))).length;
    const after200 = size();
    for (let i = 0; i < 300; i++) await agent.run(`run ${i}`);
    expect(recorder.size).toBe(50);
    // The same 50 runs of the same shape: the record does not grow with the number of runs seen.
    expect(size()).toBeLessThan(after200 * 1.05);
    expect(size()).toBeLessThan(50 * 20 * 200);
    recorder.detach();
  });

  it('draws bars: hooks paired by name, the blocking hook red with its trigger, failed-open amber, tools by callId, shadow marked', () => {
    const bars = timeline(
      [
        { type: 'run_started', t: 0 },
        { type: 'pre_hook_started', t: 1, hookName: 'a' },
        { type: 'hook_shadow_verdict', t: 1.5, hookName: 'a', phase: 'pre', checkTrigger: 'off_topic' },
        { type: 'pre_hook_completed', t: 2, hookName: 'a' },
        { type: 'pre_hook_started', t: 2, hookName: 'flaky' },
        { type: 'hook_failed', t: 3, hookName: 'flaky', phase: 'pre', errorName: 'TypeError' },
        { type: 'model_request_started', t: 3, model: 'm' },
        { type: 'model_request_completed', t: 8, model: 'm' },
        { type: 'tool_call_started', t: 8, toolName: 'get_order', callId: 'c1' },
        { type: 'tool_call_failed', t: 9, toolName: 'get_order', callId: 'c1', reason: 'error' },
        { type: 'post_hook_started', t: 10, hookName: 'pii' },
        { type: 'run_error', t: 11, reason: 'output_check_error', hookName: 'pii', checkTrigger: 'pii_detected' },
      ],
      { status: 'blocked', durationMs: 11 },
    );
    const by = (label: string) => bars.find((b) => b.label === label)!;
    expect(by('run')).toMatchObject({ start: 0, end: 11, outcome: 'blocked', checkTrigger: 'pii_detected' });
    expect(by('a')).toMatchObject({ kind: 'pre_hook', start: 1, end: 2, outcome: 'passed', shadow: true, checkTrigger: 'off_topic' });
    expect(by('flaky')).toMatchObject({ outcome: 'failed_open', end: 3 });
    expect(by('m')).toMatchObject({ kind: 'model', start: 3, end: 8, outcome: 'passed' });
    expect(by('get_order')).toMatchObject({ kind: 'tool', outcome: 'error' });
    expect(by('pii')).toMatchObject({ kind: 'post_hook', start: 10, end: 11, outcome: 'blocked', checkTrigger: 'pii_detected' });
  });
});

describe('the console routes', () => {
  it('is off by default, and the option is checked', async () => {
    const { url } = await serve({ agents: [offlineAgent()] });
    expect((await fetch(`${url}/console`)).status).toBe(404);
    expect(() => new AgentServer({ agents: [offlineAgent()], console: { maxRuns: 0 } })).toThrow(/console.*maxRuns/s);
    expect(() => new AgentServer({ agents: [offlineAgent()], console: { size: 3 } as never })).toThrow(/console/);
    expect(() => new AgentServer({ agents: [offlineAgent()], console: 'yes' as never })).toThrow(/console/);
  });

  it('serves the page, the run list and one run, without content', async () => {
    const { server, url } = await serve({ agents: [consoleAgent()], console: { maxRuns: 10 } });
    expect(server.consolePath).toBe('/console');
    const page = await fetch(`${url}/console`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'sha256-/);
    expect(await page.text()).toContain('run console');
    expect((await post(`${url}/agents/support/runs`, { input: SECRET_INPUT })).status).toBe(200);
    expect((await post(`${url}/agents/support/runs`, { input: `BLOCK ${SECRET_INPUT}` })).status).toBe(400);
    const runs = await json(fetch(`${url}/console/runs`));
    expect(runs.map((r: { status: string }) => r.status)).toEqual(['blocked', 'completed']);
    expect(runs[0].blockedBy).toEqual({ hookName: 'no_secrets', checkTrigger: 'input_not_allowed' });
    const detail = await json(fetch(`${url}/console/runs/${runs[0].runId}`));
    const blockedBar = detail.bars.find((b: { label: string }) => b.label === 'no_secrets');
    expect(blockedBar).toMatchObject({ kind: 'pre_hook', outcome: 'blocked', checkTrigger: 'input_not_allowed' });
    const all = JSON.stringify([runs, detail, await json(fetch(`${url}/console/runs/${runs[1].runId}`))]);
    for (const secret of ['4111', 'hunter2', '8675309', 'secrets are not allowed']) expect(all).not.toContain(secret);
    expect((await fetch(`${url}/console/runs/nope`)).status).toBe(404);
  });

  it('streams the list and then each changed run over SSE, and close() ends the stream', async () => {
    const { server, url } = await serve({ agents: [consoleAgent()], console: true });
    await post(`${url}/agents/support/runs`, { input: 'first' });
    const controller = new AbortController();
    const res = await fetch(`${url}/console/events`, { signal: controller.signal });
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = res.body!.getReader();
    let text = '';
    const readUntil = async (test: (t: string) => boolean) => {
      while (!test(text)) {
        const { value, done } = await reader.read();
        if (done) return;
        text += new TextDecoder().decode(value);
      }
    };
    await readUntil((t) => t.includes('event: runs'));
    await post(`${url}/agents/support/runs`, { input: 'BLOCK second' });
    await readUntil((t) => parseSse(t).some((f) => f.event === 'run' && JSON.parse(f.data).status === 'blocked'));
    const frames = parseSse(text);
    expect(JSON.parse(frames[0]!.data)).toHaveLength(1);
    expect(frames.some((f) => f.event === 'run' && JSON.parse(f.data).blockedBy?.hookName === 'no_secrets')).toBe(true);
    const started = performance.now();
    await server.close({ timeoutMs: 5000 });
    expect(performance.now() - started).toBeLessThan(2000);
    await readUntil(() => false);
    controller.abort();
  });
});

describe('console auth', () => {
  const apiKeys = { 'sk-alice': { userId: 'alice' }, 'sk-bob': { userId: 'bob' } };

  it('answers 401 without a key on every console route', async () => {
    const { url } = await serve({ agents: [consoleAgent()], console: true, apiKeys });
    for (const path of ['/console', '/console/runs', '/console/runs/x', '/console/events', '/console?key=sk-wrong']) {
      const res = await fetch(`${url}${path}`, { redirect: 'manual' });
      expect(res.status, path).toBe(401);
      await res.body?.cancel();
    }
  });

  it('takes the header, exchanges ?key= once for an HttpOnly cookie, and shows each user only their runs', async () => {
    const { url } = await serve({ agents: [consoleAgent()], console: true, apiKeys });
    await post(`${url}/agents/support/runs`, { input: 'alice here' }, { authorization: 'Bearer sk-alice' });
    await post(`${url}/agents/support/runs`, { input: 'bob here' }, { authorization: 'Bearer sk-bob' });
    const asBob = await json(fetch(`${url}/console/runs`, { headers: { authorization: 'Bearer sk-bob' } }));
    expect(asBob).toHaveLength(1);
    const exchange = await fetch(`${url}/console?key=sk-alice`, { redirect: 'manual' });
    expect(exchange.status).toBe(303);
    expect(exchange.headers.get('location')).toBe('/console');
    const cookie = exchange.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^hookchain_console=[\w-]{40,};/);
    expect(cookie).toMatch(/httponly/i);
    expect(cookie).toMatch(/samesite=strict/i);
    expect(cookie).toMatch(/path=\/console/i);
    expect(cookie).not.toContain('sk-alice');
    const session = cookie.split(';')[0]!;
    expect((await fetch(`${url}/console`, { headers: { cookie: session } })).status).toBe(200);
    const asAlice = await json(fetch(`${url}/console/runs`, { headers: { cookie: session } }));
    expect(asAlice).toHaveLength(1);
    expect(asAlice[0].runId).not.toBe(asBob[0].runId);
    expect((await fetch(`${url}/console/runs/${asBob[0].runId}`, { headers: { cookie: session } })).status).toBe(404);
    expect((await fetch(`${url}/console/runs`, { headers: { cookie: 'hookchain_console=forged' } })).status).toBe(401);
    // The cookie opens the console only, not the agent routes.
    expect((await fetch(`${url}/agents`, { headers: { cookie: session } })).status).toBe(401);
  });

  it('records background hooks and their outcome', async () => {
    const agent = new Agent({
      name: 'bg',
      model: new OfflineModel({ reply: 'ok' }),
      postHooks: [hook({ name: 'audit', runInBackground: true })(() => tick(5))],
    });
    const { url } = await serve({ agents: [agent], console: true });
    const out = await json(post(`${url}/agents/bg/runs`, { input: 'hi' }));
    await agent.drain();
    await tick(10);
    const detail = await json(fetch(`${url}/console/runs/${out.runId}`));
    expect(detail.bars.find((b: { kind: string }) => b.kind === 'background')).toMatchObject({ label: 'audit', outcome: 'passed' });
  });
});
