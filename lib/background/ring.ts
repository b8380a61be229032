/**
 * A growable FIFO on a power-of-two array with a head index: O(1) push and shift with no element moves, unlike
 * `Array#shift`, which is O(n) once an array leaves V8's fast path.
 */
export class Ring<T> {
  private slots: (T | undefined)[];
  private mask: number;
  private head = 0;
  length = 0;

  constructor(capacity = 16) {
    let size = 4;
    while (size < capacity) size *= 2;
    this.slots = new Array<T | undefined>(size).fill(undefined);
    this.mask = size - 1;
  }

  push(value: T): void {
    if (this.length === this.slots.length) this.grow();
    this.slots[(this.head + this.length) & this.mask] = value;
    this.length++;
  }

  /** Callers check `length` first; an empty ring returns undefined. */
  shift(): T | undefined {
    if (this.length === 0) return undefined;
    const value = this.slots[this.head];
    // Release the slot so a finished burst does not keep a million jobs reachable.
    this.slots[this.head] = undefined;
    this.head = (this.head + 1) & this.mask;
    this.length--;
    return value;
  }

  private grow(): void {
    const old = this.slots;
    const next = new Array<T | undefined>(old.length * 2).fill(undefined);
    for (let i = 0; i < this.length; i++) next[i] = old[(this.head + i) & this.mask];
    this.slots = next;
    this.mask = next.length - 1;
    this.head = 0;
  }
}
