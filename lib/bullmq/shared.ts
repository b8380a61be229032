/** What the producer and the worker share: the default queue name, option rules, a rate-limited log. */
import { is, type Rule } from '../options.ts';
import type { Logger } from '../types.ts';

/** The queue both sides use unless given `queueName`. */
export const DEFAULT_QUEUE = 'hookchain-background';

const queueName: Rule = (v) =>
  typeof v === 'string' && v.trim() !== '' && !v.includes(':') ? undefined : 'a non-empty string without ":" (BullMQ refuses it)';

/** BullMQ's connection options: a plain object such as `{ host, port }` or `{ url }`. */
const connection: Rule = (v) =>
  is.object(v) === undefined ? undefined : "BullMQ's connection options, a plain object such as { host: '127.0.0.1', port: 6379 }";

const logger = is.withMethods('an object with debug() and warn() methods, such as console', 'debug', 'warn');

export const RULES = { connection, queueName, logger };

/** Warns at most once per `everyMs` (a Redis outage makes the client retry, and fail, many times a second). */
export class ThrottledLog {
  private last = 0;
  private skipped = 0;
  private readonly logger: Logger;
  private readonly prefix: string;
  private readonly everyMs: number;

  constructor(logger: Logger, prefix: string, everyMs = 30_000) {
    this.logger = logger;
    this.prefix = prefix;
    this.everyMs = everyMs;
  }

  warn(message: string, error: unknown): void {
    const now = Date.now();
    if (now - this.last < this.everyMs) {
      this.skipped++;
      return;
    }
    const more = this.skipped > 0 ? ` (${this.skipped} more since the last report)` : '';
    this.last = now;
    this.skipped = 0;
    this.always(`${message}${more}`, error);
  }

  /** Not throttled: for reports that each concern one job. */
  always(message: string, error?: unknown): void {
    try {
      this.logger.warn(`${this.prefix}: ${message}`, error);
    } catch {
      // A logger that throws must not break the queue.
    }
  }
}
