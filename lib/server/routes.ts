/**
 * `agentRoutes()`: every route of DESIGN §10 as one Koa middleware. Each route goes through one wrapper that
 * echoes or makes the request id, refuses new work while closing, authenticates, rate-limits and answers every
 * failure in the route family's error shape.
 */
import { randomUUID } from 'node:crypto';
import { Router } from '@koa/router';
import type Koa from 'koa';
import type { Context as KoaContext } from 'koa';

type KoaMiddleware = Koa.Middleware;
import { ConsoleRecorder } from './console/recorder.ts';
import { consoleRoutes } from './console/routes.ts';
import { createAuthenticator, type Authenticator } from './http/auth.ts';
import { HttpError, nativeBody, openAIBody } from './http/errors.ts';
import { fixedWindow } from './http/rate-limit.ts';
import { openAIRoutes } from './openai/routes.ts';
import { agentsById, resolveRouteOptions, type AgentRoutesOptions, type ConsoleOptions, type ServedAgent } from './options.ts';
import { RunRegistry } from './runs/registry.ts';
import { runRoutes } from './runs/routes.ts';
import { sessionRoutes } from './sessions/routes.ts';
import type { AddRoute, Api, RequestState, RouteState } from './state.ts';

/** What `createRoutes()` builds: the middleware, the state `close()` reads, and the console when it is on. */
export interface Routes {
  middleware: KoaMiddleware;
  state: RouteState;
  /** The run console's recorder, and what ends its event streams and stops it listening; undefined when it is off. */
  console: { recorder: ConsoleRecorder; close: () => void } | undefined;
}

/** The routes and the state they share (the server's `close()` reads it); `consoleOptions` switches the console on. */
export function createRoutes(owner: string, agents: unknown, options: unknown, consoleOptions?: ConsoleOptions): Routes {
  const byId = agentsById(owner, agents);
  const resolved = resolveRouteOptions(owner, options);
  const state: RouteState = {
    agents: byId,
    options: resolved,
    registry: new RunRegistry(),
    auth: createAuthenticator(resolved),
    limiter: resolved.rateLimit === undefined ? undefined : fixedWindow(resolved.rateLimit),
    closing: false,
    requests: 0,
    work: new Set(),
    aborts: new Set(),
    onIdle: undefined,
  };
  const router = new Router();
  const add: AddRoute = (method, path, api, handler, isPublic = false, auth = state.auth) => {
    router[method](path, wrap(state, api, handler, isPublic, auth));
  };
  add('get', '/health', 'native', (ctx) => void (ctx.body = { status: 'ok' }), true);
  add('get', '/agents', 'native', (ctx) => void (ctx.body = [...byId.values()].map((agent) => agent.describe())));
  runRoutes(state, add);
  sessionRoutes(state, add);
  openAIRoutes(state, add);
  let runConsole: Routes['console'];
  if (consoleOptions !== undefined) {
    const recorder = new ConsoleRecorder(consoleOptions);
    for (const agent of byId.values()) recorder.attach(agent);
    const endStreams = consoleRoutes(state, add, recorder);
    runConsole = {
      recorder,
      close: () => {
        endStreams();
        recorder.detach();
      },
    };
  }
  const routes = router.routes();
  const allowed = router.allowedMethods();
  const middleware: KoaMiddleware = (ctx, next) => routes(ctx as never, async () => void (await allowed(ctx as never, next)));
  return { middleware, state, console: runConsole };
}

/**
 * The agent routes of DESIGN §10 as Koa middleware, for an existing Koa app: the same routes, statuses and options
 * as `AgentServer` (which also listens, and closes gracefully). Requests to other paths go on to the next middleware.
 *
 * @param agents The agents to serve, by their `id`.
 * @param options Auth, limits and behaviour (`AgentRoutesOptions`); all optional.
 *
 * @example
 * const app = new Koa();
 * app.use(agentRoutes([support], { apiKeys: { 'sk-live-1': { userId: 'alice' } } }));
 * app.listen(7777, '127.0.0.1');
 */
export function agentRoutes(agents: readonly ServedAgent[], options?: AgentRoutesOptions): Koa.Middleware {
  return createRoutes('agentRoutes()', agents, options).middleware;
}

const REQUEST_ID = /^[\w.:/+=-]{1,128}$/;

function wrap(
  state: RouteState,
  api: Api,
  handler: (ctx: KoaContext) => Promise<void> | void,
  isPublic: boolean,
  auth: Authenticator | undefined,
): KoaMiddleware {
  return async (ctx) => {
    const given = ctx.get('x-request-id');
    ctx.set('x-request-id', REQUEST_ID.test(given) ? given : randomUUID());
    state.requests++;
    ctx.res.once('close', () => {
      state.requests--;
      state.onIdle?.();
    });
    try {
      if (state.closing) throw new HttpError(503, 'unavailable', 'the server is shutting down', { headers: { Connection: 'close' } });
      const principal = isPublic || auth === undefined ? undefined : await auth(ctx);
      (ctx.state as RequestState).principal = principal;
      if (!isPublic && state.limiter !== undefined) {
        const retryAfter = state.limiter(principal === undefined ? `ip:${ctx.ip}` : `user:${principal.userId}`);
        if (retryAfter !== undefined) {
          throw new HttpError(429, api === 'openai' ? 'rate_limit_error' : 'rate_limited', 'too many requests; retry later', {
            headers: { 'Retry-After': String(retryAfter) },
          });
        }
      }
      await handler(ctx);
    } catch (error) {
      respondError(ctx, api, error);
    }
  };
}

/** Answers `error` in the family's shape; anything but an `HttpError` is a 500 with a generic message. */
export function respondError(ctx: KoaContext, api: Api, error: unknown): void {
  if (!(error instanceof HttpError)) ctx.app.emit('error', error, ctx);
  const e = error instanceof HttpError ? error : new HttpError(500, 'server_error', 'internal server error');
  if (ctx.headerSent) return;
  ctx.status = e.status;
  for (const [name, value] of Object.entries(e.headers ?? {})) ctx.set(name, value);
  ctx.body = api === 'openai' ? openAIBody(e) : nativeBody(e);
}
