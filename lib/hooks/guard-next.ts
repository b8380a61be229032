/**
 * Koa's classic footguns, caught and named: a middleware that calls `next()` without awaiting it resolves while
 * the model and the post-hooks still run, detached (koa#84, #99, #112); one that calls `next()` twice would run the
 * rest of the chain twice. Each `use()` middleware is wrapped so that either fails the run with an error naming the
 * middleware, and so that a detached chain can never surface as an unhandled rejection.
 */
import type { Context } from '../context.ts';
import { HookchainConfigError } from '../errors.ts';
import type { Next } from '../types.ts';

type Layer = (ctx: Context, next: Next) => unknown;

export function guardNext(middleware: Layer, name: string): (ctx: Context, next: Next) => Promise<void> {
  return function guarded(ctx, next) {
    let downstream: 'idle' | 'running' | 'done' = 'idle';
    const watchedNext = () => {
      if (downstream !== 'idle') {
        return Promise.reject(
          new HookchainConfigError(
            'NEXT_CALLED_TWICE',
            `${name} called next() more than once; call it at most once (koa-compose's rule: each call would run the rest of the chain again)`,
          ),
        );
      }
      downstream = 'running';
      const result = next();
      result.then(
        () => void (downstream = 'done'),
        () => void (downstream = 'done'),
      );
      return result;
    };
    return Promise.resolve(middleware(ctx, watchedNext)).then(() => {
      if (downstream === 'running') {
        throw new HookchainConfigError(
          'NEXT_NOT_AWAITED',
          `${name} finished before the rest of the chain (the model and post-hooks) did: it called next() without awaiting it. Write \`await next()\` (or \`return next()\`)`,
        );
      }
    });
  };
}
