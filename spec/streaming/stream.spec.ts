/** agent.stream(): same chain and events as run(), leak-free chunk checks, cancellation. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Agent,
  BaseGuardrail,
  MemorySessionStore,
  OpenAIChat,
  OutputCheckError,
  hook,
  type ChunkCheckArgs,
  type HookArgs,
  type PostHookArgs,
  type RunEvent,
} from 'hookchain';
import { OfflineModel, startFakeOpenAI, type FakeOpenAI } from 'hookchain/testing';

let server: FakeOpenAI;
beforeAll(async () => {
  server = await startFakeOpenAI();
});
afterAll(() => server.close());

async function collect(iterable: AsyncIterable<RunEvent>): Promise<{ events: RunEvent[]; error?: unknown }> {
  const events: RunEvent[] = [];
  try {
    for await (const ev of iterable) events.push(ev);
    return { events };
  } catch (error) {
    return { events, error };
  }
}
const deltas = (events: RunEvent[]) => events.filter((e) => e.type === 'content').map((e) => (e as { delta: string }).delta);

/** Masks digits; holds a trailing run of digits because it may continue in the next chunk. */
class DigitMask extends BaseGuardrail {
  override check({ runOutput }: HookArgs & { runOutput?: { content?: string } }) {
    if (runOutput?.content) runOutput.content = runOutput.content.replace(/\d/g, '#');
  }
  override checkChunk({ text, final }: ChunkCheckArgs) {
    const masked = text.replace(/\d/g, '#');
    const tail = final ? 0 : (/#+$/.exec(masked)?.[0].length ?? 0);
    return { text: masked, hold: tail };
  }
}

describe('agent.stream()', () => {
  it('yields events in order, deltas join to the model text, finalOutput carries post-hook edits', async () => {
    server.setReply({ content: 'Hello there, streaming world!', chunkSize: 3 });
    const store = new MemorySessionStore();
    const agent = new Agent({
      model: new OpenAIChat({ id: 'm', client: server.client() }),
      sessionStore: store,
      preHooks: [function validate() {}],
      postHooks: [
        function sign({ runOutput }: PostHookArgs) {
          runOutput.content += ' -- signed';
        },
      ],
    });
    const stream = agent.stream('hi', { sessionId: 's' });
    const { events, error } = await collect(stream);
    expect(error).toBeUndefined();
    expect(deltas(events).join('')).toBe('Hello there, streaming world!');
    expect(deltas(events).length).toBeGreaterThan(3);
    const names = events.map((e) => e.type).filter((t, i, all) => t !== 'content' || all[i - 1] !== 'content');
    expect(names).toEqual([
      'run_started',
      'pre_hook_started',
      'pre_hook_completed',
      'model_request_started',
      'content',
      'model_request_completed',
      'post_hook_started',
      'post_hook_completed',
      'run_completed',
    ]);
    const completed = events.at(-1) as Extract<RunEvent, { type: 'run_completed' }>;
    expect(completed.output.content).toBe('Hello there, streaming world! -- signed');
    expect((await stream.finalOutput).content).toBe('Hello there, streaming world! -- signed');
    expect(store.get('s')!.runs[0]!.content).toBe('Hello there, streaming world! -- signed');
    expect(server.chatRequests().at(-1)!.stream).toBe(true);
    expect((await stream.finalOutput).metrics.outputTokens).toBeGreaterThan(0);
  });

  it('runs every hook exactly once, as run() does', async () => {
    const calls: string[] = [];
    const agent = new Agent({
      model: new OfflineModel({ reply: 'abc' }),
      preHooks: [() => void calls.push('pre')],
      postHooks: [async () => void calls.push('post')],
    });
    await collect(agent.stream('x'));
    expect(calls).toEqual(['pre', 'post']);
  });

  it('a failing pre-hook gives pre_hook_started → run_error and no content; then the stream rejects', async () => {
    const agent = new Agent({
      model: new OfflineModel({ reply: 'never' }),
      preHooks: [
        function gate() {
          throw new Error('nope');
        },
      ],
    });
    const { events, error } = await collect(agent.stream('x'));
    expect(events.map((e) => e.type)).toEqual(['run_started', 'pre_hook_started', 'run_error']);
    expect((error as Error).message).toBe('nope');
  });

  it('a failing post-hook gives post_hook_started → run_error, no run_completed; check errors carry type, trigger, data', async () => {
    const agent = new Agent({
      model: new OfflineModel({ reply: 'text' }),
      postHooks: [
        function judge() {
          throw new OutputCheckError('bad', { additionalData: { why: 'tone' } });
        },
      ],
    });
    const { events, error } = await collect(agent.stream('x'));
    const tail = events.map((e) => e.type).slice(-2);
    expect(tail).toEqual(['post_hook_started', 'run_error']);
    const runError = events.at(-1) as Extract<RunEvent, { type: 'run_error' }>;
    expect(runError.error).toMatchObject({
      type: 'output_check_error',
      checkTrigger: 'output_not_allowed',
      additionalData: { why: 'tone' },
    });
    expect(error).toBeInstanceOf(OutputCheckError);
  });

  it('a chunk check sees every chunk before release: no digit is ever streamed, for any chunking', async () => {
    for (const chunkSize of [1, 2, 3, 7, 50]) {
      const agent = new Agent({
        model: new OfflineModel({ reply: 'card 4111 1111 1111 1111 ok 42', chunkSize }),
        postHooks: [new DigitMask()],
      });
      const { events } = await collect(agent.stream('x'));
      const streamed = deltas(events).join('');
      expect(streamed).toBe('card #### #### #### #### ok ##');
      for (const d of deltas(events)) expect(d).not.toMatch(/\d/);
    }
  });

  it('an OutputCheckError mid-stream ends the stream with run_error, no further text, request aborted, session without the text', async () => {
    server.setReply({
      content: 'safe start. FORBIDDEN words and then much more text that must never arrive',
      chunkSize: 4,
      chunkDelayMs: 2,
    });
    const store = new MemorySessionStore();
    const blocker = hook({ everyChunk: true, name: 'blocker' })(({ text }: ChunkCheckArgs) => {
      if (text.includes('FORB')) throw new OutputCheckError('forbidden');
      return { hold: 4 }; // a word may be split across chunks
    });
    const agent = new Agent({ model: new OpenAIChat({ id: 'm', client: server.client() }), sessionStore: store, postHooks: [blocker] });
    const stream = agent.stream('x', { sessionId: 'blocked' });
    const { events, error } = await collect(stream);
    expect(error).toBeInstanceOf(OutputCheckError);
    expect(events.at(-1)!.type).toBe('run_error');
    const streamed = deltas(events).join('');
    expect(streamed).not.toContain('FORB');
    expect('safe start. '.startsWith(streamed)).toBe(true);
    const request = server.requests.at(-1)!;
    await request.closed;
    expect(request.aborted).toBe(true);
    expect(JSON.stringify(store.get('blocked'))).not.toContain('FORBIDDEN');
    await expect(stream.finalOutput).rejects.toBeInstanceOf(OutputCheckError);
  });

  it('a guardrail post-hook without a chunk check holds all text until it has checked the whole output', async () => {
    class WholeOnly extends BaseGuardrail {
      check({ runOutput }: HookArgs & { runOutput?: { content?: string } }) {
        if (runOutput?.content?.includes('bad')) throw new OutputCheckError('bad');
      }
    }
    const clean = new Agent({ model: new OfflineModel({ reply: 'all good here', chunkSize: 2 }), postHooks: [new WholeOnly()] });
    const { events } = await collect(clean.stream('x'));
    const firstContent = events.findIndex((e) => e.type === 'content');
    expect(firstContent).toBeGreaterThan(events.findIndex((e) => e.type === 'post_hook_completed'));
    expect(deltas(events).join('')).toBe('all good here');

    const dirty = new Agent({ model: new OfflineModel({ reply: 'this is bad text', chunkSize: 2 }), postHooks: [new WholeOnly()] });
    const result = await collect(dirty.stream('x'));
    expect(deltas(result.events)).toEqual([]);
    expect(result.error).toBeInstanceOf(OutputCheckError);
  });

  it('a plain function post-hook does not gate deltas: it edits only the final output', async () => {
    const agent = new Agent({
      model: new OfflineModel({ reply: 'raw answer', chunkSize: 3 }),
      postHooks: [({ runOutput }: PostHookArgs) => void (runOutput.content = 'rewritten')],
    });
    const stream = agent.stream('x');
    const { events } = await collect(stream);
    expect(deltas(events).join('')).toBe('raw answer');
    expect((await stream.finalOutput).content).toBe('rewritten');
  });

  it('streams a long answer while it is generated: the first delta arrives long before the last', async () => {
    const text = 'x'.repeat(4_000);
    const agent = new Agent({ model: new OfflineModel({ reply: text, chunkSize: 40, chunkDelayMs: 2 }), postHooks: [new DigitMask()] });
    const start = performance.now();
    let first = 0;
    let last = 0;
    let received = '';
    for await (const ev of agent.stream('x')) {
      if (ev.type !== 'content') continue;
      if (first === 0) first = performance.now() - start;
      last = performance.now() - start;
      received += ev.delta;
    }
    expect(received).toBe(text);
    expect(first).toBeLessThan(last / 5);
  });

  it('a consumer that stops iterating cancels the run and the HTTP request', async () => {
    server.setReply({ content: 'word '.repeat(400), chunkSize: 5, chunkDelayMs: 2 });
    const store = new MemorySessionStore();
    let backgroundRan = 0;
    const agent = new Agent({
      model: new OpenAIChat({ id: 'm', client: server.client() }),
      sessionStore: store,
      postHooks: [
        hook({ runInBackground: true })(() => {
          backgroundRan++;
        }),
      ],
    });
    const stream = agent.stream('x', { sessionId: 'broke' });
    let seen = 0;
    for await (const ev of stream) if (ev.type === 'content' && ++seen === 3) break;
    await expect(stream.finalOutput).rejects.toMatchObject({ name: 'AbortError' });
    const request = server.requests.at(-1)!;
    await request.closed;
    expect(request.aborted).toBe(true);
    expect(store.get('broke')!.runs[0]!.status).toBe('cancelled');
    await agent.drain();
    expect(backgroundRan).toBe(0);
  });

  it('aborting the signal mid-stream cancels the run', async () => {
    server.setReply({ content: 'word '.repeat(400), chunkSize: 5, chunkDelayMs: 2 });
    const controller = new AbortController();
    const agent = new Agent({ model: new OpenAIChat({ id: 'm', client: server.client() }) });
    const stream = agent.stream('x', { signal: controller.signal });
    const { events, error } = await collect({
      async *[Symbol.asyncIterator]() {
        for await (const ev of stream) {
          if (ev.type === 'content') controller.abort();
          yield ev;
        }
      },
    });
    expect((error as Error).name).toBe('AbortError');
    expect(events.at(-1)!.type).toBe('run_error');
    expect((events.at(-1) as Extract<RunEvent, { type: 'run_error' }>).output.status).toBe('cancelled');
    const request = server.requests.at(-1)!;
    await request.closed;
    expect(request.aborted).toBe(true);
  });

  it('finalOutput alone runs the stream to the end without anyone iterating', async () => {
    const agent = new Agent({ model: new OfflineModel({ reply: 'y'.repeat(2_000), chunkSize: 1 }) });
    expect((await agent.stream('x').finalOutput).content).toHaveLength(2_000);
  });

  it('a slow consumer slows the model read instead of growing the buffer', async () => {
    let produced = 0;
    const agent = new Agent({
      model: {
        id: 'counting',
        invoke: () => Promise.resolve({ content: '' }),
        async *stream() {
          for (let i = 0; i < 1_000; i++) {
            produced++;
            yield { delta: 'z' };
          }
        },
      },
    });
    const iterator = agent.stream('x')[Symbol.asyncIterator]();
    await iterator.next();
    await new Promise((r) => setTimeout(r, 20));
    expect(produced).toBeLessThan(200);
    let rest = 0;
    for (let r = await iterator.next(); !r.done; r = await iterator.next()) rest++;
    expect(produced).toBe(1_000);
    expect(rest).toBeGreaterThan(1_000);
  });
});
