/**
 * The session routes, scoped to the caller: `GET /sessions`, `GET /sessions/:sessionId`, `DELETE
 * /sessions/:sessionId`. Another user's session answers 404, exactly like one that does not exist. Without auth
 * there is no caller, so `GET /sessions` takes `?userId=` instead (the stores list one user's sessions).
 */
import type { Context as KoaContext } from 'koa';
import type { SessionStore, SessionSummary } from '../../sessions/store.ts';
import type { AgentSession } from '../../types.ts';
import { badField, notFound, publicOutput } from '../http/errors.ts';
import { queryInt } from '../http/fields.ts';
import { principalOf, type AddRoute, type RouteState } from '../state.ts';

export function sessionRoutes(state: RouteState, add: AddRoute): void {
  add('get', '/sessions', 'native', async (ctx) => {
    const principal = principalOf(ctx);
    const userId = principal?.userId ?? (state.auth === undefined ? ctx.query['userId'] : undefined);
    if (typeof userId !== 'string' || userId === '')
      throw badField('userId', 'a user id in the query (?userId=), since the server has no auth');
    const agentId = ctx.query['agentId'];
    if (agentId !== undefined && (typeof agentId !== 'string' || !state.agents.has(agentId))) throw notFound('agent', String(agentId));
    const limit = queryInt(ctx.query['limit'], 'limit') ?? 100;
    const stores = agentId === undefined ? storesOf(state) : [state.agents.get(agentId)!.sessionStore];
    const lists = await Promise.all(stores.map((store) => store.listSessions({ userId, agentId, limit })));
    const served = (s: SessionSummary) => state.agents.has(s.agentId);
    ctx.body = lists
      .flat()
      .filter(served)
      .sort((a, b) => b.updatedAt - a.updatedAt)
      .slice(0, limit);
  });

  add('get', '/sessions/:sessionId', 'native', async (ctx) => {
    const { session } = await findSession(state, ctx);
    ctx.body = { ...session, runs: session.runs.map(publicOutput) };
  });

  add('delete', '/sessions/:sessionId', 'native', async (ctx) => {
    const { session, store } = await findSession(state, ctx);
    await store.delete(session.sessionId);
    ctx.status = 204;
  });
}

/** Each store once, even when agents share one. */
function storesOf(state: RouteState): SessionStore[] {
  return [...new Set([...state.agents.values()].map((a) => a.sessionStore))];
}

async function findSession(state: RouteState, ctx: KoaContext): Promise<{ session: AgentSession; store: SessionStore }> {
  const sessionId = ctx.params['sessionId']!;
  const principal = principalOf(ctx);
  for (const store of storesOf(state)) {
    const session = await store.get(sessionId);
    if (session === undefined || !state.agents.has(session.agentId)) continue;
    if (principal !== undefined && session.userId !== principal.userId) break;
    return { session, store };
  }
  throw notFound('session', sessionId);
}
