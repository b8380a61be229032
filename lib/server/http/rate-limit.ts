/**
 * The per-principal rate limit: a fixed window per key (the user id, or the client address without auth), in
 * memory. Windows that have ended are swept when the map grows, so a stream of one-off addresses cannot grow it
 * without bound.
 */
import type { RateLimitOptions } from '../options.ts';

/** Counts one request of `key`; returns undefined when allowed, else the seconds until the window resets. */
export type RateLimiter = (key: string, now?: number) => number | undefined;

const SWEEP_AT = 10_000;

/** A fixed-window limiter of `max` requests per `windowMs`. */
export function fixedWindow({ max, windowMs }: RateLimitOptions): RateLimiter {
  const windows = new Map<string, { resetAt: number; count: number }>();
  return (key, now = Date.now()) => {
    let w = windows.get(key);
    if (w === undefined || w.resetAt <= now) {
      if (windows.size >= SWEEP_AT) for (const [k, old] of windows) if (old.resetAt <= now) windows.delete(k);
      w = { resetAt: now + windowMs, count: 0 };
      windows.set(key, w);
    }
    w.count++;
    return w.count <= max ? undefined : Math.max(1, Math.ceil((w.resetAt - now) / 1000));
  };
}
