/**
 * The consumer side of a stream: events wait here until the consumer asks. The producer (the model read) awaits
 * `room()` past the high-water mark, so a slow consumer slows the model read instead of growing the buffer.
 */
import type { RunEvent } from '../events/types.ts';

export class EventQueue {
  private items: RunEvent[] = [];
  private head = 0;
  /** The waiting reader (a `for await` has at most one); concurrent `next()` calls queue behind it in `more`. */
  private reader: Waiter | undefined = undefined;
  private readonly more: Waiter[] = [];
  /** The run's error, given to the next read once the queued events are taken (then the stream is done). */
  private failure: { error: unknown } | undefined = undefined;
  private roomWaiters: (() => void)[] = [];
  private closed = false;
  /** Until a consumer starts reading, nothing waits for room (someone awaiting only `finalOutput` must not stall). */
  reading = false;

  private readonly highWaterMark: number;

  constructor(highWaterMark: number) {
    this.highWaterMark = highWaterMark;
  }

  push(event: RunEvent): void {
    if (this.closed) return;
    const reader = this.reader;
    if (reader !== undefined) {
      this.reader = this.more.shift();
      reader.resolve({ value: event, done: false });
    } else this.items.push(event);
  }

  get length(): number {
    return this.items.length - this.head;
  }

  /** Returns a promise only when the consumer is behind. */
  room(): Promise<void> | undefined {
    if (!this.reading || this.closed || this.length < this.highWaterMark) return undefined;
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /** The next queued event, or undefined when none is waiting. */
  take(): RunEvent | undefined {
    this.reading = true;
    if (this.head === this.items.length) return undefined;
    const value = this.items[this.head]!;
    this.items[this.head++] = undefined as never;
    if (this.head === this.items.length) {
      // Drained (the usual state while a consumer keeps up): reuse the array from the start, allocating nothing.
      this.items.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    if (this.roomWaiters.length > 0 && this.length < this.highWaterMark) this.wakeProducer();
    return value;
  }

  /** The next event; at the end, the run's error once (if it failed), then done. One promise per wait. */
  next(): Promise<IteratorResult<RunEvent>> {
    const value = this.take();
    if (value !== undefined) return Promise.resolve({ value, done: false });
    if (this.closed) {
      const failure = this.failure;
      this.failure = undefined;
      return failure === undefined ? Promise.resolve({ value: undefined, done: true }) : Promise.reject(failure.error);
    }
    this.wakeProducer();
    return new Promise((resolve, reject) => {
      if (this.reader === undefined) this.reader = { resolve, reject };
      else this.more.push({ resolve, reject });
    });
  }

  /** No more events; `failure` (the run's error) is thrown to the reader after the queued events. */
  close(failure?: { error: unknown }): void {
    this.closed = true;
    if (failure !== undefined && this.failure === undefined) this.failure = failure;
    const waiting = this.reader === undefined ? [] : [this.reader, ...this.more.splice(0)];
    this.reader = undefined;
    for (const waiter of waiting) {
      const pending = this.failure;
      this.failure = undefined;
      if (pending !== undefined) waiter.reject(pending.error);
      else waiter.resolve({ value: undefined, done: true });
    }
    this.wakeProducer();
  }

  /** The consumer stopped reading: it will not be told the run's error. */
  forgetFailure(): void {
    this.failure = undefined;
  }

  private wakeProducer(): void {
    for (const wake of this.roomWaiters.splice(0)) wake();
  }
}

interface Waiter {
  resolve(result: IteratorResult<RunEvent>): void;
  reject(error: unknown): void;
}
