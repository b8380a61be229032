/**
 * Koa's classic footgun: a middleware that calls `next()` without awaiting it resolves while the model and the
 * post-hooks still run, detached (koa#84, #99, #112). Each `use()` middleware is wrapped so that this fails the run
 * with an error naming the middleware, in every environment, and so the detached chain can never surface as an
 * unhandled rejection.
 */
import type { RunContextImpl } from '../context.ts';
import { HookchainConfigError } from '../errors.ts';
import type { Next } from '../types.ts';

type Layer = (ctx: RunContextImpl, next: Next) => unknown;

export function guardNext(middleware: Layer, name: string): (ctx: RunContextImpl, next: Next) => Promise<void> {
  return function guarded(ctx, next) {
    let downstream: 'idle' | 'running' | 'done' = 'idle';
    const watchedNext = () => {
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
