/**
 * The public shape of `AgentOptions.tracing`, and the few OpenTelemetry shapes hookchain touches, declared here
 * structurally: `@opentelemetry/api` is an optional peer dependency, so no public type may need it installed.
 * A real `Tracer` from `@opentelemetry/api` fits `Tracer` here.
 */

/**
 * An OpenTelemetry tracer, as `trace.getTracer(name, version)` of `@opentelemetry/api` returns it (or a provider's
 * `getTracer()`). Declared by the one method hookchain calls, so any real tracer fits.
 */
export interface Tracer {
  /**
   * Starts a span (`Tracer.startSpan` of `@opentelemetry/api`).
   *
   * @param name The span's name.
   * @param options Its kind, attributes, links and start time.
   * @param context The context whose span is the parent.
   */
  startSpan(name: string, options?: object, context?: unknown): unknown;
}

/** `AgentOptions.tracing` as an object; `tracing: true` is `{}`. */
export interface TracingOptions {
  /** Where the spans go (default: `trace.getTracer('hookchain', version)` of the global API: the registered provider). */
  tracer?: Tracer;
  /**
   * Record message content: the run's input (as the pre-hooks left it) and answer on the `invoke_agent` span, a tool
   * call's arguments and result on its `execute_tool` span, and errors' messages. Default false. Content a check
   * blocked is never recorded, whatever this says.
   */
  captureContent?: boolean;
}

/** A span's identity, for links (the `SpanContext` of `@opentelemetry/api`). */
export interface SpanContextLike {
  readonly traceId: string;
  readonly spanId: string;
  readonly traceFlags: number;
}

/** How a hook span ended (`hookchain.hook.outcome`). */
export type HookOutcome = 'passed' | 'blocked' | 'failed_open' | 'error';
