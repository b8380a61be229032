/**
 * What tracing costs a run (issue 16): the same agent with tracing off, with tracing on but no tracer provider
 * registered (the global API's no-op tracer: what an app that never set up OpenTelemetry pays), and with the SDK's
 * in-memory exporter (every span recorded and exported), at N = 0 and N = 10 pre + 10 post hooks. Interleaved
 * medians; the no-provider overhead is judged as a ratio to tracing off.
 *
 * Alone: node --conditions=hookchain-source --disable-warning=ExperimentalWarning --expose-gc bench/tracing.ts
 */
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Agent, hook, type Model, type TracingOptions } from 'hookchain';
import { createTracing } from '../lib/tracing/tracing.ts';
import { ConsoleRecorder } from '../lib/server/console/recorder.ts';
import { interleavedNs, isMain, median, printTable, target, us, type Row } from './harness.ts';

const instant: Model = { id: 'instant', invoke: () => Promise.resolve({ content: 'ok', usage: { inputTokens: 1, outputTokens: 1 } }) };
const asyncHook = async (_args: unknown) => {};

function agentWith(n: number, tracing: boolean | TracingOptions | undefined): Agent {
  const named = (phase: string) => Array.from({ length: n }, (_, i) => hook({ name: `${phase}${i}` })(asyncHook));
  return new Agent({ model: instant, preHooks: named('pre'), postHooks: named('post'), tracing });
}

export interface TracingBench {
  rows: Row[];
  targets: Row[];
}

export async function benchTracing(): Promise<TracingBench> {
  const exporter = new InMemorySpanExporter();
  const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer('bench');
  const rows: Row[] = [];
  const targets: Row[] = [];
  for (const n of [0, 10]) {
    const off = agentWith(n, undefined);
    const api = agentWith(n, true); // no provider registered: the global API's no-op tracer
    const sdk = agentWith(n, { tracer });
    // The recording agent is measured in its own interleave: its garbage (every span kept until exported) would
    // otherwise land on the two cheap configurations' rounds.
    const m = await interleavedNs({ off: () => off.run('hi'), api: () => api.run('hi') }, { perRound: n === 0 ? 2_000 : 1_000 });
    let runs = 0;
    const s = await interleavedNs(
      {
        off: () => off.run('hi'),
        sdk: () => {
          // Kept bounded: the exporter would otherwise hold every span of the benchmark.
          if (++runs % 200 === 0) exporter.reset();
          return sdk.run('hi');
        },
      },
      { perRound: 500, rounds: 9, warmup: 500 },
    );
    const hooks = `${n} pre + ${n} post (async)`;
    rows.push(
      { hooks, tracing: 'off', 'µs/run': us(m.off), '× off': 1 },
      { hooks, tracing: 'on, no provider registered', 'µs/run': us(m.api), '× off': m.api / m.off },
      { hooks, tracing: 'on, SDK + in-memory exporter', 'µs/run': us(s.sdk), '× off': s.sdk / s.off },
    );
  }
  exporter.reset();
  // The one thing a traced run does that an untraced one does not, while no provider is registered, timed alone:
  // whole-run medians on a shared machine cannot resolve a few nanoseconds.
  const tracing = createTracing(true, 'bench', { name: 'bench', id: 'bench' })!;
  const start = { runId: 'r', sessionId: 's', model: 'm', resumed: false, startedAt: 0 };
  const samples: number[] = [];
  for (let r = 0; r < 9; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 1_000_000; i++) tracing.startRun(start);
    samples.push(Number(process.hrtime.bigint() - t0) / 1_000_000);
  }
  const offZero = Number(rows[0]!['µs/run']) * 1_000;
  rows.push({
    hooks: 'any',
    tracing: 'on, no provider: the per-run check alone',
    'µs/run': median(samples) / 1_000,
    '× off': (offZero + median(samples)) / offZero,
  });
  targets.push(
    target({
      name: 'tracing on with no provider ≤ 1.03× tracing off (its per-run check ÷ an untraced run at N = 0)',
      measured: median(samples),
      unit: 'ns',
      floor: { label: 'untraced run, N = 0', value: offZero },
      on: 'ratio',
      limit: 0.03,
      ifMissed: 'the check is one provider lookup and a comparison; see the whole-run rows for what the machine allowed',
    }),
  );
  rows.push(recorderRow());
  return { rows, targets };
}

/**
 * The run console's recorder (hookchain/server): nanoseconds per recorded event, over whole runs' worth of events
 * (started, six hook events, model request started and completed, completed), with the default bounds, so runs are
 * evicted as they would be on a busy server.
 */
function recorderRow(): Row {
  const recorder = new ConsoleRecorder();
  const events = 10;
  const samples: number[] = [];
  let id = 0;
  for (let r = 0; r < 9; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 20_000; i++) {
      const runId = `run-${id++}`;
      recorder.record('run_started', { runId, agentId: 'a', agentName: 'a', sessionId: 's', userId: undefined });
      for (const hookName of ['pii', 'injection', 'length']) {
        recorder.record('pre_hook_started', { runId, hookName });
        recorder.record('pre_hook_completed', { runId, hookName });
      }
      recorder.record('model_request_started', { runId, model: 'm', messageCount: 1, stream: false });
      recorder.record('model_request_completed', { runId, model: 'm', durationMs: 1, inputTokens: 1, outputTokens: 1 });
      recorder.record('run_completed', { runId, output: { status: 'completed', metrics: { durationMs: 1 } } as never });
    }
    samples.push(Number(process.hrtime.bigint() - t0) / (20_000 * events));
  }
  recorder.detach();
  return { hooks: '—', tracing: 'run console recorder: per recorded event', 'µs/run': median(samples) / 1_000, '× off': '—' };
}

export const TRACING_TITLE = 'Tracing: run overhead with an instant model (interleaved medians)';

if (isMain(import.meta.url)) {
  const { rows, targets } = await benchTracing();
  printTable(TRACING_TITLE, rows);
  printTable('Targets: tracing (issue 16)', targets);
}
