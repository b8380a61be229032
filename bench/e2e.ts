/**
 * End to end over loopback HTTP, against `startFakeOpenAI()`: the bare `openai` client vs `OpenAIChat` through an
 * agent with no hooks, with 10 + 10 no-op async hooks, and with the example's guardrail stack; plain and streaming.
 * Every configuration sends the same 1 KB prompt and gets the same 1 KB answer (64 chunks of 16 characters when
 * streaming). Requests are sequential, every configuration once a round in a shuffled order, so drift on the shared machine
 * spreads over all rows alike. p50/p99 per row; the overhead is the p50 difference to the bare client.
 *
 * Alone: node --conditions=hookchain-source --disable-warning=ExperimentalWarning --expose-gc bench/e2e.ts
 */
import { Agent, hook, OpenAIChat } from 'hookchain';
import { startFakeOpenAI } from 'hookchain/testing';
import type OpenAI from 'openai';
import { exampleStack, PROMPT_1K, REPLY_1K } from './fixtures.ts';
import { isMain, percentile, printTable, type Row, seeded, shuffled, us } from './harness.ts';

const ROUNDS = 400;
const WARMUP = 40;

const noop = async (_args: unknown) => {};
const noopHooks = (phase: string) => Array.from({ length: 10 }, (_, i) => hook({ name: `${phase}${i}` })(noop));

function bare(client: OpenAI, streaming: boolean): () => Promise<string> {
  const messages = [{ role: 'user' as const, content: PROMPT_1K }];
  if (!streaming) {
    return async () =>
      (await client.chat.completions.create({ model: 'bench', messages, stream: false })).choices[0]?.message.content ?? '';
  }
  return async () => {
    // The same body OpenAIChat sends when streaming (it always asks for usage).
    const stream = await client.chat.completions.create({
      model: 'bench',
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    return text;
  };
}

function through(agent: Agent, streaming: boolean): () => Promise<string> {
  if (!streaming) return async () => (await agent.run(PROMPT_1K)).content ?? '';
  return async () => {
    let text = '';
    for await (const event of agent.stream(PROMPT_1K)) if (event.type === 'content') text += event.delta;
    return text;
  };
}

export async function benchE2E(): Promise<Row[]> {
  const fake = await startFakeOpenAI({ reply: { content: REPLY_1K, chunkSize: 16 } });
  const client = fake.client();
  const model = new OpenAIChat({ id: 'bench', client });
  const agents = {
    'agent, 0 hooks': new Agent({ model }),
    'agent, 10 + 10 no-op async hooks': new Agent({ model, preHooks: noopHooks('pre'), postHooks: noopHooks('post') }),
    'agent, example guardrail stack': new Agent({ model, ...exampleStack() }),
  };
  const configs: { name: string; streaming: boolean; op: () => Promise<string> }[] = [];
  for (const streaming of [false, true]) {
    configs.push({ name: 'bare openai client', streaming, op: bare(client, streaming) });
    for (const [name, agent] of Object.entries(agents))
      configs.push({ name: `OpenAIChat, ${name}`, streaming, op: through(agent, streaming) });
  }
  const samples = configs.map(() => [] as number[]);
  const random = seeded(11);
  const indexes = configs.map((_, i) => i);
  try {
    for (let r = -WARMUP; r < ROUNDS; r++) {
      // Every configuration once a round, in a fresh order: a fixed cycle would always put the same neighbour (and
      // its garbage) before each one, which measured the bare client 2–17% slower than the agent around it.
      for (const i of shuffled(indexes, random)) {
        const start = process.hrtime.bigint();
        const text = await configs[i]!.op();
        const ns = Number(process.hrtime.bigint() - start);
        if (text !== REPLY_1K) throw new Error(`${configs[i]!.name}: unexpected answer (${text.length} characters)`);
        if (r >= 0) samples[i]!.push(ns);
      }
      fake.requests.length = 0; // the fake server records every request; keep the heap flat
    }
  } finally {
    await fake.close();
  }
  const rows: Row[] = [];
  for (const streaming of [false, true]) {
    const base = configs.findIndex((c) => c.streaming === streaming && c.name === 'bare openai client');
    const baseP50 = percentile(samples[base]!, 50);
    configs.forEach((c, i) => {
      if (c.streaming !== streaming) return;
      const p50 = percentile(samples[i]!, 50);
      rows.push({
        mode: streaming ? 'stream' : 'plain',
        configuration: c.name,
        'p50 µs': us(p50),
        'p99 µs': us(percentile(samples[i]!, 99)),
        'overhead p50 µs': i === base ? '—' : us(p50 - baseP50),
        'overhead %': i === base ? '—' : `${(((p50 - baseP50) / baseP50) * 100).toFixed(1)}%`,
      });
    });
  }
  return rows;
}

export const E2E_TITLE = `End to end over loopback HTTP (fake OpenAI server, 1 KB prompt, 1 KB answer; ${ROUNDS} requests per row, round-robin in shuffled order)`;

if (isMain(import.meta.url)) printTable(E2E_TITLE, await benchE2E());
