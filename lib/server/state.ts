/**
 * What the routes of one `agentRoutes()` (or one `AgentServer`) share: the agents, the resolved options, the run
 * registry, and the work that `close()` must wait for.
 */
import type { Context as KoaContext } from 'koa';
import type { Authenticator } from './http/auth.ts';
import type { RateLimiter } from './http/rate-limit.ts';
import type { Principal, ResolvedOptions, ServedAgent } from './options.ts';
import type { RunRegistry } from './runs/registry.ts';

export interface RouteState {
  readonly agents: ReadonlyMap<string, ServedAgent>;
  readonly options: ResolvedOptions;
  readonly registry: RunRegistry;
  readonly auth: Authenticator | undefined;
  readonly limiter: RateLimiter | undefined;
  /** Set by `close()`: every new request answers 503. */
  closing: boolean;
  /** Requests being answered (their response not yet finished or closed). */
  requests: number;
  /** Work that outlives its request: background runs, and responses whose run's background jobs wait for them. */
  readonly work: Set<Promise<unknown>>;
  /** One per run in progress: `close()` aborts those still going at its deadline. */
  readonly aborts: Set<AbortController>;
  /** Called whenever `requests` or `work` shrinks, so `close()` can tell when all is done. */
  onIdle: (() => void) | undefined;
}

/** Which error shape a route answers with. */
export type Api = 'native' | 'openai';

/**
 * Adds one route's handler; `isPublic` skips auth and the rate limit (only `/health`); `auth` replaces the routes'
 * authenticator for this route (the console's, which also reads its cookie).
 */
export type AddRoute = (
  method: 'get' | 'post' | 'delete',
  path: string,
  api: Api,
  handler: (ctx: KoaContext) => Promise<void> | void,
  isPublic?: boolean,
  auth?: Authenticator,
) => void;

/** The per-request fields the routes set on `ctx.state`. */
export interface RequestState {
  /** The caller; undefined when the routes have no auth. */
  principal: Principal | undefined;
}

/** The caller of this request (set by the route wrapper). */
export function principalOf(ctx: KoaContext): Principal | undefined {
  return (ctx.state as RequestState).principal;
}

/** Tracks `promise` until it settles. */
export function track(state: RouteState, promise: Promise<unknown>): void {
  const p = promise.then(
    () => undefined,
    () => undefined,
  );
  state.work.add(p);
  void p.then(() => {
    state.work.delete(p);
    state.onIdle?.();
  });
}
