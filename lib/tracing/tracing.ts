/**
 * `AgentOptions.tracing`: validated when the agent is built, and only then is `@opentelemetry/api` loaded (an
 * optional peer dependency: `import('hookchain')` never loads it). An agent without tracing has no `Tracing`, and
 * its runs pay one field check per step.
 */
import { createRequire } from 'node:module';
import type * as Api from '@opentelemetry/api';
import { HookchainConfigError } from '../errors.ts';
import { checkOptions, describe, is } from '../options.ts';
import { A, SPAN_KIND_INTERNAL } from './attributes.ts';
import { RunTrace } from './run-trace.ts';
import type { TracingOptions } from './types.ts';

/** The peer range in package.json, repeated in the install hint. */
export const OTEL_API_PEER_RANGE = '^1.9.0';

const RULES = {
  tracer: is.withMethods("an OpenTelemetry Tracer, such as trace.getTracer('my-app') of @opentelemetry/api", 'startSpan'),
  captureContent: is.boolean,
};

/** What a run tells its tracing when it starts. */
export interface RunStart {
  readonly runId: string;
  readonly sessionId: string;
  readonly model: string;
  readonly resumed: boolean;
  /** When the run began (`performance.now()`), or undefined for now. */
  readonly startedAt: number | undefined;
}

/** An agent's tracing: the tracer, the API it came from, and what the spans may record. */
export class Tracing {
  readonly api: typeof Api;
  readonly tracer: Api.Tracer;
  readonly captureContent: boolean;
  private readonly agentName: string;
  private readonly agentId: string;
  private readonly rootName: string;
  /**
   * The default tracer's global provider and the API's no-op provider: while no provider is registered, a run
   * skips even the no-op root span (context lookup, span object), which would cost more than the 3% allowed.
   */
  private readonly proxy: Api.ProxyTracerProvider | undefined;
  private readonly noop: Api.TracerProvider | undefined;

  constructor(
    api: typeof Api,
    tracer: Api.Tracer,
    captureContent: boolean,
    agent: { name: string; id: string },
    proxy?: Api.ProxyTracerProvider,
  ) {
    this.api = api;
    this.tracer = tracer;
    this.captureContent = captureContent;
    this.agentName = agent.name;
    this.agentId = agent.id;
    this.rootName = `invoke_agent ${agent.name}`;
    this.proxy = proxy;
    // A fresh proxy's delegate is the API's no-op provider singleton.
    this.noop = proxy === undefined ? undefined : new api.ProxyTracerProvider().getDelegate();
  }

  /**
   * The run's root span, a child of whatever span is active where the run was started. Undefined when the span
   * records nothing (no provider registered, or sampled out): then nothing of the run is traced at all.
   */
  startRun(start: RunStart): RunTrace | undefined {
    if (this.proxy !== undefined && this.proxy.getDelegate() === this.noop) return undefined;
    const api = this.api;
    const parent = api.context.active();
    const root = this.tracer.startSpan(
      this.rootName,
      {
        kind: SPAN_KIND_INTERNAL,
        startTime: start.startedAt === undefined ? undefined : timeOrigin + start.startedAt,
        attributes: {
          [A.operation]: 'invoke_agent',
          [A.agentName]: this.agentName,
          [A.agentId]: this.agentId,
          [A.conversationId]: start.sessionId,
          [A.requestModel]: start.model,
          [A.runId]: start.runId,
          [A.resumed]: start.resumed,
        },
      },
      parent,
    );
    if (!root.isRecording()) return undefined;
    return new RunTrace(this, root, api.trace.setSpan(parent, root));
  }
}

/** Validates `AgentOptions.tracing` and, when it is on, loads `@opentelemetry/api`. */
export function createTracing(option: unknown, owner: string, agent: { name: string; id: string }): Tracing | undefined {
  if (option === undefined || option === false) return undefined;
  if (option !== true && (option === null || typeof option !== 'object' || Array.isArray(option))) {
    throw new HookchainConfigError(
      'INVALID_OPTION',
      `${owner}: option "tracing" must be true, false or { tracer?, captureContent? }, got ${describe(option)}`,
    );
  }
  const opts = option === true ? {} : checkOptions<TracingOptions>(`${owner} option "tracing"`, option, RULES);
  const api = loadApi(owner);
  const captureContent = opts.captureContent === true;
  if (opts.tracer !== undefined) return new Tracing(api, opts.tracer as Api.Tracer, captureContent, agent);
  // `trace.getTracer()` of the global API, as the provider it comes from: the provider registered later gets the spans.
  const provider = api.trace.getTracerProvider();
  const tracer = provider.getTracer('hookchain', packageVersion());
  return new Tracing(api, tracer, captureContent, agent, provider instanceof api.ProxyTracerProvider ? provider : undefined);
}

/** `performance.timeOrigin` is a getter that costs as much as a span; it never changes. */
const timeOrigin = performance.timeOrigin;

let loaded: typeof Api | undefined;

/** `@opentelemetry/api`, loaded once, synchronously (its package is CommonJS for `import` and `require` alike). */
function loadApi(owner: string): typeof Api {
  if (loaded !== undefined) return loaded;
  try {
    loaded = createRequire(import.meta.url)('@opentelemetry/api') as typeof Api;
    return loaded;
  } catch (error) {
    const missing = (error as { code?: string })?.code === 'MODULE_NOT_FOUND';
    throw new HookchainConfigError(
      'MISSING_DEPENDENCY',
      missing
        ? `${owner}: tracing needs the @opentelemetry/api package, an optional peer dependency of hookchain: npm install @opentelemetry/api@"${OTEL_API_PEER_RANGE}"`
        : `${owner}: the @opentelemetry/api package failed to load (${(error as Error)?.message}); reinstall it with npm install @opentelemetry/api@"${OTEL_API_PEER_RANGE}"`,
      { cause: error },
    );
  }
}

let version: string | undefined;

/** hookchain's version, for the default tracer's instrumentation scope (lib/ and dist/ sit one level below it). */
function packageVersion(): string {
  return (version ??= (createRequire(import.meta.url)('../../package.json') as { version: string }).version);
}
