/**
 * The OpenAI-compatible routes: `POST /v1/chat/completions` (`model` is an agent id; plain or streamed as
 * `chat.completion.chunk` events ending with `data: [DONE]`) and `GET /v1/models` (the agents). Each completion is
 * one stateless run of that agent, its guardrails included, for the caller's user. Errors take OpenAI's shape, so
 * the official client raises its usual `APIError` subclasses.
 */
import type { Context as KoaContext } from 'koa';
import type { RunEvent } from '../../events/types.ts';
import type { ChatMessage, RunOutput } from '../../types.ts';
import { readJson } from '../http/body.ts';
import { HttpError, openAIBody, runFailure } from '../http/errors.ts';
import { checkFields, field } from '../http/fields.ts';
import { openSse } from '../http/sse.ts';
import { runOnce, startStream, type RunTarget } from '../runs/execute.ts';
import { principalOf, track, type AddRoute, type RouteState } from '../state.ts';
import { toChatMessages } from './messages.ts';

interface CompletionBody {
  model: string;
  messages: unknown[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean } | null;
  user?: string;
}
const COMPLETION_FIELDS = {
  model: field.string,
  messages: (v: unknown) => (Array.isArray(v) && v.length > 0 ? undefined : 'a non-empty array of messages'),
  stream: (v: unknown) => (v === null || typeof v === 'boolean' ? undefined : 'true or false'),
  stream_options: (v: unknown) => (v === null || field.object(v) === undefined ? undefined : 'an object'),
  user: field.string,
};

export function openAIRoutes(state: RouteState, add: AddRoute): void {
  const created = Math.floor(Date.now() / 1000);
  add('get', '/v1/models', 'openai', (ctx) => {
    ctx.body = { object: 'list', data: [...state.agents.keys()].map((id) => ({ id, object: 'model', created, owned_by: 'hookchain' })) };
  });

  add('post', '/v1/chat/completions', 'openai', async (ctx) => {
    // Other OpenAI fields (temperature, max_tokens…) are accepted and left to the agent's own model settings.
    const body = checkFields<CompletionBody>(
      await readJson(ctx, state.options.bodyLimit, state.options.requestTimeoutMs),
      COMPLETION_FIELDS,
      ['model', 'messages'],
      true,
    );
    const agent = state.agents.get(body.model);
    if (agent === undefined) {
      throw new HttpError(
        404,
        'invalid_request_error',
        `The model "${body.model.slice(0, 200)}" does not exist (the models are this server's agent ids)`,
        {
          param: 'model',
        },
      );
    }
    const messages = toChatMessages(body.messages);
    const userId = principalOf(ctx)?.userId ?? body.user;
    const target: RunTarget = { agent, sessionId: undefined, userId };
    if (body.stream === true) return streamCompletion(ctx, state, target, messages, body.stream_options?.include_usage === true);
    const result = await runOnce(ctx, state, target, (hooks) => agent.run(messages, { ...hooks, userId }));
    const output = result.output ?? result.refusal.output;
    const content = result.refusal === undefined ? (output.content ?? '') : result.refusal.text;
    ctx.body = {
      id: completionId(output),
      object: 'chat.completion',
      created: Math.floor(output.createdAt / 1000),
      model: agent.id,
      choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, finish_reason: 'stop', logprobs: null }],
      usage: usageOf(output),
      system_fingerprint: null,
    };
  });
}

/**
 * Streams a completion. Events are held until the first text (or the end), so a run blocked before any text —
 * an input guardrail, a failing model — still answers with its HTTP status; a failure after text has gone out
 * ends the stream with an OpenAI error frame (the client raises it).
 */
async function streamCompletion(
  ctx: KoaContext,
  state: RouteState,
  target: RunTarget,
  messages: ChatMessage[],
  includeUsage: boolean,
): Promise<void> {
  const started = await startStream(ctx, state, target, (hooks) => target.agent.stream(messages, { ...hooks, userId: target.userId }));
  const runId = started.first.runId;
  const base = {
    id: `chatcmpl-${runId}`,
    object: 'chat.completion.chunk',
    created: Math.floor(Date.now() / 1000),
    model: target.agent.id,
    system_fingerprint: null,
  };
  const chunk = (delta: Record<string, unknown>, finish: string | null) =>
    JSON.stringify({ ...base, choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }] });

  let sse: ReturnType<typeof openSse> | undefined;
  let opened!: () => void;
  let failed!: (error: unknown) => void;
  const firstText = new Promise<void>((resolve, reject) => ((opened = resolve), (failed = reject)));
  const open = () => {
    if (sse !== undefined) return sse;
    sse = openSse(ctx);
    sse.send(chunk({ role: 'assistant', content: '' }, null));
    opened();
    return sse;
  };
  const finish = (output: RunOutput) => {
    const out = open();
    out.send(chunk({}, 'stop'));
    if (includeUsage) out.send(JSON.stringify({ ...base, choices: [], usage: usageOf(output) }));
    out.send('[DONE]');
  };
  const onEvent = (event: RunEvent) => {
    if (event.type === 'content') open().send(chunk({ content: event.delta }, null));
    else if (event.type === 'run_completed' || event.type === 'run_paused') finish(event.output);
    else if (event.type === 'run_error') {
      // A refusal was already sent as a content event by the pump; the blocked run_error then ends it normally.
      if ('blocked' in event) return finish(event.output);
      const error = runFailure({ runOutput: event.output });
      if (sse === undefined) return failed(error);
      sse.send(JSON.stringify(openAIBody(error)));
    }
  };
  const pumped = started
    .pump((_frame, event) => onEvent(event))
    .finally(() => {
      sse?.end();
      opened();
    });
  track(state, pumped);
  await firstText;
}

function completionId(output: RunOutput): string {
  return `chatcmpl-${output.runId}`;
}

function usageOf(output: RunOutput): { prompt_tokens: number; completion_tokens: number; total_tokens: number } {
  const m = output.metrics;
  return { prompt_tokens: m.inputTokens, completion_tokens: m.outputTokens, total_tokens: m.totalTokens };
}
