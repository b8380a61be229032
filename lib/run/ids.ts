/**
 * Run ids: UUID-shaped, unique across processes, and cheap. A random per-process prefix (the first 29 characters
 * of a v4 UUID: about 94 random bits) is followed by a counter in 7 hex digits, so a run costs one string
 * concatenation instead of a `crypto.randomUUID()` (which refills a random buffer every 128 ids). The counter stays
 * a small integer, whose hex form V8 prints fast; after 2²⁸ − 2²⁴ runs a new prefix is drawn. A new process
 * (a worker, a forked child) draws its own prefix when it loads this module.
 */
import { randomUUID } from 'node:crypto';

// Counting from 2²⁴ keeps the hex form exactly 7 digits, with no padding to add.
const COUNTER_START = 0x1000000;
const COUNTER_END = 0x10000000;
let prefix = randomUUID().slice(0, 29);
let counter = COUNTER_START;

export function nextRunId(): string {
  if (counter === COUNTER_END) {
    prefix = randomUUID().slice(0, 29);
    counter = COUNTER_START;
  }
  return prefix + (counter++).toString(16);
}
