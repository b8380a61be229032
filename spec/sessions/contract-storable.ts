/**
 * Part of the SessionStore contract (run by `storeContract`): what a store does with data JSON cannot hold as it is.
 * Every store refuses the same values with the same error, so a state that works on the memory store in development
 * cannot break, or silently change, on SQLite in production.
 */
import { describe, expect, it } from 'vitest';
import type { RunOutput, SessionStore } from 'hookchain';
import { SessionStoreError } from 'hookchain/sessions';
import { capture, run, session } from './contract.ts';

class Money {
  readonly cents: number;
  constructor(cents: number) {
    this.cents = cents;
  }
}

function cyclicCart(): object {
  const cart: Record<string, unknown>[] = [{}, {}, {}, {}];
  cart[3]!.self = cart[3];
  return { cart };
}

function nested(levels: number): object {
  let value: unknown = 'bottom';
  for (let i = 0; i < levels; i++) value = { next: value };
  return value as object;
}

function holey(): number[] {
  const list = [1];
  list[2] = 3;
  return list;
}

/** [what, state, JSON path of the culprit (in the message too), what the message says about it] */
const REFUSED: [string, () => object, string, RegExp][] = [
  ['a cycle', cyclicCart, 'sessionState.cart[3].self', /cycle.*sessionState\.cart\[3\]/],
  [
    '10,000 levels of nesting',
    () => ({ deep: nested(10_000) }),
    `sessionState.deep${'.next'.repeat(999)}`,
    /sessionState\.deep\.next.*nesting deeper than 1000/,
  ],
  ['a function', () => ({ hooks: { onSave() {} } }), 'sessionState.hooks.onSave', /a function/],
  ['a Symbol value', () => ({ tags: ['a', Symbol('b')] }), 'sessionState.tags[1]', /a Symbol/],
  ['a BigInt', () => ({ big: 10n }), 'sessionState.big', /a BigInt/],
  ['NaN', () => ({ score: NaN }), 'sessionState.score', /NaN/],
  ['Infinity', () => ({ limits: [Infinity] }), 'sessionState.limits[0]', /Infinity/],
  ['undefined in an array', () => ({ list: [1, undefined, 3] }), 'sessionState.list[1]', /undefined.*null/],
  ['a hole in an array', () => ({ list: holey() }), 'sessionState.list[1]', /undefined.*null/],
  ['a Date', () => ({ seen: new Date(0) }), 'sessionState.seen', /a Date.*toISOString/],
  ['a Map', () => ({ byId: new Map([['a', 1]]) }), 'sessionState.byId', /a Map.*Object\.fromEntries/],
  ['a Set', () => ({ ids: new Set([1]) }), 'sessionState.ids', /a Set/],
  ['a class instance', () => ({ price: new Money(5) }), 'sessionState.price', /Money/],
  ['a key that is not an identifier', () => ({ 'my key': { v: 1n } }), 'sessionState["my key"].v', /a BigInt/],
];

export function storableContract(name: string, open: () => SessionStore): void {
  describe(`SessionStore contract: ${name}: state JSON cannot hold as it is`, () => {
    it.each(REFUSED)('refuses %s with UNSERIALIZABLE naming the JSON path, and writes nothing', async (_what, make, where, says) => {
      const store = open();
      await store.save(session('s1', { state: { n: 1 }, runs: [run('r0', 'zero')] }));
      const held = (await store.get('s1'))!;
      held.sessionState = make();
      held.runs.push(run('r1', 'one'));
      const error = await capture(() => store.save(held));
      expect(error).toBeInstanceOf(SessionStoreError);
      expect(error).toMatchObject({ code: 'UNSERIALIZABLE', sessionId: 's1', jsonPath: where });
      const message = (error as Error).message;
      expect(message).toContain(`session "s1"`);
      if (where.length < 100) expect(message).toContain(where); // a path 1,000 levels deep is shortened in the message
      expect(message).toMatch(says);
      expect(held.version).toBe(1);
      const stored = (await store.get('s1'))!;
      expect(stored).toMatchObject({ sessionState: { n: 1 }, version: 1 });
      expect(stored.runs.map((r) => r.runId)).toEqual(['r0']);
    });

    it('refuses a new session with such state and stores nothing at all', async () => {
      const store = open();
      const error = await capture(() => store.save(session('s1', { state: cyclicCart() })));
      expect(error).toMatchObject({ code: 'UNSERIALIZABLE', jsonPath: 'sessionState.cart[3].self' });
      expect(await store.get('s1')).toBeUndefined();
      expect(await store.listSessions({ userId: 'u1' })).toEqual([]);
    });

    it('refuses a run that holds such data, naming the run by its place', async () => {
      const store = open();
      const bad = Object.freeze({
        ...run('r1', 'x'),
        error: { type: 'hook_error', name: 'E', message: 'm', additionalData: { at: new Date(0) } },
      }) as unknown as RunOutput;
      const error = await capture(() => store.save(session('s1', { runs: [run('r0', 'ok'), bad] })));
      expect(error).toMatchObject({ code: 'UNSERIALIZABLE', jsonPath: 'runs[1].error.additionalData.at' });
      expect(await store.get('s1')).toBeUndefined();
    });

    it('stores 1,000 levels of nesting (the limit) and reads them back; refuses 1,001', async () => {
      const store = open();
      const error = await capture(() => store.save(session('s1', { state: nested(1_001) })));
      expect(error).toMatchObject({ code: 'UNSERIALIZABLE', jsonPath: `sessionState${'.next'.repeat(1_000)}` });
      await store.save(session('s1', { state: nested(1_000) }));
      let node = (await store.get('s1'))!.sessionState as { next?: unknown };
      let levels = 1;
      while (typeof node.next === 'object') {
        node = node.next as { next?: unknown };
        levels++;
      }
      expect(levels).toBe(1_000);
    });

    it('reads back exactly what JSON keeps: an undefined or Symbol-keyed property is absent, a shared object is two copies', async () => {
      const store = open();
      const shared = { qty: 1 };
      await store.save(
        session('s1', { state: { gone: undefined, kept: null, a: shared, b: shared, list: [{ x: undefined }], [Symbol('s')]: 1 } }),
      );
      const state = (await store.get('s1'))!.sessionState as Record<string, unknown>;
      expect(Reflect.ownKeys(state)).toEqual(['kept', 'a', 'b', 'list']);
      expect(state.a).toEqual({ qty: 1 });
      expect(state.a).not.toBe(state.b);
      expect(Object.keys((state.list as object[])[0]!)).toEqual([]);
    });

    it('keeps a "__proto__" key as data, as JSON.parse does, without changing any prototype', async () => {
      const store = open();
      await store.save(session('s1', { state: JSON.parse('{"__proto__": {"admin": true}}') as object }));
      const state = (await store.get('s1'))!.sessionState as Record<string, unknown>;
      expect(Object.getPrototypeOf(state)).toBe(Object.prototype);
      expect((state as { admin?: boolean }).admin).toBeUndefined();
      expect(Object.getOwnPropertyDescriptor(state, '__proto__')?.value).toEqual({ admin: true });
    });
  });
}
