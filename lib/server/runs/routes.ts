/**
 * The native run routes: start a run (JSON, SSE or background), poll it, continue a paused one, and replay a
 * streamed run's events from `Last-Event-ID`.
 */
import { randomUUID } from 'node:crypto';
import type { Context as KoaContext } from 'koa';
import type { Approval } from '../../run/resume.ts';
import type { AgentSession, ChatMessage, Metadata, RunOutput } from '../../types.ts';
import { readJson } from '../http/body.ts';
import { notFound, publicOutput } from '../http/errors.ts';
import { checkFields, field } from '../http/fields.ts';
import { openSse } from '../http/sse.ts';
import type { ServedAgent } from '../options.ts';
import { principalOf, track, type AddRoute, type RouteState } from '../state.ts';
import { runOnce, startStream, type Refusal, type RunHooks, type RunTarget } from './execute.ts';
import type { Frame } from './registry.ts';
import type { RunStream } from '../../run/stream.ts';

interface RunBody {
  input: string | ChatMessage[];
  sessionId?: string;
  userId?: string;
  stream?: boolean;
  sessionState?: Record<string, unknown>;
  metadata?: Metadata;
  background?: boolean;
}
const RUN_FIELDS = {
  input: field.input,
  sessionId: field.string,
  userId: field.string,
  stream: field.boolean,
  sessionState: field.object,
  metadata: field.object,
  background: field.boolean,
};

interface ContinueBody {
  sessionId: string;
  approvals: Approval[];
  stream?: boolean;
}
const CONTINUE_FIELDS = { sessionId: field.string, approvals: field.array, stream: field.boolean };

export function runRoutes(state: RouteState, add: AddRoute): void {
  const { bodyLimit, requestTimeoutMs } = state.options;

  add('post', '/agents/:agentId/runs', 'native', async (ctx) => {
    const agent = agentOf(state, ctx);
    const body = checkFields<RunBody>(await readJson(ctx, bodyLimit, requestTimeoutMs), RUN_FIELDS, ['input']);
    // The principal's user wins: a body cannot run (or read) as someone else.
    const userId = principalOf(ctx)?.userId ?? body.userId;
    if (body.sessionId !== undefined) await ownSession(ctx, agent, body.sessionId);
    // A background run is polled through its session, so it always has one.
    const sessionId = body.sessionId ?? (body.background === true ? randomUUID() : undefined);
    const target: RunTarget = { agent, sessionId, userId };
    const options = (hooks: RunHooks) => ({
      ...hooks,
      sessionId,
      userId,
      sessionState: body.sessionState,
      metadata: body.metadata,
    });
    if (body.background === true) {
      const started = await startStream(undefined, state, target, (hooks) => agent.stream(body.input, options(hooks)));
      track(
        state,
        started.pump(() => {}),
      );
      ctx.set('x-run-id', started.first.runId);
      ctx.status = 202;
      ctx.body = { runId: started.first.runId, sessionId: started.first.sessionId };
      return;
    }
    if (body.stream === true) return streamRun(ctx, state, target, (hooks) => agent.stream(body.input, options(hooks)));
    const result = await runOnce(ctx, state, target, (hooks) => agent.run(body.input, options(hooks)));
    ctx.body = result.refusal === undefined ? publicOutput(result.output) : refusalBody(result.refusal);
  });

  add('get', '/agents/:agentId/runs/:runId', 'native', async (ctx) => {
    const agent = agentOf(state, ctx);
    const runId = ctx.params['runId']!;
    const record = state.registry.get(runId);
    const known = record !== undefined && record.agentId === agent.id;
    if (known && principalOf(ctx) !== undefined && record.userId !== principalOf(ctx)!.userId) throw notFound('run', runId);
    if (known && record.running) {
      ctx.body = { runId, sessionId: record.sessionId, agentId: agent.id, status: 'running' };
      return;
    }
    const sessionId = known ? record.sessionId : typeof ctx.query['sessionId'] === 'string' ? ctx.query['sessionId'] : undefined;
    if (sessionId === undefined) throw notFound('run', runId, '; pass ?sessionId= for a run this server does not remember');
    const session = await ownSession(ctx, agent, sessionId);
    const run = session?.runs.findLast((r) => r.runId === runId);
    if (run === undefined) throw notFound('run', runId);
    ctx.body = publicOutput(run);
  });

  add('post', '/agents/:agentId/runs/:runId/continue', 'native', async (ctx) => {
    const agent = agentOf(state, ctx);
    const runId = ctx.params['runId']!;
    const body = checkFields<ContinueBody>(await readJson(ctx, bodyLimit, requestTimeoutMs), CONTINUE_FIELDS, ['sessionId', 'approvals']);
    const session = await ownSession(ctx, agent, body.sessionId);
    if (session === undefined) throw notFound('session', body.sessionId);
    const target: RunTarget = { agent, sessionId: body.sessionId, userId: principalOf(ctx)?.userId ?? session.userId };
    const options = (hooks: RunHooks) => ({ ...hooks, sessionId: body.sessionId, runId, approvals: body.approvals });
    if (body.stream === true) return streamRun(ctx, state, target, (hooks) => agent.continueStream(options(hooks)));
    const result = await runOnce(ctx, state, target, (hooks) => agent.continueRun(options(hooks)));
    ctx.body = result.refusal === undefined ? publicOutput(result.output) : refusalBody(result.refusal);
  });

  add('get', '/agents/:agentId/runs/:runId/events', 'native', (ctx) => {
    const agent = agentOf(state, ctx);
    const runId = ctx.params['runId']!;
    const record = state.registry.get(runId);
    const principal = principalOf(ctx);
    if (record?.frames === undefined || record.agentId !== agent.id || (principal !== undefined && record.userId !== principal.userId)) {
      throw notFound('run', runId, ' among the recent streamed or background runs of this server');
    }
    const raw = ctx.get('last-event-id') || (typeof ctx.query['lastEventId'] === 'string' ? ctx.query['lastEventId'] : '0');
    const after = /^\d{1,12}$/.test(raw) ? Number(raw) : 0;
    ctx.set('x-run-id', runId);
    const sse = openSse(ctx);
    for (const frame of record.frames) if (frame.id > after) sse.send(frame.data, frame.event, frame.id);
    if (!record.running) return sse.end();
    const listener = (frame: Frame | undefined) => {
      if (frame === undefined) sse.end();
      else if (frame.id > after) sse.send(frame.data, frame.event, frame.id);
    };
    record.listeners.add(listener);
    // A watcher that leaves stops watching; the run goes on (it belongs to its own request, or to the server).
    ctx.res.once('close', () => record.listeners.delete(listener));
  });
}

/** Streams a run as SSE; the handler returns once the first event is read, and the run goes on writing. */
async function streamRun(ctx: KoaContext, state: RouteState, target: RunTarget, open: (hooks: RunHooks) => RunStream): Promise<void> {
  const started = await startStream(ctx, state, target, open);
  const sse = openSse(ctx);
  track(
    state,
    started.pump((frame) => sse.send(frame.data, frame.event, frame.id)).finally(() => sse.end()),
  );
}

/** The agent of `:agentId`, or a 404. */
export function agentOf(state: RouteState, ctx: KoaContext): ServedAgent {
  const id = ctx.params['agentId']!;
  const agent = state.agents.get(id);
  if (agent === undefined) throw notFound('agent', id);
  return agent;
}

/** The session if it exists and is the caller's; another user's session is a 404, as if it did not exist. */
async function ownSession(ctx: KoaContext, agent: ServedAgent, sessionId: string): Promise<AgentSession | undefined> {
  const session = await agent.sessionStore.get(sessionId);
  if (session === undefined) return undefined;
  const principal = principalOf(ctx);
  if (session.agentId !== agent.id || (principal !== undefined && session.userId !== principal.userId))
    throw notFound('session', sessionId);
  return session;
}

/** A blocked run's refusal: 200 with the refusal text and the trigger, none of the run's messages or input. */
function refusalBody(refusal: Refusal): Record<string, unknown> {
  const o: RunOutput = refusal.output;
  return {
    runId: o.runId,
    sessionId: o.sessionId,
    agentId: o.agentId,
    agentName: o.agentName,
    userId: o.userId,
    status: o.status,
    content: refusal.text,
    blocked: true,
    checkTrigger: refusal.info.checkTrigger,
    model: o.model,
    metrics: o.metrics,
    createdAt: o.createdAt,
  };
}
