/**
 * Streaming costs: what sync chunk checks add per chunk beyond iterating the model's chunks, whether total time
 * stays linear in the output length with a check that holds back a tail, and — over loopback HTTP — what
 * `agent.stream()` with `OpenAIChat` adds per chunk over iterating the bare `openai` client's stream.
 *
 * Alone: node --conditions=hookchain-source --disable-warning=ExperimentalWarning --expose-gc bench/streaming.ts
 */
import { Agent, hook, OpenAIChat, type ChunkCheckArgs, type Model } from 'hookchain';
import { startFakeOpenAI } from 'hookchain/testing';
import { ReleasePipeline } from '../lib/streaming/release.ts';
import { compileHooks } from '../lib/hooks/compile.ts';
import type { HookRun } from '../lib/hooks/run-hook.ts';
import { isMain, median, printTable, type Row, target } from './harness.ts';
import { PROMPT_1K } from './fixtures.ts';

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

/**
 * Over loopback HTTP, against `startFakeOpenAI()`: the bare `openai` client iterating its stream (reading each
 * delta, nothing else) vs `agent.stream()` with `OpenAIChat` and no hooks on the same server, client and content.
 * Same request body on both sides (stream_options.include_usage, as OpenAIChat asks). Interleaved, medians.
 */
export async function benchStreamingHttp(): Promise<{ rows: Row[]; targets: Row[] }> {
  const fake = await startFakeOpenAI();
  const client = fake.client();
  const agent = new Agent({ model: new OpenAIChat({ id: 'bench', client }) });
  const chunkSize = 8;
  const bare = async () => {
    const stream = await client.chat.completions.create({
      model: 'bench',
      messages: [{ role: 'user', content: PROMPT_1K }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let chars = 0;
    for await (const chunk of stream) chars += chunk.choices[0]?.delta?.content?.length ?? 0;
    return chars;
  };
  const ours = async () => {
    let chars = 0;
    for await (const event of agent.stream(PROMPT_1K)) if (event.type === 'content') chars += event.delta.length;
    return chars;
  };
  const time = async (op: () => Promise<number>, expected: number) => {
    const start = process.hrtime.bigint();
    const chars = await op();
    const ns = Number(process.hrtime.bigint() - start);
    if (chars !== expected) throw new Error(`streamed ${chars} characters, expected ${expected}`);
    return ns;
  };
  const result: Record<number, { bare: number; ours: number; diff: number }> = {};
  try {
    for (const length of [10_000, 100_000]) {
      fake.setReply({ content: 'abcdefg '.repeat(length / 8), chunkSize });
      const samples = { bare: [] as number[], ours: [] as number[], diff: [] as number[] };
      const rounds = length === 10_000 ? 25 : 9;
      for (let r = -2; r < rounds; r++) {
        // Alternate which side goes first; the first two rounds are warm-up.
        const order = r % 2 === 0 ? (['bare', 'ours'] as const) : (['ours', 'bare'] as const);
        for (const side of order) {
          const ns = await time(side === 'bare' ? bare : ours, length);
          if (r >= 0) samples[side].push(ns);
        }
        // Paired: this round's agent time minus this round's bare time, so slow spells cancel within the pair.
        if (r >= 0) samples.diff.push(samples.ours.at(-1)! - samples.bare.at(-1)!);
        fake.requests.length = 0; // the fake server records every request; keep the heap flat
      }
      result[length] = { bare: median(samples.bare), ours: median(samples.ours), diff: median(samples.diff) };
    }
  } finally {
    await fake.close();
  }
  const rows: Row[] = [];
  for (const length of [10_000, 100_000]) {
    const { bare: b, ours: o, diff } = result[length]!;
    const chunks = length / chunkSize;
    rows.push({
      'output chars': length,
      chunks,
      'bare client ms': b / 1e6,
      'agent.stream ms': o / 1e6,
      'bare µs/chunk': b / chunks / 1e3,
      'agent µs/chunk': o / chunks / 1e3,
      'overhead µs/chunk (median of paired differences)': diff / chunks / 1e3,
      '× bare': o / b,
    });
  }
  const big = result[100_000]!;
  const small = result[10_000]!;
  const chunks = 100_000 / chunkSize;
  const targets = [
    target({
      name: 'streaming ≤ 0.6 µs per chunk over the bare client (100k chars, 8-char chunks)',
      measured: big.diff / chunks / 1e3,
      unit: 'µs',
      difference: true,
      floor: { label: 'bare client per chunk', value: big.bare / chunks / 1e3 },
      limit: 0.6,
      ifMissed:
        'each chunk crosses three promise hops the bare loop does not (the model iterator, the run loop, the hand-off to the consumer); a pull-based stream would remove two',
    }),
    target({
      name: 'streaming grows like the bare client: (100k ÷ 10k time) ≤ 1.2× the bare ratio',
      measured: big.ours / small.ours,
      unit: '',
      floor: { label: 'bare client 100k ÷ 10k', value: big.bare / small.bare },
      on: 'ratio',
      limit: 1.2,
    }),
  ];
  return { rows, targets };
}

export function printStreaming(r: { perChunk: Row[]; linear: Row[] }, http: { rows: Row[]; targets: Row[] }): void {
  printTable('Streaming: cost per chunk of sync chunk checks', r.perChunk);
  printTable('Streaming: total time by output length (1 chunk check with hold-back)', r.linear);
  printTable('Streaming over loopback HTTP: agent.stream() with OpenAIChat vs the bare openai client', http.rows);
  printTable('Targets: streaming', http.targets);
}

if (isMain(import.meta.url)) printStreaming(await benchStreaming(), await benchStreamingHttp());
