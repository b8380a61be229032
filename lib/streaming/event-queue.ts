/**
 * The consumer side of a stream: events wait here until the consumer asks. The producer (the model read) awaits
 * `room()` past the high-water mark, so a slow consumer slows the model read instead of growing the buffer.
 */
import type { RunEvent } from '../events/types.ts';

export class EventQueue {
  private items: RunEvent[] = [];
  private head = 0;
  private readers: ((result: IteratorResult<RunEvent>) => void)[] = [];
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
    const reader = this.readers.shift();
    if (reader !== undefined) reader({ value: event, done: false });
    else this.items.push(event);
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
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    if (this.roomWaiters.length > 0 && this.length < this.highWaterMark) this.wakeProducer();
    return value;
  }

  next(): Promise<IteratorResult<RunEvent>> {
    const value = this.take();
    if (value !== undefined) return Promise.resolve({ value, done: false });
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    this.wakeProducer();
    return new Promise((resolve) => this.readers.push(resolve));
  }

  close(): void {
    this.closed = true;
    for (const reader of this.readers.splice(0)) reader({ value: undefined, done: true });
    this.wakeProducer();
  }

  private wakeProducer(): void {
    for (const wake of this.roomWaiters.splice(0)) wake();
  }
}
