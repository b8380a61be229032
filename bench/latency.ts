/**
 * `npm run bench:latency`: what input checks cost the user's wait. Three 100 ms input checks and a streaming model
 * whose first token comes after 300 ms, run one after another (as Agno and LangChain.js run them), in parallel, and
 * speculatively (the model starts beside the checks; nothing is released before they pass). Time to the first
 * released delta and to the end of the run, medians over a few rounds, all in one process.
 *
 * Expected: sequential ≈ 300 + 300 = 600 ms to the first delta; parallel ≈ 100 + 300 = 400 ms; speculative ≈
 * max(100, 300) = 300 ms.
 */
import { Agent, hook, type Model, type ModelRequest } from 'hookchain';
import { isMain, median, printTable, target, type Row } from './harness.ts';

const CHECK_MS = 100;
const FIRST_TOKEN_MS = 300;
const ROUNDS = 5;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const model: Model = {
  id: 'first-token-after-300ms',
  invoke: async () => ({ content: 'unused' }),
  async *stream(request: ModelRequest) {
    await sleep(FIRST_TOKEN_MS);
    request.signal.throwIfAborted();
    for (const word of ['Your ', 'order ', 'ships ', 'today.']) yield { delta: word };
  },
};

function agent(mode: 'sequential' | 'parallel' | 'speculative'): Agent {
  const checks = [0, 1, 2].map((i) =>
    hook({ name: `check${i}`, parallel: mode !== 'sequential' })(async ({ signal }) => {
      await sleep(CHECK_MS);
      signal.throwIfAborted();
    }),
  );
  return new Agent({ model, preHooks: checks, speculative: mode === 'speculative' });
}

async function measure(a: Agent): Promise<{ first: number; total: number }> {
  const started = performance.now();
  let first = -1;
  for await (const event of a.stream('Where is my order?')) {
    if (event.type === 'content' && first < 0) first = performance.now() - started;
  }
  return { first, total: performance.now() - started };
}

export async function benchLatency(): Promise<{ rows: Row[]; targets: Row[] }> {
  const modes = ['sequential', 'parallel', 'speculative'] as const;
  const agents = Object.fromEntries(modes.map((m) => [m, agent(m)])) as Record<(typeof modes)[number], Agent>;
  const samples = Object.fromEntries(modes.map((m) => [m, { first: [] as number[], total: [] as number[] }]));
  await measure(agents.parallel); // warm-up
  for (let r = 0; r < ROUNDS; r++) {
    for (const m of modes) {
      const { first, total } = await measure(agents[m]);
      samples[m]!.first.push(first);
      samples[m]!.total.push(total);
    }
  }
  const first = (m: string) => median(samples[m]!.first);
  const total = (m: string) => median(samples[m]!.total);
  const rows: Row[] = [
    {
      mode: 'sequential (as Agno, LangChain.js)',
      'first delta, ms': first('sequential'),
      'whole run, ms': total('sequential'),
      expected: '≈ 600',
    },
    { mode: 'parallel: true', 'first delta, ms': first('parallel'), 'whole run, ms': total('parallel'), expected: '≈ 400' },
    { mode: 'parallel + speculative', 'first delta, ms': first('speculative'), 'whole run, ms': total('speculative'), expected: '≈ 300' },
  ];
  const targets: Row[] = [
    target({ name: 'parallel: first delta ≈ 400 ms (within 10%)', measured: first('parallel'), unit: 'ms', limit: 440 }),
    target({ name: 'speculative: first delta ≈ 300 ms (within 10%)', measured: first('speculative'), unit: 'ms', limit: 330 }),
  ];
  return { rows, targets };
}

export const LATENCY_TITLE = `Latency: three ${CHECK_MS} ms input checks, first token after ${FIRST_TOKEN_MS} ms (medians of ${ROUNDS} runs)`;

if (isMain(import.meta.url)) {
  const { rows, targets } = await benchLatency();
  printTable(LATENCY_TITLE, rows);
  printTable('Targets: latency (issue #15)', targets);
}
