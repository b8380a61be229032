/**
 * A verdict, once raised, is final, and a gate's rewrite is what a stream releases (issue #9 items 1 and 2;
 * docs/hooks.md, docs/streaming.md): no middleware can turn a blocked run into a success, in run() or stream().
 */
import { describe, expect, it } from 'vitest';
import {
  Agent,
  BaseGuardrail,
  InputCheckError,
  MemorySessionStore,
  OutputCheckError,
  PIIDetectionGuardrail,
  hook,
  type HookArgs,
  type RunEvent,
} from 'hookchain';
import { OfflineModel } from 'hookchain/testing';

const SECRET = 'tok_4f9a8b7c6d5e';

/** A gating guardrail (no checkChunk): it sees the whole output and masks the secret token. */
class RedactTokens extends BaseGuardrail {
  override check(args: HookArgs) {
    if (args.phase === 'post' && args.runOutput.content !== undefined)
      args.runOutput.content = args.runOutput.content.replaceAll(/tok_\w+/g, '[REDACTED]');
  }
}

async function collect(iterable: AsyncIterable<RunEvent>): Promise<{ events: RunEvent[]; error?: unknown }> {
  const events: RunEvent[] = [];
  try {
    for await (const ev of iterable) events.push(ev);
    return { events };
  } catch (error) {
    return { events, error };
  }
}
const text = (events: RunEvent[]) =>
  events
    .filter((e) => e.type === 'content')
    .map((e) => (e as { delta: string }).delta)
    .join('');

describe('a gating guardrail in a stream', () => {
  it('releases the text the gate left, not the raw model text it held', async () => {
    const store = new MemorySessionStore();
    const agent = new Agent({
      model: new OfflineModel({ reply: `Your key is ${SECRET}, keep it safe.`, chunkSize: 4 }),
      sessionStore: store,
      postHooks: [new RedactTokens()],
    });
    const stream = agent.stream('key?', { sessionId: 's' });
    const { events, error } = await collect(stream);
    expect(error).toBeUndefined();
    expect(text(events)).toBe('Your key is [REDACTED], keep it safe.');
    expect(JSON.stringify(events)).not.toContain(SECRET);
    expect((await stream.finalOutput).content).toBe('Your key is [REDACTED], keep it safe.');
    expect(JSON.stringify(store.get('s'))).not.toContain(SECRET);
  });

  it('releases the final text once, after every post-hook (a later plain post-hook edit included)', async () => {
    const agent = new Agent({
      model: new OfflineModel({ reply: `key ${SECRET}`, chunkSize: 3 }),
      postHooks: [new RedactTokens(), ({ runOutput }: HookArgs & { runOutput: { content?: string } }) => void (runOutput.content += '!')],
    });
    const { events } = await collect(agent.stream('x'));
    expect(text(events)).toBe('key [REDACTED]!');
    expect(events.filter((e) => e.type === 'content')).toHaveLength(1);
  });
});

describe('a verdict caught by middleware', () => {
  const swallow = async (ctx: { output: { content: string | undefined } }, next: () => Promise<void>) => {
    try {
      await next();
    } catch {
      ctx.output.content = 'Sorry, something went wrong.';
    }
  };

  it('still fails a streamed run whose chunk check blocked, and flushes no background hook', async () => {
    const ran: string[] = [];
    const analytics = hook({ runInBackground: true })(() => void ran.push('analytics'));
    const agent = new Agent({
      model: new OfflineModel({ reply: 'Call me on 555-0100 or mail bob@example.com', chunkSize: 5 }),
      postHooks: [new PIIDetectionGuardrail(), analytics],
      middleware: [swallow],
    });
    const stream = agent.stream('contact?');
    const { events, error } = await collect(stream);
    expect(error).toBeInstanceOf(OutputCheckError);
    expect(events.at(-1)?.type).toBe('run_error');
    expect(JSON.stringify(events)).not.toContain('bob@example.com');
    expect(JSON.stringify(events)).not.toContain('Sorry');
    await expect(stream.finalOutput).rejects.toBeInstanceOf(OutputCheckError);
    await agent.drain();
    expect(ran).toEqual([]);
  });

  it('fails run() the same way', async () => {
    const agent = new Agent({
      model: new OfflineModel({ reply: 'mail bob@example.com' }),
      postHooks: [new PIIDetectionGuardrail()],
      middleware: [swallow],
    });
    const error = await agent.run('x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OutputCheckError);
    expect((error as OutputCheckError).runOutput?.status).toBe('error');
    expect((error as OutputCheckError).runOutput?.content).toBeUndefined();
  });

  it('fails a run whose pre-hook verdict an outer middleware caught', async () => {
    const block = () => {
      throw new InputCheckError('no');
    };
    const agent = new Agent({ model: new OfflineModel(), preHooks: [block] }).use(swallow, { outer: true });
    await expect(agent.run('x')).rejects.toBeInstanceOf(InputCheckError);
  });

  it('lets outer middleware read the sealed output but not change it', async () => {
    let seen: unknown;
    const agent = new Agent({ model: new OfflineModel({ reply: 'answer' }) }).use(
      async (ctx, next) => {
        await next();
        seen = { status: ctx.output.status, content: ctx.output.content, frozen: Object.isFrozen(ctx.output) };
        expect(() => {
          (ctx.output as { content: string }).content = 'changed';
        }).toThrow(TypeError);
      },
      { outer: true },
    );
    const out = await agent.run('x');
    expect(seen).toEqual({ status: 'completed', content: 'answer', frozen: true });
    expect(out.content).toBe('answer');
  });
});
