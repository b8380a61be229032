/**
 * `npm run bench:server`: what `hookchain/server` costs per HTTP request, with autocannon on loopback, all in one run.
 *
 *  (1) bare `node:http`: read the body, parse it, answer the JSON a run returns (the floor);
 *  (2) a bare Koa + @koa/router route doing the same (the floor for a Koa server);
 *  (3) `AgentServer`, `POST /agents/:id/runs`, an agent with the offline model and no hooks;
 *  (4) the same with the example's guardrail stack (injection + PII mask on the input, PII mask on the output);
 *  (5) the agent of (3) with `stream: true` (SSE).
 *
 * The servers run in this process; autocannon runs in a worker thread (`workers: 1`), so the load generator does
 * not share the server's event loop. Each phase is a short warm-up and then `DURATION_S` seconds at `CONNECTIONS`
 * connections; the phases run interleaved in `ROUNDS` rounds (a fresh order each round) and the table shows
 * medians over the rounds, so a neighbour's burst on a shared machine moves one sample, not one configuration.
 *
 * Alone: node --conditions=hookchain-source --disable-warning=ExperimentalWarning --expose-gc bench/server.ts
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import autocannon, { type Result } from 'autocannon';
import Koa from 'koa';
import Router from '@koa/router';
import getRawBody from 'raw-body';
import { Agent, MemorySessionStore } from 'hookchain';
import { AgentServer } from 'hookchain/server';
import { OfflineModel } from 'hookchain/testing';
import { exampleStack } from './fixtures.ts';
import { gc, isMain, median, printTable, seeded, shuffled, target, type Row } from './harness.ts';

const CONNECTIONS = 10;
const DURATION_S = Number(process.env['BENCH_SERVER_SECONDS'] ?? 2);
const WARMUP_S = 0.5;
const ROUNDS = Number(process.env['BENCH_SERVER_ROUNDS'] ?? 3);
const INPUT = { input: 'Where is my order? It has not arrived yet.', userId: 'bench' };

type Phase = 'node' | 'koa' | 'agent' | 'guarded' | 'sse';
const LABELS: Record<Phase, string> = {
  node: '(1) bare node:http, same JSON body (floor)',
  koa: '(2) bare Koa route, same JSON body (floor)',
  agent: '(3) AgentServer, offline model, no hooks',
  guarded: "(4) AgentServer, the example's guardrail stack",
  sse: '(5) AgentServer, SSE run (stream: true)',
};

function listening(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
}

function closed(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

export interface ServerBenchResult {
  rows: Row[];
  targets: Row[];
}

export async function benchServer(): Promise<ServerBenchResult> {
  const store = new MemorySessionStore({ maxSessions: 1_000 });
  const model = new OfflineModel({ id: 'offline', reply: 'Your order ships tomorrow; you will get a tracking link by email.' });
  const plain = new Agent({ name: 'plain', model, sessionStore: store });
  const guarded = new Agent({ name: 'guarded', model, sessionStore: store, ...exampleStack() });
  // The floors answer what a run answers: the RunOutput of the same agent and input, as JSON.
  const runJson = JSON.stringify(await plain.run(INPUT.input, { userId: INPUT.userId }));

  const bare = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      JSON.parse(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(runJson) });
      res.end(runJson);
    });
  });
  const koa = new Koa();
  const router = new Router();
  router.post('/agents/:agentId/runs', async (ctx: Koa.Context) => {
    JSON.parse(await getRawBody(ctx.req, { limit: '1mb', encoding: 'utf8' }));
    ctx.type = 'application/json';
    ctx.body = runJson;
  });
  koa.use(router.routes());
  const koaServer = createServer(koa.callback());
  const agentServer = new AgentServer({ agents: [plain, guarded] });

  const urls: Record<'node' | 'koa' | 'agents', string> = {
    node: await listening(bare),
    koa: await listening(koaServer),
    agents: (await agentServer.listen({ port: 0, host: '127.0.0.1' })).url,
  };
  const json = (body: object) => ({
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const targets: Record<Phase, { url: string; method: string; headers: Record<string, string>; body: string }> = {
    node: { url: `${urls.node}/agents/plain/runs`, ...json(INPUT) },
    koa: { url: `${urls.koa}/agents/plain/runs`, ...json(INPUT) },
    agent: { url: `${urls.agents}/agents/plain/runs`, ...json(INPUT) },
    guarded: { url: `${urls.agents}/agents/guarded/runs`, ...json(INPUT) },
    sse: { url: `${urls.agents}/agents/plain/runs`, ...json({ ...INPUT, stream: true }) },
  };

  const phases = Object.keys(LABELS) as Phase[];
  const samples = Object.fromEntries(phases.map((p) => [p, [] as Result[]])) as Record<Phase, Result[]>;
  const random = seeded(7);
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const phase of shuffled(phases, random)) {
        const options = { ...targets[phase], connections: CONNECTIONS, workers: 1 };
        await autocannon({ ...options, duration: WARMUP_S });
        gc();
        const result = await autocannon({ ...options, duration: DURATION_S });
        if (result.non2xx > 0 || result.errors > 0 || result.requests.total === 0) {
          throw new Error(`${LABELS[phase]}: ${result.non2xx} non-2xx, ${result.errors} errors: ${JSON.stringify(result.statusCodeStats)}`);
        }
        samples[phase].push(result);
      }
    }
  } finally {
    await agentServer.close({ timeoutMs: 5_000 });
    await closed(bare);
    await closed(koaServer);
  }

  const rps = (p: Phase) => median(samples[p].map((r) => r.requests.total / r.duration));
  const p50 = (p: Phase) => median(samples[p].map((r) => r.latency.p50));
  const p99 = (p: Phase) => median(samples[p].map((r) => r.latency.p99));
  const mean = (p: Phase) => median(samples[p].map((r) => r.latency.mean));
  const rows: Row[] = phases.map((p) => ({
    configuration: LABELS[p],
    'requests/s': Math.round(rps(p)),
    'vs Koa': `${(rps(p) / rps('koa')).toFixed(2)}×`,
    'µs per request (1/throughput)': 1e6 / rps(p),
    'mean ms': mean(p),
    'p50 ms': p50(p),
    'p99 ms': p99(p),
  }));

  // What SSE adds per run. Each of the CONNECTIONS connections always has one request in flight, and the server (one
  // event loop) is the bottleneck, so 1/throughput is the server's time per request (Little's law: mean latency =
  // connections / throughput). The difference of 1/throughput between (5) and (3) is therefore the extra server
  // time an SSE run costs over the same run answered as JSON. (Differences of the mean latencies, ÷ connections,
  // say the same thing with more noise: autocannon reports latency in whole milliseconds.)
  const sseExtraUs = 1e6 / rps('sse') - 1e6 / rps('agent');
  const result: ServerBenchResult = {
    rows,
    targets: [
      target({
        name: 'AgentServer (offline model, no hooks) ≥ 0.8× the requests/s of a bare Koa route',
        measured: rps('agent'),
        unit: 'req/s',
        floor: { label: 'bare Koa route', value: rps('koa') },
        on: 'ratio',
        limit: 0.8,
        kind: 'min',
        ifMissed: 'a run (session load and save, the onion, the RunOutput) costs more than the Koa plumbing around it',
      }),
      target({
        name: 'SSE adds ≤ 50 µs per run over the JSON response (1/throughput, (5) − (3))',
        measured: sseExtraUs,
        unit: 'µs',
        limit: 50,
        difference: true,
        ifMissed: 'one write per event (run_started, hook events, each content delta, run_completed) instead of one body',
      }),
    ],
  };
  return result;
}

export const SERVER_TITLE = `hookchain/server over HTTP: autocannon on loopback, ${CONNECTIONS} connections, ${DURATION_S} s per phase, median of ${ROUNDS} interleaved rounds`;

export function printServer(result: ServerBenchResult): void {
  printTable(SERVER_TITLE, result.rows);
  printTable('Targets: hookchain/server', result.targets);
}

if (isMain(import.meta.url)) printServer(await benchServer());
