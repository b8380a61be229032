/**
 * The options of `new AgentServer()` and `agentRoutes()`, their rules and their defaults: validated once, with the
 * same `checkOptions` as every other public constructor, so a wrong option fails at construction and names the fix.
 */
import type { Context as KoaContext } from 'koa';
import type { Agent } from '../agent.ts';
import { HookchainConfigError } from '../errors.ts';
import { checkOptions, describe, is, isPlainObject, type Rule } from '../options.ts';
import type { CheckTrigger } from '../types.ts';

/** An agent of any state, dependencies and output types, as a server serves it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ServedAgent = Agent<any, any, any, any>;

/** Who is calling: what `apiKeys` maps a key to and what `authenticate` resolves with. */
export interface Principal {
  /** The caller's user id: every run it starts is this user's, and it sees only this user's sessions. */
  userId: string;
}

/** What a `blockedResponse` function is told about a blocked run (never the blocked text). */
export interface BlockedInfo {
  /** Why it was blocked (the verdict's `checkTrigger`). */
  checkTrigger: CheckTrigger;
  /** The verdict's message (the guardrail's words; they never quote the blocked text). */
  message: string;
  /** `'input_check_error'` (a pre-hook blocked the input) or `'output_check_error'` (a post-hook blocked the answer). */
  type: 'input_check_error' | 'output_check_error';
  /** The blocked run. */
  runId: string;
  /** The agent that ran it. */
  agentId: string;
}

/** The server's own in-memory rate limit: at most `max` requests per principal in each window of `windowMs`. */
export interface RateLimitOptions {
  /** Requests allowed per window. */
  max: number;
  /** The window, in milliseconds. */
  windowMs: number;
}

/** What `agentRoutes(agents, options)` takes; `new AgentServer()` takes these too. All optional. */
export interface AgentRoutesOptions {
  /**
   * API keys and whose they are: `{ 'sk-live-1': { userId: 'alice' } }`. With keys, every route but `/health` needs
   * `Authorization: Bearer <key>` (compared in constant time) and the key's `userId` is every run's user.
   */
  apiKeys?: Record<string, Principal>;
  /**
   * A custom scheme, tried after `apiKeys`: resolve with the caller's `{ userId }`, or `undefined` to answer 401.
   * A throw answers 500 (without its message).
   */
  authenticate?: (ctx: KoaContext) => Principal | undefined | Promise<Principal | undefined>;
  /** The largest request body, in bytes or as `'1mb'`, `'512kb'` (default `'1mb'`); a larger one answers 413. */
  bodyLimit?: number | string;
  /** Requests per principal (per client address without auth) per window; over it answers 429 with `Retry-After`. */
  rateLimit?: RateLimitOptions;
  /** Runs at once across all agents (background runs included); one more answers 503. Default: no limit. */
  maxConcurrentRuns?: number;
  /** A run on a session whose earlier run is still going waits for it (`'queue'`, default) or answers 409 (`'reject'`). */
  busySession?: 'queue' | 'reject';
  /**
   * A blocked run answers with the verdict's status (`'error'`, default: 400 or 422), or `200` with the refusal text
   * this function returns and `{ blocked: true, checkTrigger }` (on `/v1`, a normal completion whose content is the
   * refusal). The blocked text itself is never sent.
   */
  blockedResponse?: 'error' | ((info: BlockedInfo) => string);
  /**
   * How long a client may take to send its request (headers and body), in milliseconds (default 30 000); a client
   * that stalls gets 408 and its connection is closed, so it cannot hold a slot.
   */
  requestTimeoutMs?: number;
}

/** What `console: { … }` takes. */
export interface ConsoleOptions {
  /** How many recent runs the console keeps; the oldest is forgotten first (default 200). */
  maxRuns?: number;
  /** How many events it keeps per run; later events still update the run's status (default 500). */
  maxEventsPerRun?: number;
}

/** What `new AgentServer(options)` takes: the agents, and the route options. */
export interface AgentServerOptions extends AgentRoutesOptions {
  /** The agents to serve, by their `id` (two agents with one id are refused). Required. */
  agents: ServedAgent[] | readonly ServedAgent[];
  /** Listen on a host other than loopback without `apiKeys` or `authenticate` (default false: refused). */
  allowUnauthenticated?: boolean;
  /** SIGTERM and SIGINT close the server gracefully, then exit the process (default false). */
  installSignalHandlers?: boolean;
  /**
   * The run console (DESIGN §12) at `/console`, behind the server's auth: recent runs and each run's timeline, live.
   * `true` keeps the last 200 runs and 500 events per run; `{ maxRuns, maxEventsPerRun }` sets the bounds. Default
   * false. See docs/console.md.
   */
  console?: boolean | ConsoleOptions;
}

/** The route options, checked and with their defaults. */
export interface ResolvedOptions {
  apiKeys: Record<string, Principal> | undefined;
  authenticate: AgentRoutesOptions['authenticate'];
  bodyLimit: number;
  rateLimit: RateLimitOptions | undefined;
  maxConcurrentRuns: number;
  busySession: 'queue' | 'reject';
  blockedResponse: ((info: BlockedInfo) => string) | undefined;
  requestTimeoutMs: number;
}

const isAgent: Rule = is.withMethods('an Agent', 'run', 'stream', 'continueRun', 'continueStream', 'describe', 'drain');

const ROUTE_RULES = {
  apiKeys: (v: unknown) =>
    isPlainObject(v) &&
    Object.keys(v).length > 0 &&
    Object.values(v).every((p) => isPlainObject(p) && is.nonEmptyString(p['userId']) === undefined)
      ? undefined
      : "an object of at least one key, each mapped to { userId: string }, e.g. { 'sk-live-1': { userId: 'alice' } }",
  authenticate: is.function,
  bodyLimit: (v: unknown) => (parseBytes(v) !== undefined ? undefined : "a positive number of bytes or a size such as '1mb' or '512kb'"),
  rateLimit: (v: unknown) =>
    isPlainObject(v) && is.positiveInt(v['max']) === undefined && is.timeoutMs(v['windowMs']) === undefined && Object.keys(v).length === 2
      ? undefined
      : '{ max: a positive integer, windowMs: milliseconds }',
  maxConcurrentRuns: is.positiveInt,
  busySession: is.oneOf('queue', 'reject'),
  blockedResponse: (v: unknown) => (v === 'error' || typeof v === 'function' ? undefined : "'error' or a function (info) => string"),
  requestTimeoutMs: is.timeoutMs,
};

const SERVER_RULES = {
  ...ROUTE_RULES,
  agents: (v: unknown) =>
    Array.isArray(v) && v.length > 0 && v.every((a) => isAgent(a) === undefined) ? undefined : 'a non-empty array of Agent instances',
  allowUnauthenticated: is.boolean,
  installSignalHandlers: is.boolean,
  console: (v: unknown) =>
    typeof v === 'boolean' ||
    (isPlainObject(v) &&
      Object.keys(v).every((k) => k === 'maxRuns' || k === 'maxEventsPerRun') &&
      (v['maxRuns'] === undefined || is.positiveInt(v['maxRuns']) === undefined) &&
      (v['maxEventsPerRun'] === undefined || is.positiveInt(v['maxEventsPerRun']) === undefined))
      ? undefined
      : 'true, false, or { maxRuns?: a positive integer, maxEventsPerRun?: a positive integer }',
};

/** Checks `new AgentServer()`'s options; throws a `HookchainConfigError` naming the fix. */
export function checkServerOptions(options: unknown): AgentServerOptions {
  if (!isPlainObject(options)) {
    throw new HookchainConfigError(
      'INVALID_OPTION',
      `AgentServer: pass an options object, e.g. new AgentServer({ agents: [agent] }), got ${describe(options)}`,
    );
  }
  return checkOptions<AgentServerOptions>('AgentServer', options, SERVER_RULES, ['agents']) as AgentServerOptions;
}

/** Checks `agentRoutes()`'s options and the agents; resolves the defaults. */
export function resolveRouteOptions(owner: string, options: unknown): ResolvedOptions {
  const o = checkOptions<AgentRoutesOptions>(owner, options, ROUTE_RULES);
  return {
    apiKeys: o.apiKeys,
    authenticate: o.authenticate,
    bodyLimit: parseBytes(o.bodyLimit ?? '1mb')!,
    rateLimit: o.rateLimit,
    maxConcurrentRuns: o.maxConcurrentRuns ?? Infinity,
    busySession: o.busySession ?? 'queue',
    blockedResponse: typeof o.blockedResponse === 'function' ? o.blockedResponse : undefined,
    requestTimeoutMs: o.requestTimeoutMs ?? 30_000,
  };
}

/** The agents by id; refuses a list that is not Agents or that names one id twice. */
export function agentsById(owner: string, agents: unknown): ReadonlyMap<string, ServedAgent> {
  const rule = SERVER_RULES.agents(agents);
  if (rule !== undefined) throw new HookchainConfigError('INVALID_OPTION', `${owner}: agents must be ${rule}, got ${describe(agents)}`);
  const byId = new Map<string, ServedAgent>();
  for (const agent of agents as ServedAgent[]) {
    if (byId.has(agent.id)) {
      throw new HookchainConfigError(
        'DUPLICATE_AGENT',
        `${owner}: two agents have the id "${agent.id}"; routes and sessions are keyed on it, so give one of them another id (new Agent({ id }))`,
      );
    }
    byId.set(agent.id, agent);
  }
  return byId;
}

const UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** `'1mb'` → 1048576; a positive integer stays as it is; anything else is undefined. */
export function parseBytes(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(value);
  if (m === null) return undefined;
  const bytes = Math.floor(Number(m[1]) * UNITS[(m[2] ?? 'b').toLowerCase()]!);
  return bytes > 0 ? bytes : undefined;
}
