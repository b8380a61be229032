/**
 * Background hooks as spans: each job of a traced run gets its own span (`hook <name>`, kind `background`), in a
 * trace of its own, linked to the run's root span (the run has usually ended before the job starts). The reporter
 * the agent hands its queue is wrapped, so any executor that calls it (the DrainQueue, your own) is traced.
 */
import type * as Api from '@opentelemetry/api';
import type { BackgroundFailureReason, BackgroundJob, BackgroundReporter } from '../background/executor.ts';
import { errorSummary } from '../errors.ts';
import { A, SPAN_KIND_INTERNAL, STATUS_ERROR } from './attributes.ts';
import type { Tracing } from './tracing.ts';

export function tracedReporter(inner: BackgroundReporter, tracing: Tracing): BackgroundReporter {
  const open = new WeakMap<BackgroundJob, Api.Span>();
  const start = (job: BackgroundJob, startTime?: number): Api.Span | undefined => {
    const link = job.spanContext;
    if (link === undefined) return undefined; // the run was not recorded (sampled out): neither are its jobs
    const phase = (job.args as { phase?: unknown } | undefined)?.phase;
    return tracing.tracer.startSpan(
      `hook ${job.hookName}`,
      {
        kind: SPAN_KIND_INTERNAL,
        startTime,
        links: [{ context: link as Api.SpanContext }],
        attributes: {
          [A.hookName]: job.hookName,
          [A.phase]: typeof phase === 'string' ? phase : 'post',
          [A.kind]: 'background',
          [A.runId]: job.runId,
        },
      },
      tracing.api.ROOT_CONTEXT,
    );
  };
  const take = (job: BackgroundJob, durationMs?: number): Api.Span | undefined => {
    const span = open.get(job);
    if (span !== undefined) {
      open.delete(job);
      return span;
    }
    // An executor that reported no start: the span ends now, and began durationMs ago when that is known.
    return start(job, durationMs === undefined ? undefined : Date.now() - durationMs);
  };
  const wants = () => inner.wantsProgress === undefined || inner.wantsProgress() !== false;
  return {
    // The spans need `started` and `completed` whether or not anybody listens to the events.
    wantsProgress: () => true,
    started(job, jobId) {
      const span = start(job);
      if (span !== undefined) open.set(job, span);
      if (wants()) inner.started(job, jobId);
    },
    completed(job, jobId, durationMs) {
      const span = take(job, durationMs);
      if (span !== undefined) {
        span.setAttribute(A.outcome, 'passed');
        span.end();
      }
      if (wants()) inner.completed(job, jobId, durationMs);
    },
    failed(job, jobId, error, reason: BackgroundFailureReason) {
      const span = take(job);
      if (span !== undefined) {
        const name = errorSummary(error).name;
        span.setAttributes({ [A.outcome]: 'error', [A.errorType]: name, [A.backgroundFailure]: reason });
        span.setStatus({ code: STATUS_ERROR, message: `${name} (${reason})` });
        span.end();
      }
      inner.failed(job, jobId, error, reason);
    },
  };
}
