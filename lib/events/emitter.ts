/**
 * A typed eventemitter3 emitter whose listeners cannot break the emitter's caller.
 *
 * eventemitter3 calls listeners inline and lets a throw escape `emit()`, so one bad logging listener would fail a
 * run. `emit` here calls each listener in its own try/catch and reports failures to `onListenerError` instead.
 * It reads eventemitter3's listener table (`_events`, stable since v1; pinned by spec/events.spec.ts).
 */
import { EventEmitter } from 'eventemitter3';

type Listener = { fn: (...args: unknown[]) => unknown; context: unknown; once: boolean };
type ListenerTable = Record<string, Listener | Listener[] | undefined>;

const prefix = typeof EventEmitter.prefixed === 'string' ? EventEmitter.prefixed : '';

export type EventMapOf<Events> = { [K in keyof Events]: [Events[K]] };

export class SafeEmitter<Events extends object> extends EventEmitter<EventMapOf<Events>> {
  /** Where listener errors go. Defaults to a console warning naming the event (never the payload). */
  onListenerError: (error: unknown, event: string) => void = (error, event) => {
    console.warn(`hookchain: a "${event}" listener threw; the run went on.`, error);
  };

  /** Cheap test used on hot paths before building a payload. */
  hasListeners(event: keyof Events & string): boolean {
    return (this as unknown as { _events: ListenerTable })._events[prefix + event] !== undefined;
  }

  // Method parameters are bivariant, so this one-payload signature can stand in for eventemitter3's generic one.
  override emit(event: PropertyKey, ...args: unknown[]): boolean {
    if (typeof event !== 'string') return false; // every event name here is a string
    const payload = args[0];
    const table = (this as unknown as { _events: ListenerTable })._events;
    const entry = table[prefix + event];
    if (entry === undefined) return false;
    if (!Array.isArray(entry)) {
      this.callOne(event, entry, payload);
      return true;
    }
    // Copy: a `once` listener removes itself, and a listener may add or remove others while we iterate.
    for (const listener of entry.slice()) this.callOne(event, listener, payload);
    return true;
  }

  private callOne(event: string, listener: Listener, payload: unknown): void {
    if (listener.once) this.removeListener(event as never, listener.fn as never, undefined, true);
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
