/**
 * SafeEmitter keeps its own listener table (eventemitter3's is private). These specs check that every way of adding
 * or removing a listener keeps it in step with eventemitter3, so `hasListeners` and `emit` never go stale.
 */
import { EventEmitter } from 'eventemitter3';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { SafeEmitter } from '../../lib/events/emitter.ts';

type Events = { a: string; b: string };
const noop = () => {};

describe('hasListeners follows every add and remove', () => {
  it('on, addListener and once set it; off, removeListener and removeAllListeners clear it', () => {
    const em = new SafeEmitter<Events>();
    em.on('a', noop);
    expect([em.hasListeners('a'), em.hasListeners('b')]).toEqual([true, false]);
    em.off('a', noop);
    expect(em.hasListeners('a')).toBe(false);
    em.addListener('b', noop);
    expect(em.hasListeners('b')).toBe(true);
    em.removeListener('b', noop);
    expect(em.hasListeners('b')).toBe(false);
    em.once('a', noop).on('b', noop);
    em.removeAllListeners('a');
    expect([em.hasListeners('a'), em.hasListeners('b')]).toEqual([false, true]);
    em.on('a', noop);
    em.removeAllListeners();
    expect([em.hasListeners('a'), em.hasListeners('b')]).toEqual([false, false]);
  });

  it('a once listener is gone after its event, even when it throws', () => {
    const em = new SafeEmitter<Events>();
    const errors: unknown[] = [];
    em.onListenerError = (error) => errors.push(error);
    let calls = 0;
    em.once('a', () => {
      calls++;
      throw new Error('boom');
    });
    expect(em.emit('a', 'x')).toBe(true);
    expect(em.hasListeners('a')).toBe(false);
    expect(em.emit('a', 'y')).toBe(false);
    expect([calls, errors.length]).toEqual([1, 1]);
  });

  it('removal narrowed by context or by once keeps the other listeners of the same function', () => {
    const em = new SafeEmitter<Events>();
    const ctx1 = { n: 1 };
    const ctx2 = { n: 2 };
    const seen: number[] = [];
    const fn = function (this: { n: number }) {
      seen.push(this.n);
    };
    em.on('a', fn, ctx1).on('a', fn, ctx2);
    em.off('a', fn, ctx1);
    expect(em.hasListeners('a')).toBe(true);
    em.emit('a', 'x');
    expect(seen).toEqual([2]);
    em.off('a', fn, undefined, true); // once-only removal: ctx2's listener is not a once listener
    expect(em.hasListeners('a')).toBe(true);
    em.off('a', fn);
    expect(em.hasListeners('a')).toBe(false);
  });

  it('answers without asking eventemitter3 (no listeners()/listenerCount() call on the hot path)', () => {
    const em = new SafeEmitter<Events>();
    em.on('a', noop);
    const listeners = vi.spyOn(em, 'listeners');
    const listenerCount = vi.spyOn(em, 'listenerCount');
    const eventNames = vi.spyOn(em, 'eventNames');
    expect(em.hasListeners('a')).toBe(true);
    expect(em.hasListeners('b')).toBe(false);
    em.emit('a', 'x');
    expect([listeners.mock.calls.length, listenerCount.mock.calls.length, eventNames.mock.calls.length]).toEqual([0, 0, 0]);
  });

  it('a non-function listener is refused by eventemitter3 and leaves no trace', () => {
    const em = new SafeEmitter<Events>();
    expect(() => em.on('a', 'not a function' as never)).toThrow(TypeError);
    expect(em.hasListeners('a')).toBe(false);
    expect(em.emit('a', 'x')).toBe(false);
  });
});

/**
 * Model-based: random sequences of on/once/addListener/off/removeListener/removeAllListeners/emit, applied to a
 * SafeEmitter and to a plain eventemitter3 emitter. With listeners that do not throw, both must call the same
 * listeners, with the same `this`, in the same order, and agree on which events have listeners after every step.
 * Two of the listeners add or remove listeners while an emit is running.
 */
type Op =
  | { kind: 'on' | 'once' | 'addListener'; event: 'a' | 'b'; fn: number; ctx: number }
  | { kind: 'off' | 'removeListener'; event: 'a' | 'b'; fn: number | undefined; ctx: number; once: boolean }
  | { kind: 'removeAllListeners'; event: 'a' | 'b' | undefined }
  | { kind: 'emit'; event: 'a' | 'b' };

const event = fc.constantFrom<'a' | 'b'>('a', 'b');
const fnIndex = fc.integer({ min: 0, max: 4 });
const ctxIndex = fc.integer({ min: 0, max: 2 }); // 0: no context
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constantFrom('on' as const, 'once' as const, 'addListener' as const), event, fn: fnIndex, ctx: ctxIndex }),
  fc.record({
    kind: fc.constantFrom('off' as const, 'removeListener' as const),
    event,
    fn: fc.option(fnIndex, { nil: undefined }),
    ctx: ctxIndex,
    once: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('removeAllListeners' as const), event: fc.option(event, { nil: undefined }) }),
  fc.record({ kind: fc.constant('emit' as const), event }),
);

type Emitterish = {
  on(e: string, fn: (...a: never[]) => void, ctx?: unknown): unknown;
  once(e: string, fn: (...a: never[]) => void, ctx?: unknown): unknown;
  addListener(e: string, fn: (...a: never[]) => void, ctx?: unknown): unknown;
  off(e: string, fn?: (...a: never[]) => void, ctx?: unknown, once?: boolean): unknown;
  removeListener(e: string, fn?: (...a: never[]) => void, ctx?: unknown, once?: boolean): unknown;
  removeAllListeners(e?: string): unknown;
  emit(e: string, payload: string): boolean;
  listenerCount(e: string): number;
};

function harness(emitter: Emitterish) {
  const log: string[] = [];
  const contexts = [undefined, { tag: 'c1' }, { tag: 'c2' }];
  const who = (self: unknown) => (self === emitter ? 'emitter' : (self as { tag: string }).tag);
  const fns: ((this: unknown, payload: string) => void)[] = [
    function (payload) {
      log.push(`f0 ${who(this)} ${payload}`);
    },
    function (payload) {
      log.push(`f1 ${who(this)} ${payload}`);
    },
    function (payload) {
      log.push(`f2 ${who(this)} ${payload}`);
    },
    function (payload) {
      log.push(`remover ${who(this)} ${payload}`);
      emitter.off(payload.split(':')[0]!, fns[0]); // removes f0 while the emit runs
    },
    function (payload) {
      log.push(`adder ${who(this)} ${payload}`);
      emitter.on(payload.split(':')[0]!, fns[1]!); // added while the emit runs: not called by this emit
    },
  ];
  let emits = 0;
  const apply = (o: Op): void => {
    switch (o.kind) {
      case 'on':
      case 'once':
      case 'addListener':
        emitter[o.kind](o.event, fns[o.fn]!, contexts[o.ctx]);
        break;
      case 'off':
      case 'removeListener':
        emitter[o.kind](o.event, o.fn === undefined ? undefined : fns[o.fn], contexts[o.ctx], o.once);
        break;
      case 'removeAllListeners':
        emitter.removeAllListeners(o.event);
        break;
      case 'emit':
        log.push(`emit ${o.event} -> ${emitter.emit(o.event, `${o.event}:${emits++}`)}`);
        break;
    }
  };
  return { log, apply };
}

describe('SafeEmitter against eventemitter3', () => {
  it('calls the same listeners and agrees on hasListeners after every step', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const safe = new SafeEmitter<Events>();
        const plain = new EventEmitter();
        const s = harness(safe as unknown as Emitterish);
        const p = harness(plain as unknown as Emitterish);
        for (const o of ops) {
          s.apply(o);
          p.apply(o);
          for (const e of ['a', 'b'] as const) {
            expect(safe.hasListeners(e)).toBe(plain.listenerCount(e) > 0);
            expect(safe.listenerCount(e)).toBe(plain.listenerCount(e));
          }
        }
        expect(s.log).toEqual(p.log);
      }),
      { numRuns: 300 },
    );
  });
});
