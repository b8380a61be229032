/** Listener isolation: eventemitter3 semantics kept, but no listener can break a run. */
import { describe, expect, it } from 'vitest';
import { Agent } from 'hookchain';
import { OfflineModel } from 'hookchain/testing';
import { SafeEmitter } from '../../lib/events/emitter.ts';

describe('SafeEmitter', () => {
  it('keeps eventemitter3 semantics: order, once, off, context, return value', () => {
    const em = new SafeEmitter<{ tick: number }>();
    const seen: string[] = [];
    const ctx = { tag: 'ctx' };
    const first = function (this: typeof ctx, n: number) {
      seen.push(`first:${n}:${this.tag}`);
    };
    em.on('tick', first, ctx);
    em.once('tick', (n) => seen.push(`once:${n}`));
    em.on('tick', (n) => seen.push(`last:${n}`));
    expect(em.emit('tick', 1)).toBe(true);
    em.off('tick', first, ctx);
    em.emit('tick', 2);
    expect(seen).toEqual(['first:1:ctx', 'once:1', 'last:1', 'last:2']);
    expect(new SafeEmitter<{ x: number }>().emit('x', 1)).toBe(false);
  });

  it('isolates a throwing listener (sync or async) and still calls the others', async () => {
    const em = new SafeEmitter<{ e: string }>();
    const reported: string[] = [];
    em.onListenerError = (error, event) => reported.push(`${event}:${(error as Error).message}`);
    const got: string[] = [];
    em.on('e', () => {
      throw new Error('sync boom');
    });
    em.on('e', async () => {
      throw new Error('async boom');
    });
    em.on('e', (v) => got.push(v));
    em.emit('e', 'payload');
    await new Promise((r) => setTimeout(r, 0));
    expect(got).toEqual(['payload']);
    expect(reported).toEqual(['e:sync boom', 'e:async boom']);
  });

  it('reports hasListeners without building anything', () => {
    const em = new SafeEmitter<{ a: number }>();
    expect(em.hasListeners('a')).toBe(false);
    const fn = () => {};
    em.on('a', fn);
    expect(em.hasListeners('a')).toBe(true);
    em.off('a', fn);
    expect(em.hasListeners('a')).toBe(false);
  });
});

describe('agent events', () => {
  it('a listener that throws never breaks a run; the failure goes to the logger without the payload', async () => {
    const warnings: unknown[][] = [];
    const agent = new Agent({ model: new OfflineModel({ reply: 'fine' }), logger: { debug() {}, warn: (...a) => warnings.push(a) } });
    agent.on('run_started', () => {
      throw new Error('listener bug');
    });
    agent.on('run_completed', async () => {
      throw new Error('async listener bug');
    });
    const out = await agent.run('x');
    await new Promise((r) => setTimeout(r, 0));
    expect(out.content).toBe('fine');
    expect(warnings.map((w) => w[0])).toEqual([
      'hookchain: a "run_started" listener threw; the run went on.',
      'hookchain: a "run_completed" listener threw; the run went on.',
    ]);
  });

  it('payloads are JSON-safe plain data carrying runId', async () => {
    const agent = new Agent({ model: new OfflineModel({ reply: 'ok' }), preHooks: [function pre() {}] });
    const payloads: unknown[] = [];
    for (const name of ['run_started', 'pre_hook_started', 'model_request_started', 'model_request_completed', 'run_completed'] as const) {
      agent.on(name, (p) => payloads.push(p));
    }
    const out = await agent.run('x');
    expect(payloads).toHaveLength(5);
    for (const p of payloads) {
      expect(JSON.parse(JSON.stringify(p))).toEqual(p);
      expect((p as { runId: string }).runId).toBe(out.runId);
    }
  });
});
