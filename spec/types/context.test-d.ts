/**
 * Type tests: a context field is typed exactly where middleware has already set it, and hooks are
 * checked by phase. Run by `npm test` (vitest typecheck) and by `npm run typecheck`.
 */
import { describe, expectTypeOf, it } from 'vitest';
import { Agent, hook, type Middleware, type Model, type RunOutput } from 'hookchain';

declare const model: Model;

// A middleware package's middleware: it sets `tenant`, so it declares it in its Vars.
const withTenant: Middleware<object, object, { tenant: string }> = async (ctx, next) => {
  ctx.tenant = 'acme';
  await next();
};

describe('typed context variables', () => {
  it('types a field set by outer middleware for everything inside, through use()', () => {
    const agent = new Agent({ model });
    const tenanted = agent.use(withTenant, { outer: true });
    tenanted.use(async (ctx, next) => {
      expectTypeOf(ctx.tenant).toEqualTypeOf<string>();
      await next();
    });
    agent.use(async (ctx, next) => {
      // @ts-expect-error the agent without the outer middleware has no tenant
      void ctx.tenant;
      await next();
    });
  });

  it('types it for pre-hooks when the outer middleware is given at construction', () => {
    new Agent({
      model,
      outerMiddleware: [withTenant],
      preHooks: [({ runContext }) => expectTypeOf(runContext.tenant).toEqualTypeOf<string>()],
    });
    new Agent({
      model,
      preHooks: [
        // @ts-expect-error no outer middleware sets tenant here
        ({ runContext }) => runContext.tenant,
      ],
    });
  });

  it('accumulates fields over several use() calls', () => {
    const agent = new Agent({ model })
      .use<{ tenant: string }>(
        async (ctx, next) => {
          ctx.tenant = 't';
          await next();
        },
        { outer: true },
      )
      .use<{ user: { id: number } }>(async (ctx, next) => {
        expectTypeOf(ctx.tenant).toEqualTypeOf<string>();
        ctx.user = { id: 1 };
        await next();
      });
    agent.use(async (ctx, next) => {
      expectTypeOf(ctx.user.id).toEqualTypeOf<number>();
      expectTypeOf(ctx.tenant).toEqualTypeOf<string>();
      await next();
    });
  });

  it('keeps per-run scratch in ctx.state and the persisted state in ctx.sessionState', () => {
    new Agent<{ cart: string[] }>({ model, sessionState: { cart: [] } }).use(async (ctx, next) => {
      expectTypeOf(ctx.sessionState.cart).toEqualTypeOf<string[]>();
      expectTypeOf(ctx.state).toEqualTypeOf<Record<string, unknown>>();
      await next();
    });
  });
});

describe('hooks typed by phase', () => {
  it('checks unannotated hook.post and hook.pre functions', () => {
    hook.post()(({ runOutput }) => expectTypeOf(runOutput).toEqualTypeOf<RunOutput>());
    // @ts-expect-error a misspelt field is caught
    hook.post()(({ runOutput }) => runOutput.contnet);
    // @ts-expect-error pre-hooks have no runOutput
    hook.pre()(({ runOutput }) => runOutput);
  });

  it('types run() input as text or chat messages', () => {
    const agent = new Agent({ model });
    expectTypeOf(agent.run('hi')).resolves.toEqualTypeOf<RunOutput>();
    // @ts-expect-error a number is not an input
    void agent.run(5);
  });
});
