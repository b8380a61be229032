/**
 * Run ids: UUID-shaped, unique across processes, and cheap. A random per-process prefix (the first 24 characters
 * of a v4 UUID: 74 random bits) is followed by a counter in 12 hex digits, so a run costs one string concatenation
 * instead of a `crypto.randomUUID()` (which refills a random buffer every 128 ids). The prefix is drawn again when
 * the counter wraps, and in a forked child (a new process draws its own at load).
 */
import { randomUUID } from 'node:crypto';

// Counting from 2⁴⁴ keeps the hex form exactly 12 digits with no padding to add, for 2⁴⁸ − 2⁴⁴ ids per prefix.
const COUNTER_START = 2 ** 44;
const COUNTER_LIMIT = 2 ** 48;
let prefix = randomUUID().slice(0, 24);
let counter = COUNTER_START;

export function nextRunId(): string {
  if (counter === COUNTER_LIMIT) {
    prefix = randomUUID().slice(0, 24);
    counter = COUNTER_START;
  }
  return prefix + (counter++).toString(16);
}
