import { describe, expect, it } from 'vitest';
import { frozenCopy, snapshotArgs } from '../../lib/background/snapshot.ts';
import type { PostHookArgs, PreHookArgs } from '../../lib/types.ts';

class Counter {
  #n = 0;
  bump(): number {
    return ++this.#n;
  }
}

function liveArgs() {
  const agent = { name: 'support', run: () => 'agent method' };
  const dependencies = { db: { rows: [1, 2] }, counter: new Counter() };
  const runInput = { inputContent: [{ role: 'user', content: 'hi ****' }] };
  const sessionState = { cart: ['apple'], visits: 1 };
  const metadata: Record<string, unknown> = { tags: new Set(['a']), seen: new Map([['k', { n: 1 }]]), at: new Date(0) };
  const runOutput = { runId: 'r1', content: 'final answer', status: 'completed', input: runInput, messages: [] as unknown[] };
  const session = { sessionId: 's1', sessionState, runs: [] as unknown[] };
  const controller = new AbortController();
  const runContext = {
    runId: 'r1',
    agent,
    input: runInput,
    output: runOutput,
    session,
    state: sessionState,
    dependencies,
    metadata,
    userId: 'u1',
    debugMode: false,
    signal: controller.signal,
    tenant: { id: 't1' },
  };
  const args = {
    phase: 'post',
    runInput,
    agent,
    session,
    sessionState,
    dependencies,
    metadata,
    userId: 'u1',
    debugMode: false,
    runContext,
    runOutput,
  };
  return {
    args: args as unknown as PostHookArgs,
    live: { agent, dependencies, runInput, sessionState, metadata, runOutput, session, runContext },
  };
}

describe('snapshotArgs', () => {
  it('copies run data deeply and freezes it; later edits to the live run do not show', () => {
    const { args, live } = liveArgs();
    const snap = snapshotArgs(args);
    expect(snap.runOutput).not.toBe(live.runOutput);
    expect(snap.runOutput.content).toBe('final answer');
    expect(snap.runInput).toEqual(live.runInput);
    live.runOutput.content = 'changed later';
    live.sessionState.cart.push('pear');
    expect(snap.runOutput.content).toBe('final answer');
    expect(snap.sessionState).toEqual({ cart: ['apple'], visits: 1 });
    for (const value of [
      snap,
      snap.runInput,
      snap.runInput.inputContent,
      snap.runOutput,
      snap.session,
      snap.sessionState,
      snap.metadata,
      snap.runContext,
    ]) {
      expect(Object.isFrozen(value)).toBe(true);
    }
  });

  it('makes every write a TypeError and leaves the live objects writable', () => {
    const { args, live } = liveArgs();
    const snap = snapshotArgs(args);
    expect(() => ((snap.runOutput as { content: string }).content = 'x')).toThrow(TypeError);
    expect(() => (snap.sessionState as { cart: string[] }).cart.push('x')).toThrow(TypeError);
    expect(() => ((snap.runInput.inputContent as { content: string }[])[0]!.content = 'raw')).toThrow(TypeError);
    expect(() => (snap.metadata.tags as Set<string>).add('b')).toThrow(/frozen snapshot/);
    expect(() => (snap.metadata.seen as Map<string, unknown>).set('k', 2)).toThrow(/frozen snapshot/);
    expect(() => ((snap.runContext as { output: unknown }).output = null)).toThrow(TypeError);
    live.runOutput.content = 'still editable';
    (live.metadata.tags as Set<string>).add('b');
    expect(live.runOutput.content).toBe('still editable');
    expect(snap.metadata.tags).toBeInstanceOf(Set);
    expect([...(snap.metadata.tags as Set<string>)]).toEqual(['a']);
    expect((snap.metadata.seen as Map<string, { n: number }>).get('k')).toEqual({ n: 1 });
  });

  it('passes agent, dependencies and class instances by reference, unfrozen', () => {
    const { args, live } = liveArgs();
    const snap = snapshotArgs(args);
    expect(snap.agent).toBe(live.agent);
    expect(snap.dependencies).toBe(live.dependencies);
    expect(snap.runContext.dependencies).toBe(live.dependencies);
    expect(Object.isFrozen(live.dependencies)).toBe(false);
    expect((snap.dependencies as typeof live.dependencies).counter.bump()).toBe(1);
    expect(snap.runContext.signal).toBe(live.runContext.signal);
  });

  it('keeps identities shared within one snapshot, cycles included', () => {
    const { args, live } = liveArgs();
    live.metadata.self = live.metadata;
    const snap = snapshotArgs(args);
    expect(snap.runContext.state).toBe(snap.sessionState);
    expect(snap.session.sessionState).toBe(snap.sessionState);
    expect(snap.runContext.input).toBe(snap.runInput);
    expect(snap.runOutput.input).toBe(snap.runInput);
    expect(snap.runContext.output).toBe(snap.runOutput);
    expect(snap.runContext.metadata).toBe(snap.metadata);
    expect(snap.metadata.self).toBe(snap.metadata);
  });

  it('copies fields that middleware added to the context', () => {
    const { args, live } = liveArgs();
    const snap = snapshotArgs(args);
    const tenant = (snap.runContext as unknown as { tenant: { id: string } }).tenant;
    expect(tenant).toEqual({ id: 't1' });
    expect(tenant).not.toBe(live.runContext.tenant);
    expect(Object.isFrozen(tenant)).toBe(true);
  });

  it('has no runOutput for a pre-hook snapshot', () => {
    const { args } = liveArgs();
    const { runOutput: _omit, ...rest } = args;
    const snap = snapshotArgs({ ...rest, phase: 'pre' } as unknown as PreHookArgs);
    expect(snap.phase).toBe('pre');
    expect('runOutput' in snap).toBe(false);
  });
});

describe('frozenCopy', () => {
  it('copies dates, regexps and binary data so edits stay private to the copy', () => {
    const bytes = Buffer.from('abc');
    const view = new DataView(new ArrayBuffer(8), 2, 4);
    const src = {
      when: new Date(1000),
      re: /a+/gi,
      bytes,
      floats: new Float64Array([1.5]),
      view,
      nothing: null,
      proto: Object.create(null) as object,
    };
    const out = frozenCopy(src);
    out.when.setTime(0);
    out.bytes[0] = 120;
    out.floats[0] = 9;
    expect([src.when.getTime(), bytes.toString(), src.floats[0]]).toEqual([1000, 'abc', 1.5]);
    expect(Buffer.isBuffer(out.bytes)).toBe(true);
    expect(out.re).not.toBe(src.re);
    expect([out.re.source, out.re.flags]).toEqual(['a+', 'gi']);
    expect(out.view.byteLength).toBe(4);
    expect(Object.getPrototypeOf(out.proto)).toBe(null);
  });

  it('keeps shared references and cycles in graphs larger than the small-graph fast path', () => {
    const shared = { id: 'shared' };
    const items: Record<string, unknown>[] = Array.from({ length: 100 }, (_, i) => ({ i, shared }));
    const root: Record<string, unknown> = { items };
    root.self = root;
    const out = frozenCopy(root);
    const copies = out.items as Record<string, unknown>[];
    expect(copies).toHaveLength(100);
    expect(copies[99]!.shared).toBe(copies[0]!.shared);
    expect(copies[0]!.shared).not.toBe(shared);
    expect(out.self).toBe(out);
  });

  it('shares what is frozen all the way down, and copies what is only frozen on top', () => {
    const record = Object.freeze({ role: 'user', parts: Object.freeze([Object.freeze({ text: 'hi' })]) });
    const shallow = Object.freeze({ nested: { editable: true } });
    const frozenMap = Object.freeze(new Map([['k', 1]]));
    const out = frozenCopy({ record, shallow, frozenMap });
    expect(out.record).toBe(record);
    expect(out.shallow).not.toBe(shallow);
    expect(Object.isFrozen(out.shallow.nested)).toBe(true);
    expect(out.frozenMap).not.toBe(frozenMap); // a frozen Map can still be set(): only a copy is safe
    const loop: Record<string, unknown> = { name: 'loop' };
    loop.self = loop;
    Object.freeze(loop);
    const looped = frozenCopy({ loop });
    expect(looped.loop.self).toBe(looped.loop); // a frozen cycle is copied, cycle intact, not walked forever

    expect(() => out.frozenMap.set('k', 2)).toThrow(/frozen snapshot/);
  });

  it('reads getters once into data and passes functions and errors by reference', () => {
    const fn = () => 1;
    const error = new Error('kept');
    let reads = 0;
    const src = {
      get computed() {
        return ++reads;
      },
      fn,
      error,
    };
    const out = frozenCopy(src);
    expect([out.computed, out.computed, reads]).toEqual([1, 1, 1]);
    expect(out.fn).toBe(fn);
    expect(out.error).toBe(error);
    expect(Object.isFrozen(error)).toBe(false);
  });
});
