/**
 * Per-run overhead of the onion with an instant model, beside floors measured in the same process:
 * a bare model call, a hand-written loop that awaits the same hooks, and raw koa-compose with the same layers.
 */
import compose from 'koa-compose';
import { Agent, hook, type Model } from 'hookchain';
import { buildMessages } from '../lib/models/messages.ts';
import { gc, medianNs, type Row, us } from './harness.ts';

const NEVER = new AbortController().signal;
const instant: Model = { id: 'instant', invoke: () => Promise.resolve({ content: 'ok', usage: { inputTokens: 1, outputTokens: 1 } }) };

// The hooks under test: the cheapest possible bodies, so the numbers are the framework's cost.
const syncHook = (_args: unknown) => {};
const asyncHook = async (_args: unknown) => {};

function agentWith(n: number, kind: 'sync' | 'async', model: Model = instant): Agent {
  const fn = kind === 'sync' ? syncHook : asyncHook;
  // One function under many names (names are unique per phase); the chain calls the function itself, not a wrapper.
  const named = (phase: string) => Array.from({ length: n }, (_, i) => hook({ name: `${phase}${i}` })(fn));
  return new Agent({ model, preHooks: named('pre'), postHooks: named('post') });
}

/** The plain loop a user would write by hand around the model. */
function handLoop(n: number, kind: 'sync' | 'async') {
  const fns = Array.from({ length: 2 * n }, () => (kind === 'sync' ? syncHook : asyncHook));
  const pre = fns.slice(0, n);
  const post = fns.slice(n);
  return async () => {
    const ctx = { input: { inputContent: 'hi' }, output: { content: '' } };
    for (const f of pre) await f(ctx);
    ctx.output.content = (
      await instant.invoke({ messages: buildMessages(undefined, undefined, ctx.input), signal: NEVER, runId: '' })
    ).content;
    for (const f of post) await f(ctx);
  };
}

/** Raw koa-compose: the same hooks, one layer each, plus the model as the terminal layer. */
function rawCompose(n: number, kind: 'sync' | 'async') {
  const fn = kind === 'sync' ? syncHook : asyncHook;
  type Ctx = { input: { inputContent: string }; output: { content: string } };
  const layers: ((ctx: Ctx, next: () => Promise<void>) => Promise<void>)[] = [];
  for (let i = 0; i < n; i++)
    layers.push(async (ctx, next) => {
      await next();
      await fn(ctx);
    });
  for (let i = 0; i < n; i++)
    layers.push(async (ctx, next) => {
      await fn(ctx);
      await next();
    });
  layers.push(async (ctx) => {
    ctx.output.content = (
      await instant.invoke({ messages: buildMessages(undefined, undefined, ctx.input), signal: NEVER, runId: '' })
    ).content;
  });
  const chain = compose(layers);
  return () => chain({ input: { inputContent: 'hi' }, output: { content: '' } });
}

export async function benchCore(): Promise<{ overhead: Row[]; perHook: Row[]; memory: Row[] }> {
  const overhead: Row[] = [];
  const results: Record<string, Record<number, { ours: number; loop: number; koa: number }>> = { sync: {}, async: {} };
  const bare = await medianNs(() =>
    instant.invoke({ messages: buildMessages(undefined, undefined, { inputContent: 'hi' }), signal: NEVER, runId: '' }),
  );
  // A discarded pass, so the first configuration measured is not the one that pays for JIT warm-up.
  for (const kind of ['sync', 'async'] as const) {
    const warm = agentWith(10, kind);
    await medianNs(() => warm.run('hi'), { rounds: 3 });
  }
  for (const kind of ['sync', 'async'] as const) {
    for (const n of [0, 1, 10, 100]) {
      const perRound = n === 100 ? 300 : 2_000;
      const agent = agentWith(n, kind);
      const ours = await medianNs(() => agent.run('hi'), { perRound });
      const loop = await medianNs(handLoop(n, kind), { perRound });
      const koa = await medianNs(rawCompose(n, kind), { perRound });
      results[kind]![n] = { ours, loop, koa };
      overhead.push({
        hooks: `${n} pre + ${n} post (${kind})`,
        'hookchain µs/run': us(ours),
        'hand loop µs': us(loop),
        'koa-compose µs': us(koa),
        'bare model call µs': us(bare),
        '× loop': ours / loop,
        '× koa-compose': ours / koa,
      });
    }
  }
  // Per-hook cost: the slope from 0 to 100 hooks of each kind (200 hooks), fixed costs cancel out.
  const perHook: Row[] = [];
  for (const kind of ['sync', 'async'] as const) {
    const r = results[kind]!;
    const slope = (key: 'ours' | 'loop' | 'koa') => (r[100]![key] - r[0]![key]) / 200;
    perHook.push({
      hook: kind,
      'hookchain ns/hook': slope('ours'),
      'hand loop ns/hook': slope('loop'),
      'koa-compose ns/hook': slope('koa'),
      '× loop': slope('ours') / slope('loop'),
      '× koa-compose': slope('ours') / slope('koa'),
      target: kind === 'sync' ? '≤ 3× loop' : '≤ 1.3× koa-compose',
    });
  }
  const zero = results['sync']![0]!;
  perHook.push({
    hook: 'fixed (N = 0)',
    'hookchain ns/hook': zero.ours,
    'hand loop ns/hook': zero.loop,
    'koa-compose ns/hook': zero.koa,
    '× loop': zero.ours / bare,
    '× koa-compose': zero.ours / zero.koa,
    target: '≤ 2× bare model call (× loop column: × bare call)',
  });
  return { overhead, perHook, memory: [await heapPerRun()] };
}

/** Heap held by one in-flight run (10 hooks each side), measured with 5,000 runs parked in the model. */
async function heapPerRun(): Promise<Row> {
  const parked: (() => void)[] = [];
  const model: Model = { id: 'parked', invoke: () => new Promise((resolve) => parked.push(() => resolve({ content: 'ok' }))) };
  const agent = agentWith(10, 'async', model);
  const count = 5_000;
  const warm = agent.run('warm');
  await new Promise((r) => setTimeout(r, 5));
  parked.splice(0).forEach((release) => release());
  await warm;
  gc();
  const before = process.memoryUsage().heapUsed;
  const runs = Array.from({ length: count }, (_, i) => agent.run(`in-flight ${i}`));
  await new Promise((r) => setTimeout(r, 20));
  gc();
  const during = process.memoryUsage().heapUsed;
  for (const release of parked) release();
  await Promise.all(runs);
  return { measure: 'heap per in-flight run (10+10 async hooks)', bytes: Math.round((during - before) / count), runs: count };
}
