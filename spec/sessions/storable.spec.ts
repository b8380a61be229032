/** assertStorable: the one check every store and the run engine use; the store-level cases are in contract-storable.ts. */
import { describe, expect, it } from 'vitest';
import { SessionStoreError } from 'hookchain/sessions';
import { MAX_STORABLE_DEPTH, MAX_STORABLE_VALUES, assertStorable } from '../../lib/sessions/index.ts';
import { storableCopy } from '../../lib/sessions/storable.ts';

function refusal(value: unknown, path = 'sessionState', sessionId?: string): SessionStoreError {
  try {
    assertStorable(value, path, sessionId);
  } catch (error) {
    expect(error).toBeInstanceOf(SessionStoreError);
    return error as SessionStoreError;
  }
  throw new Error('expected assertStorable to refuse');
}

describe('assertStorable', () => {
  it('accepts JSON data, including shared (not cyclic) objects and undefined properties', () => {
    const shared = { a: 1 };
    for (const ok of [
      {},
      { n: 1, s: 'x', b: false, z: null, list: [1, 'two', [3]], o: Object.create(null) as object },
      { a: shared, b: [shared, shared] },
      { gone: undefined },
      'text',
      0,
      null,
    ]) {
      expect(() => assertStorable(ok, 'sessionState')).not.toThrow();
    }
  });

  it('walks 100,000 levels without a stack overflow and names the first level past the limit', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const error = refusal({ deep }, 'sessionState', 's1');
    expect(error).toMatchObject({
      code: 'UNSERIALIZABLE',
      sessionId: 's1',
      jsonPath: `sessionState.deep${'[0]'.repeat(MAX_STORABLE_DEPTH - 1)}`,
    });
    expect(error.message).toMatch(
      /^session "s1": sessionState\.deep\[0\]\[0\]\[0\]\[0\]\[0\]…\(991 more\)…\[0\]\[0\]\[0\] cannot be stored as JSON: nesting deeper than 1000 levels/,
    );
  });

  it('names the object a cycle returns to', () => {
    const order: { lines: { parent?: unknown }[] } = { lines: [{}] };
    order.lines[0]!.parent = order;
    const error = refusal({ order });
    expect(error.jsonPath).toBe('sessionState.order.lines[0].parent');
    expect(error.message).toContain('it is sessionState.order again');
  });

  it('refuses, without hanging, shared arrays that JSON would write 2⁴⁰ times over', () => {
    let bomb: unknown[] = [];
    for (let i = 0; i < 40; i++) bomb = [bomb, bomb];
    const error = refusal({ bomb });
    expect(error.message).toContain(`more than ${MAX_STORABLE_VALUES} values`);
  });

  it('names keys that are not identifiers as JavaScript would reach them', () => {
    expect(refusal({ 'a b': { 0: { $ok: { 'x"y': () => 1 } } } }).jsonPath).toBe('sessionState["a b"]["0"].$ok["x\\"y"]');
  });

  it('refuses an unstorable root, and leaves sessionId off when none is given', () => {
    expect(refusal(undefined, 'value')).toMatchObject({ jsonPath: 'value', sessionId: undefined });
    expect(refusal(1n, 'runs[2]').message).toMatch(/^runs\[2\] cannot be stored as JSON: it is a BigInt \(1n\)/);
    expect(refusal(Symbol('s')).message).toContain('a Symbol (Symbol(s))');
    expect(refusal(function named() {}).message).toContain('a function (named)');
  });

  it('copies as JSON reads back, in the same pass', () => {
    const shared = { q: 1 };
    const copy = storableCopy({ a: shared, b: shared, gone: undefined, list: [1, { x: [] }] }, 'sessionState');
    expect(copy).toStrictEqual({ a: { q: 1 }, b: { q: 1 }, list: [1, { x: [] }] });
    expect(copy.a).not.toBe(shared);
    expect(copy.a).not.toBe(copy.b);
  });
});
