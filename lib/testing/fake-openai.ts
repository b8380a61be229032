/**
 * An OpenAI-compatible HTTP server on 127.0.0.1 for tests: Chat Completions (plain and SSE streaming) and
 * Moderations, with scripted answers, failures, delays and a record of every request (including whether the
 * client hung up). Point the real `openai` client at `baseURL` and test your hooks end to end, offline.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';

/** A Chat Completions request body as the fake server received it (the fields a test usually reads, and the rest). */
export interface ChatRequestBody {
  /** The model id the client asked for. */
  model: string;
  /** The messages sent, as the client serialised them. */
  messages: {
    /** `'system'`, `'user'`, `'assistant'`, `'tool'`… */
    role: string;
    /** A string, an array of content parts, or null (an assistant message that only calls tools). */
    content: unknown;
    /** On an assistant message: the tool calls it made, in the wire shape. */
    tool_calls?: {
      /** The call's id. */
      id: string;
      /** `'function'`. */
      type: string;
      /** The function called. */
      function: {
        /** The tool's name. */
        name: string;
        /** The arguments, a JSON string. */
        arguments: string;
      };
    }[];
    /** On a `'tool'` message: the id of the call it answers. */
    tool_call_id?: string;
  }[];
  /** The tools offered to the model, as the client sent them; absent when the request had none. */
  tools?: {
    /** `'function'`. */
    type: string;
    /** The function offered. */
    function: {
      /** The tool's name. */
      name: string;
      /** What it does. */
      description?: string;
      /** The JSON Schema of its arguments. */
      parameters?: Record<string, unknown>;
    };
  }[];
  /** True for a streaming request. */
  stream?: boolean;
  /** Streaming options the client sent. */
  stream_options?: {
    /** True when the client asked for a final usage chunk (`OpenAIChat` always does). */
    include_usage?: boolean;
  };
  [key: string]: unknown;
}

/** A scripted chat answer: text, or full control over streaming, delays and failures. */
export type ChatReply =
  | string
  | {
      /** The answer's text (default: the `chunks` joined, else `''`). */
      content?: string;
      /** Exact SSE chunks (default: `content` cut into `chunkSize` pieces). */
      chunks?: string[];
      /** Characters per streamed chunk when `chunks` is not given (default 4). */
      chunkSize?: number;
      /** Pause before each streamed chunk, in ms (default 0). */
      chunkDelayMs?: number;
      /** Pause before answering at all, in ms (default 0). */
      delayMs?: number;
      /** Answer with this HTTP status and body instead (e.g. 500). */
      status?: number;
      /** The JSON body sent with `status` (default: an OpenAI-style `{ error: { message, type } }`). */
      body?: unknown;
      /**
       * Response headers sent with `status`, such as `{ 'retry-after': '0' }` on a 429 (the `openai` client exposes
       * them as the error's `headers`, and `retry()` honours `retry-after` / `retry-after-ms`).
       */
      headers?: Record<string, string>;
      /**
       * Hang up without answering: the server destroys the socket once the request is read (after `delayMs`), and
       * the client fails with a network error. The request is recorded with `aborted: false`, since the client did
       * not hang up.
       */
      drop?: true;
      /**
       * Streamed requests only: send the opening frame and at most this many chunks (text, then tool-call
       * fragments), then destroy the socket before the stream's end: a failure mid-stream (`0` fails before any
       * text). Plain requests ignore it.
       */
      failAfterChunks?: number;
      /**
       * Tool calls to answer with, after the text (if any). Plain: `message.tool_calls` and `finish_reason:
       * 'tool_calls'`. Streamed: `delta.tool_calls` fragments (id and name first, then the arguments cut into
       * `chunkSize` pieces), one call after another unless `interleaveToolCalls`.
       */
      toolCalls?: ScriptedToolCall[];
      /** Stream the fragments of parallel tool calls round-robin instead of one call after another (default false). */
      interleaveToolCalls?: boolean;
      /** Token counts to report (default: about one token per 4 characters of the messages and the answer). */
      usage?: {
        /** Reported as the prompt tokens. */
        prompt_tokens: number;
        /** Reported as the completion tokens. */
        completion_tokens: number;
      };
    };
/** One scripted tool call of a `ChatReply`. */
export interface ScriptedToolCall {
  /** The call's id (default: `call_<n>`, numbered from 1 per answer). */
  id?: string;
  /** The tool's name. */
  name: string;
  /** The arguments: a string sent as it is (so a test can send broken JSON), or a value sent as JSON. */
  arguments: string | Record<string, unknown>;
}

/** How the fake server answers chat requests: one scripted reply for all, or a function of each request body. */
export type ChatHandler = ChatReply | ((body: ChatRequestBody) => ChatReply | Promise<ChatReply>);

/** One scripted Moderations result; what is left out is filled in as the API would (nothing flagged, low scores). */
export interface ModerationResultInput {
  /** The result's `flagged` (default: true when any category is). */
  flagged?: boolean;
  /** Category name (API spelling, e.g. 'self-harm/intent') → flagged. Unlisted categories are false. */
  categories?: Record<string, boolean>;
  /** Category name → score (default: 0.9 for a flagged category, 0.001 otherwise). */
  categoryScores?: Record<string, number>;
}
/**
 * A scripted Moderations answer: one result, several results (one per input), an HTTP failure, a delay before a
 * result, or a raw body (to test malformed answers).
 */
export type ModerationReply =
  | ModerationResultInput
  | ModerationResultInput[]
  | {
      /** Answer with this HTTP status instead (e.g. 500). */
      status: number;
      /** The JSON body sent with it (default: an OpenAI-style `{ error: { message, type } }`). */
      body?: unknown;
    }
  | {
      /** Wait this long first, in ms; nothing is sent if the client hung up meanwhile. */
      delayMs: number;
      /** The result sent after the delay (default: nothing flagged). */
      then?: ModerationResultInput;
    }
  | {
      /** Send this text as the body, with status 200, as it is. */
      raw: string;
    };
/** How the fake server answers a Moderations request: a function of the request's `input` and whole body. */
export type ModerationHandler = (input: unknown, body: Record<string, unknown>) => ModerationReply | Promise<ModerationReply>;

/** One request the fake server received (`fake.requests`), in arrival order. */
export interface RecordedRequest {
  /** The HTTP method, such as `'POST'`. */
  method: string;
  /** The request path, such as `'/v1/chat/completions'`. */
  path: string;
  /** The parsed JSON body (the raw text if it was not JSON; undefined if empty). */
  body: unknown;
  /** The request headers, lower-cased names (e.g. `authorization`). */
  headers: Record<string, string | string[] | undefined>;
  /** The client hung up before the answer was complete (an aborted request). */
  aborted: boolean;
  /** Resolves when the exchange is over, aborted or not. */
  closed: Promise<void>;
}

/**
 * The API's 13 category names, written out here on purpose rather than imported from the guardrail: the server
 * plays the API, so a category the guardrail forgot must still reach it in tests.
 */
export const MODERATION_CATEGORIES = [
  'sexual',
  'sexual/minors',
  'harassment',
  'harassment/threatening',
  'hate',
  'hate/threatening',
  'illicit',
  'illicit/violent',
  'self-harm',
  'self-harm/intent',
  'self-harm/instructions',
  'violence',
  'violence/graphic',
] as const;

/**
 * A running fake OpenAI server (from `startFakeOpenAI`). Script its answers with `setReply`/`setModeration`, point
 * a client at `baseURL` (or use `client()`), then read `requests`. Close it when the test ends.
 */
export class FakeOpenAI {
  /** The server's base URL, `http://127.0.0.1:<port>/v1`: pass it as `baseURL` to `OpenAIChat` or the `openai` client. */
  readonly baseURL: string;
  /** An API key to give the client (`'test-key'`); the server accepts any. */
  readonly apiKey = 'test-key';
  /** Every request received so far, oldest first (chat, moderation and unknown routes). */
  readonly requests: RecordedRequest[] = [];
  private chat: ChatHandler;
  private moderation: ModerationHandler;
  private readonly server: Server;
  /** Answers the server itself cut off (`drop`, `failAfterChunks`), so that they are not recorded as aborted. */
  private readonly hungUp = new WeakSet<ServerResponse>();

  /** Not for direct use: call `startFakeOpenAI()`, which starts the server and builds this. */
  constructor(server: Server, options: FakeOpenAIOptions) {
    this.server = server;
    const { port } = server.address() as AddressInfo;
    this.baseURL = `http://127.0.0.1:${port}/v1`;
    this.chat = options.reply ?? ((body) => `echo: ${lastText(body)}`);
    this.moderation = options.moderation ?? (() => ({ flagged: false }));
  }

  /** Replaces how chat requests are answered, from the next request on. */
  setReply(handler: ChatHandler): void {
    this.chat = handler;
  }

  /**
   * Answers the next chat requests with these replies, one each, in order (step 1 a tool call, step 2 text…).
   * A request after the last reply gets an HTTP 500 that says so, so an unexpected extra model call fails loudly.
   */
  setReplies(replies: readonly ChatReply[]): void {
    const queue = [...replies];
    const total = queue.length;
    this.chat = () =>
      queue.shift() ?? {
        status: 500,
        body: { error: { message: `fake-openai: no scripted reply left (setReplies gave ${total})`, type: 'server_error' } },
      };
  }

  /** Replaces how Moderations requests are answered, from the next request on. */
  setModeration(handler: ModerationHandler): void {
    this.moderation = handler;
  }

  /** Bodies of the chat requests received so far. */
  chatRequests(): ChatRequestBody[] {
    return this.requests.filter((r) => r.path.endsWith('/chat/completions')).map((r) => r.body as ChatRequestBody);
  }

  /** A real `openai` client pointed at this server (no retries, so failures show at once). */
  client(options: { timeoutMs?: number } = {}): OpenAI {
    return new OpenAI({ apiKey: this.apiKey, baseURL: this.baseURL, maxRetries: 0, timeout: options.timeoutMs ?? 10_000 });
  }

  /** Stops the server, cutting open connections; resolves once it is closed. */
  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** @internal */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    let closedResolve!: () => void;
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      body: parseJson(raw),
      headers: req.headers,
      aborted: false,
      closed: new Promise((resolve) => (closedResolve = resolve)),
    };
    this.requests.push(record);
    res.on('close', () => {
      if (!res.writableFinished && !this.hungUp.has(res)) record.aborted = true;
      closedResolve();
    });
    try {
      if (record.path.endsWith('/chat/completions')) await this.answerChat(record.body as ChatRequestBody, res);
      else if (record.path.endsWith('/moderations')) await this.answerModeration(record.body as Record<string, unknown>, res);
      else sendJson(res, 404, { error: { message: `no route ${record.path}`, type: 'invalid_request_error' } });
    } catch (error) {
      if (!res.headersSent) sendJson(res, 500, { error: { message: String(error), type: 'server_error' } });
      else res.destroy();
    }
  }

  private async answerChat(body: ChatRequestBody, res: ServerResponse): Promise<void> {
    const reply = typeof this.chat === 'function' ? await this.chat(body) : this.chat;
    const r = typeof reply === 'string' ? { content: reply } : reply;
    if (r.delayMs) await sleep(r.delayMs);
    if (r.drop) return this.hangUp(res);
    if (r.status !== undefined) {
      return sendJson(res, r.status, r.body ?? { error: { message: 'scripted failure', type: 'server_error' } }, r.headers);
    }
    const content = r.content ?? (r.chunks ?? []).join('');
    const calls = (r.toolCalls ?? []).map((c, i) => ({
      id: c.id ?? `call_${i + 1}`,
      name: c.name,
      arguments: typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments),
    }));
    const finishReason = calls.length > 0 ? 'tool_calls' : 'stop';
    const usage = r.usage ?? {
      prompt_tokens: countTokens(JSON.stringify(body.messages)),
      completion_tokens: countTokens(content + calls.map((c) => c.name + c.arguments).join('')),
    };
    const id = `chatcmpl-${Math.random().toString(36).slice(2)}`;
    const created = Math.floor(Date.now() / 1000);
    if (!body.stream) {
      return sendJson(res, 200, {
        id,
        object: 'chat.completion',
        created,
        model: body.model,
        choices: [
          {
            index: 0,
            message:
              calls.length > 0
                ? {
                    role: 'assistant',
                    // As the API does: null, not '', when the model only calls tools.
                    content: content === '' ? null : content,
                    refusal: null,
                    tool_calls: calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })),
                  }
                : { role: 'assistant', content, refusal: null },
            finish_reason: finishReason,
            logprobs: null,
          },
        ],
        usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
      });
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const chunks = r.chunks ?? cut(content, r.chunkSize ?? 4);
    const frame = (choices: unknown[], extra: Record<string, unknown> = {}) =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: body.model, choices, ...extra })}\n\n`;
    res.write(frame([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]));
    let sent = 0;
    for (const piece of chunks) {
      if (r.failAfterChunks !== undefined && sent++ >= r.failAfterChunks) return this.hangUp(res);
      if (r.chunkDelayMs) await sleep(r.chunkDelayMs);
      if (res.destroyed) return;
      // Respect the client's pace: wait for the socket to drain instead of buffering the whole answer.
      if (!res.write(frame([{ index: 0, delta: { content: piece }, finish_reason: null }]))) await waitDrain(res);
    }
    for (const fragment of toolCallFragments(calls, r.chunkSize ?? 4, r.interleaveToolCalls === true)) {
      if (r.failAfterChunks !== undefined && sent++ >= r.failAfterChunks) return this.hangUp(res);
      if (r.chunkDelayMs) await sleep(r.chunkDelayMs);
      if (res.destroyed) return;
      if (!res.write(frame([{ index: 0, delta: { tool_calls: [fragment] }, finish_reason: null }]))) await waitDrain(res);
    }
    if (res.destroyed) return;
    if (r.failAfterChunks !== undefined) return this.hangUp(res);
    res.write(frame([{ index: 0, delta: {}, finish_reason: finishReason }]));
    if (body.stream_options?.include_usage) {
      res.write(frame([], { usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } }));
    }
    res.end('data: [DONE]\n\n');
  }

  /**
   * Cuts the connection without (finishing) an answer: the client sees a network error. What was already written
   * is flushed first (Node corks a response's first writes until the next tick), so the chunks before the cut
   * reach the client.
   */
  private async hangUp(res: ServerResponse): Promise<void> {
    this.hungUp.add(res);
    const socket = res.socket;
    if (res.headersSent && socket !== null) {
      await new Promise((resolve) => setImmediate(resolve));
      if (socket.writableLength > 0 && !socket.destroyed)
        await new Promise((resolve) => socket.once('drain', resolve).once('close', resolve));
    }
    socket?.destroy();
    res.destroy();
  }

  private async answerModeration(body: Record<string, unknown>, res: ServerResponse): Promise<void> {
    let reply = await this.moderation(body['input'], body);
    if (reply !== null && typeof reply === 'object' && 'delayMs' in reply) {
      await sleep(reply.delayMs);
      if (res.destroyed) return;
      reply = reply.then ?? { flagged: false };
    }
    if (reply !== null && typeof reply === 'object' && 'raw' in reply) {
      res.writeHead(200, { 'content-type': 'application/json' });
      return void res.end(reply.raw);
    }
    if (reply !== null && typeof reply === 'object' && 'status' in reply) {
      return sendJson(res, reply.status, reply.body ?? { error: { message: 'scripted failure', type: 'server_error' } });
    }
    const results = (Array.isArray(reply) ? reply : [reply as ModerationResultInput]).map(toModerationResult);
    sendJson(res, 200, {
      id: `modr-${Math.random().toString(36).slice(2)}`,
      model: String(body['model'] ?? 'omni-moderation-latest'),
      results,
    });
  }
}

/** Options of `startFakeOpenAI(options)`, both optional. */
export interface FakeOpenAIOptions {
  /** Chat answers (default: echoes the last user message as `echo: …`). */
  reply?: ChatHandler;
  /** Moderation verdicts (default: nothing flagged). */
  moderation?: ModerationHandler;
}

/**
 * Starts a fake OpenAI server on an ephemeral 127.0.0.1 port: Chat Completions (plain and streaming) and
 * Moderations, answered as scripted, every request recorded. Close it in your test's teardown.
 *
 * @example
 * const fake = await startFakeOpenAI({ reply: 'Your order shipped.' });
 * const agent = new Agent({ model: new OpenAIChat({ id: 'gpt-4o-mini', baseURL: fake.baseURL, apiKey: fake.apiKey }) });
 * await agent.run('Where is my order?');
 * expect(fake.chatRequests()[0].messages.at(-1)).toEqual({ role: 'user', content: 'Where is my order?' });
 * await fake.close();
 */
export async function startFakeOpenAI(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  // The handler needs the instance, and the instance needs the bound port: requests only arrive after both exist.
  const holder: { fake?: FakeOpenAI } = {};
  const server = createServer((req, res) => void holder.fake!.handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  holder.fake = new FakeOpenAI(server, options);
  return holder.fake;
}

function toModerationResult(input: ModerationResultInput) {
  const categories: Record<string, boolean> = {};
  const scores: Record<string, number> = {};
  const applied: Record<string, string[]> = {};
  for (const name of MODERATION_CATEGORIES) {
    categories[name] = input.categories?.[name] === true;
    scores[name] = input.categoryScores?.[name] ?? (categories[name] ? 0.9 : 0.001);
    applied[name] = ['text'];
  }
  const flagged = input.flagged ?? Object.values(categories).some(Boolean);
  return { flagged, categories, category_scores: scores, category_applied_input_types: applied };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

function parseJson(raw: string): unknown {
  try {
    return raw === '' ? undefined : JSON.parse(raw);
  } catch {
    return raw;
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...headers, 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function lastText(body: ChatRequestBody): string {
  const last = [...(body.messages ?? [])].reverse().find((m) => m.role === 'user');
  if (!last) return '';
  if (typeof last.content === 'string') return last.content;
  return (last.content as { type: string; text?: string }[]).map((p) => p.text ?? '').join(' ');
}

function cut(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/**
 * The `delta.tool_calls` entries that stream `calls` as the API does: per call, a first fragment with the index, id,
 * type, name and empty arguments, then the arguments in `size`-character pieces carrying only the index. In order
 * one call after another, or round-robin (to prove a client assembles by index, not by arrival).
 */
function toolCallFragments(calls: { id: string; name: string; arguments: string }[], size: number, interleave: boolean): unknown[] {
  const perCall = calls.map((c, index) => [
    { index, id: c.id, type: 'function', function: { name: c.name, arguments: '' } },
    ...cut(c.arguments, size).map((piece) => ({ index, function: { arguments: piece } })),
  ]);
  if (!interleave) return perCall.flat();
  const out: unknown[] = [];
  for (let round = 0; perCall.some((f) => round < f.length); round++) {
    for (const fragments of perCall) if (round < fragments.length) out.push(fragments[round]);
  }
  return out;
}

function countTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function waitDrain(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
