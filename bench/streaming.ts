/**
 * Streaming costs: what sync chunk checks add per chunk beyond iterating the model's chunks, and whether total
 * time stays linear in the output length with a check that holds back a tail.
 */
import { Agent, hook, type ChunkCheckArgs, type Model } from 'hookchain';
import { ReleasePipeline } from '../lib/streaming/release.ts';
import { compileHooks } from '../lib/hooks/compile.ts';
import type { HookRun } from '../lib/hooks/run-hook.ts';
import { median, type Row } from './harness.ts';

const NEVER = new AbortController().signal;

function chunkedModel(chunks: number, size: number): Model {
  const piece = 'abcdefgh'.repeat(Math.ceil(size / 8)).slice(0, size);
  return {
    id: 'chunked',
    invoke: () => Promise.resolve({ content: piece.repeat(chunks) }),
    async *stream() {
      for (let i = 0; i < chunks; i++) yield { delta: piece };
    },
  };
}

const passCheck = (i: number) => hook({ everyChunk: true, name: `pass${i}` })((_args: ChunkCheckArgs) => undefined);
/** Holds a trailing run of digits, as a card-number mask would. */
const holdDigits = hook({ everyChunk: true, name: 'holdDigits' })(({ text, final }: ChunkCheckArgs) => {
  if (final) return undefined;
  let hold = 0;
  while (hold < text.length && text.charCodeAt(text.length - 1 - hold) - 48 < 10) hold++;
  return { hold };
});

async function timeStream(agent: Agent, rounds: number): Promise<number> {
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    for await (const _ of agent.stream('x')) {
      // consume every event, as a server writing SSE would
    }
    samples.push(Number(process.hrtime.bigint() - start));
  }
  return median(samples);
}

async function timeFloor(model: Model, rounds: number): Promise<number> {
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    for await (const _ of model.stream!({ messages: [], signal: NEVER, runId: '' })) {
      // the floor: iterating the chunks, nothing else
    }
    samples.push(Number(process.hrtime.bigint() - start));
  }
  return median(samples);
}

export async function benchStreaming(): Promise<{ perChunk: Row[]; linear: Row[] }> {
  const chunks = 20_000;
  const model = chunkedModel(chunks, 8);
  const floor = await timeFloor(model, 9);
  const perChunk: Row[] = [];
  let base = 0;
  for (const n of [0, 1, 10]) {
    const agent = new Agent({ model, postHooks: Array.from({ length: n }, (_, i) => passCheck(i)) });
    await timeStream(agent, 2);
    const t = await timeStream(agent, 9);
    if (n === 0) base = t;
    perChunk.push({
      'sync chunk checks': `${n} (whole stream, noisy)`,
      'ns/chunk (whole stream)': t / chunks,
      'floor: iterate chunks ns/chunk': floor / chunks,
      'ns/chunk/check beyond 0 checks': n === 0 ? 0 : (t - base) / chunks / n,
      target: '≤ 10 ns/chunk/check',
    });
  }
  // The release pipeline alone, sync: what each check adds per chunk without the stream's event machinery
  // (about a microsecond a chunk of promises and event objects) drowning it in noise.
  const pieces = Array.from({ length: 1_000 }, (_, i) => `chunk ${i} `);
  const fakeRun = { runId: 'bench', signal: NEVER } as unknown as HookRun;
  let loopBase = 0;
  for (const n of [0, 1, 10]) {
    const hooks = compileHooks(
      Array.from({ length: n }, (_, i) => passCheck(i)),
      'post',
      { allInBackground: false },
    );
    const samples: number[] = [];
    for (let round = 0; round < 25; round++) {
      const pipeline = new ReleasePipeline(hooks, fakeRun, {} as never);
      const start = process.hrtime.bigint();
      for (let rep = 0; rep < 100; rep++) for (const piece of pieces) void pipeline.push(piece, false); // sync checks: a string, never a promise
      samples.push(Number(process.hrtime.bigint() - start) / (100 * pieces.length));
    }
    const t = median(samples);
    if (n === 0) loopBase = t;
    perChunk.push({
      'sync chunk checks': `${n} (pipeline alone)`,
      'ns/chunk (whole stream)': t,
      'floor: iterate chunks ns/chunk': loopBase,
      'ns/chunk/check beyond 0 checks': n === 0 ? 0 : (t - loopBase) / n,
      target: '≤ 10 ns/chunk/check',
    });
  }

  const linear: Row[] = [];
  let t100k = 0;
  for (const length of [10_000, 100_000, 1_000_000]) {
    const agent = new Agent({ model: chunkedModel(length / 8, 8), postHooks: [holdDigits] });
    await timeStream(agent, 1);
    const t = await timeStream(agent, 5);
    if (length === 100_000) t100k = t;
    linear.push({
      'output chars': length,
      'ms (median of 5)': t / 1e6,
      'µs per 1k chars': t / length,
      '× the 100k time': t100k ? t / t100k : '',
    });
  }
  return { perChunk, linear };
}
