/**
 * A typed eventemitter3 emitter whose listeners cannot break the emitter's caller.
 *
 * eventemitter3 calls listeners inline and lets a throw escape `emit()`, so one bad logging listener would fail a
 * run. `emit` here calls each listener in its own try/catch and reports failures to `onListenerError` instead.
 *
 * To do that it needs each listener's function, context and `once` flag, which eventemitter3's public API does not
 * expose (`listeners()` gives the functions only). So every method that adds or removes listeners is overridden to
 * update eventemitter3 (whose `listeners`, `listenerCount` and `eventNames` stay exact) and, with the same rules,
 * this class's own table. Nothing private of eventemitter3 is read, so any 5.x works.
 */
import { EventEmitter } from 'eventemitter3';

type Listener = { readonly fn: (...args: unknown[]) => unknown; readonly context: unknown; readonly once: boolean };

export type EventMapOf<Events> = { [K in keyof Events]: [Events[K]] };
type Name<Events> = EventEmitter.EventNames<EventMapOf<Events>>;
type ListenerOf<Events, T extends Name<Events>> = EventEmitter.EventListener<EventMapOf<Events>, T>;

/**
 * A typed eventemitter3 emitter whose listeners cannot break the caller of `emit`: each is called in its own
 * try/catch (async ones' rejections are caught too), and failures go to `onListenerError`. `Agent` and
 * `DrainQueue` are ones.
 */
export class SafeEmitter<Events extends object> extends EventEmitter<EventMapOf<Events>> {
  /**
   * Event → its listeners in registration order. An event without listeners has no entry, so `hasListeners` is one
   * property read. The arrays are replaced, never changed, so an `emit` in progress keeps calling the listeners it
   * started with, as eventemitter3 does, without copying them first.
   */
  #table: Record<PropertyKey, readonly Listener[] | undefined> = Object.create(null) as Record<
    PropertyKey,
    readonly Listener[] | undefined
  >;

  /** Where listener errors go. Defaults to a console warning naming the event (never the payload). */
  onListenerError: (error: unknown, event: string) => void = (error, event) => {
    console.warn(`hookchain: a "${event}" listener threw; the run went on.`, error);
  };

  /** Cheap test used on hot paths before building a payload. */
  hasListeners(event: keyof Events & string): boolean {
    return this.#events !== 0 && this.#table[event] !== undefined;
  }

  /** How many events have listeners: 0 for most production agents, which lets hot paths skip the lookup. */
  #events = 0;

  /**
   * Adds a listener for `event`. It is called synchronously with the event's payload and never awaited; if it
   * throws or rejects, `onListenerError` is told and the other listeners still run.
   *
   * @param event The event name, such as `'run_completed'`.
   * @param fn The listener; receives the payload.
   * @param context `this` inside the listener (default: the emitter).
   */
  override on<T extends Name<Events>>(event: T, fn: ListenerOf<Events, T>, context?: unknown): this {
    super.on(event, fn, context); // first: it throws a TypeError for a non-function, before anything is recorded
    this.#add(event, fn, context, false);
    return this;
  }

  /** Same as `on`. */
  override addListener<T extends Name<Events>>(event: T, fn: ListenerOf<Events, T>, context?: unknown): this {
    return this.on(event, fn, context);
  }

  /** Like `on`, but the listener is removed before its first call. */
  override once<T extends Name<Events>>(event: T, fn: ListenerOf<Events, T>, context?: unknown): this {
    super.once(event, fn, context);
    this.#add(event, fn, context, true);
    return this;
  }

  /**
   * Removes the listeners of `event` that match `fn` (and `context`, and `once` when given); without `fn`, all of
   * them.
   */
  override removeListener<T extends Name<Events>>(event: T, fn?: ListenerOf<Events, T>, context?: unknown, once?: boolean): this {
    super.removeListener(event, fn, context, once);
    const list = this.#table[event];
    if (list === undefined) return this;
    // eventemitter3's rule: without fn, remove all; otherwise remove the matches of fn, narrowed by once and context.
    const kept = fn ? list.filter((l) => l.fn !== fn || (once && !l.once) || (context && l.context !== context)) : [];
    if (kept.length === 0) {
      delete this.#table[event];
      this.#events--;
    } else if (kept.length !== list.length) this.#table[event] = kept;
    return this;
  }

  /** Same as `removeListener`. */
  override off<T extends Name<Events>>(event: T, fn?: ListenerOf<Events, T>, context?: unknown, once?: boolean): this {
    return this.removeListener(event, fn, context, once);
  }

  /** Removes every listener of `event`, or of every event when `event` is undefined. */
  override removeAllListeners(event?: Name<Events>): this {
    super.removeAllListeners(event);
    if (event === undefined) {
      this.#table = Object.create(null) as Record<PropertyKey, readonly Listener[] | undefined>;
      this.#events = 0;
    } else if (this.#table[event] !== undefined) {
      delete this.#table[event];
      this.#events--;
    }
    return this;
  }

  // Method parameters are bivariant, so this one-payload signature can stand in for eventemitter3's generic one.
  /**
   * Calls the listeners of `event` with the payload, each isolated. Returns true when there were any. Used by
   * hookchain; application code listens rather than emits.
   */
  override emit(event: PropertyKey, ...args: unknown[]): boolean {
    if (typeof event !== 'string') return false; // every event name here is a string
    const list = this.#table[event];
    if (list === undefined) return false;
    const payload = args[0];
    for (let i = 0; i < list.length; i++) this.callOne(event, list[i]!, payload);
    return true;
  }

  #add(event: PropertyKey, fn: unknown, context: unknown, once: boolean): void {
    // eventemitter3 calls a listener without a context with `this` set to the emitter.
    const listener: Listener = { fn: fn as Listener['fn'], context: context || this, once };
    const list = this.#table[event];
    if (list === undefined) this.#events++;
    this.#table[event] = list === undefined ? [listener] : [...list, listener];
  }

  private callOne(event: string, listener: Listener, payload: unknown): void {
    if (listener.once) this.removeListener(event as Name<Events>, listener.fn as never, undefined, true);
    try {
      const result = listener.fn.call(listener.context, payload);
      // An async listener's rejection must not become an unhandled rejection either.
      if (result !== null && typeof result === 'object' && typeof (result as Promise<unknown>).then === 'function') {
        (result as Promise<unknown>).then(undefined, (error: unknown) => this.reportListenerError(error, event));
      }
    } catch (error) {
      this.reportListenerError(error, event);
    }
  }

  private reportListenerError(error: unknown, event: string): void {
    try {
      this.onListenerError(error, event);
    } catch {
      // The error reporter itself failed; there is nobody left to tell.
    }
  }
}
