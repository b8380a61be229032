/**
 * What the example's guardrail stack (examples/support-agent.ts: injection + PII mask on the input, PII mask on the
 * output) costs a run with a 1 KB prompt and a 1 KB answer, over the same agent with no hooks; and the injection
 * check's scan speed alone. The model is instant, so the difference is the guardrails' CPU.
 *
 * Alone: node --conditions=hookchain-source --disable-warning=ExperimentalWarning --expose-gc bench/guardrail-stack.ts
 */
import { Agent, PromptInjectionGuardrail, type Model } from 'hookchain';
import { exampleStack, flat, PROMPT_1K, REPLY_1K } from './fixtures.ts';
import { interleavedNs, isMain, median, printTable, type Row, target, us } from './harness.ts';

const answers1k: Model = { id: 'instant-1k', invoke: () => Promise.resolve({ content: REPLY_1K }) };

export async function benchGuardrailStack(): Promise<{ rows: Row[]; targets: Row[] }> {
  const none = new Agent({ model: answers1k });
  const stacked = new Agent({ model: answers1k, ...exampleStack() });
  const injection = new PromptInjectionGuardrail();
  const t = await interleavedNs(
    {
      none: () => none.run(PROMPT_1K),
      stack: () => stacked.run(PROMPT_1K),
      injection1k: () => injection.detect(PROMPT_1K),
    },
    { perRound: 500, rounds: 15, warmup: 500 },
  );
  // Scan speed on 1 MB of the same text: the per-call cost amortised away.
  const big = flat(Array.from({ length: 1_024 }, () => PROMPT_1K).join('\n'));
  injection.detect(big);
  const samples: number[] = [];
  for (let r = 0; r < 9; r++) {
    const start = process.hrtime.bigint();
    injection.detect(big);
    samples.push(Number(process.hrtime.bigint() - start));
  }
  const mbps = (bytes: number, ns: number) => bytes / 1e6 / (ns / 1e9);
  const bigMbps = mbps(big.length, median(samples));
  const stackUs = us(t.stack - t.none);
  const rows: Row[] = [
    { measure: 'agent, no hooks (1 KB prompt, 1 KB answer)', value: us(t.none), unit: 'µs/run' },
    { measure: 'agent, example guardrail stack', value: us(t.stack), unit: 'µs/run' },
    { measure: 'guardrail stack cost (difference)', value: stackUs, unit: 'µs/run' },
    { measure: 'injection check alone, 1 KB prompt', value: us(t.injection1k), unit: 'µs/call' },
    { measure: 'injection check alone, 1 KB prompt', value: mbps(PROMPT_1K.length, t.injection1k), unit: 'MB/s' },
    { measure: 'injection check alone, 1 MB of the same text', value: bigMbps, unit: 'MB/s' },
  ];
  const targets = [
    target({
      name: 'example guardrail stack ≤ 25 µs per 1 KB prompt (over the agent with no hooks)',
      measured: stackUs,
      unit: 'µs',
      floor: { label: 'agent with no hooks', value: us(t.none) },
      limit: 25,
      ifMissed:
        'the injection check (two passes: normalise, then a jump search) and PII masking before and after the model each cost 10–20 µs per KB (bench:guardrails)',
    }),
    target({
      name: 'injection check alone ≥ 100 MB/s (1 MB of chat text)',
      measured: bigMbps,
      unit: 'MB/s',
      limit: 100,
      kind: 'min',
      ifMissed:
        'the text is walked twice, to normalise it and then to find match starts; one pass that tests starts while folding is the next step',
    }),
  ];
  return { rows, targets };
}

export function printGuardrailStack(r: { rows: Row[]; targets: Row[] }): void {
  printTable('Guardrail stack of the example (instant model)', r.rows);
  printTable('Targets: guardrail stack', r.targets);
}

if (isMain(import.meta.url)) printGuardrailStack(await benchGuardrailStack());
