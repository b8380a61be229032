/**
 * `npm run train:injection`: trains the prompt-injection classifier on the labelled sets under bench/data (see
 * bench/guardrails/data.ts `injectionSources` and each folder's SOURCE.md) and writes
 * lib/guardrails/injection/model/weights.bin. Deterministic: a rerun writes the same bytes (its SHA-256 is printed;
 * spec/guardrails/injection-classifier.spec.ts checks it). `--check` compares instead of writing.
 *
 * It also prints the chosen L2 penalty, the calibration, and the thresholds at which the out-of-source scores (each
 * source scored by a model trained without it) flag 1%, 2% and 5% of the benign prompts: where
 * `INJECTION_OPERATING_POINTS` come from.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { injectionSources } from '../bench/guardrails/data.ts';
import { trainCalibrated } from '../lib/guardrails/injection/calibrate.ts';
import { encodeModel, WEIGHTS_URL } from '../lib/guardrails/injection/classifier.ts';

const started = performance.now();
const trained = trainCalibrated(injectionSources());
const bytes = encodeModel(trained.model);
const sha = createHash('sha256').update(bytes).digest('hex');
const seconds = ((performance.now() - started) / 1000).toFixed(1);
const benign = trained.outOfSource
  .filter((s) => !s.injection)
  .map((s) => s.score)
  .sort((a, b) => b - a);
const attacks = trained.outOfSource.filter((s) => s.injection);
console.log(`L2 penalty ${trained.lambda}; calibration σ(${trained.platt.a.toFixed(4)} · z + ${trained.platt.b.toFixed(4)})`);
for (const rate of [0.01, 0.02, 0.05]) {
  const t = benign[Math.floor(rate * benign.length)]!;
  const recall = attacks.filter((s) => s.score > t).length / attacks.length;
  console.log(`out-of-source: ${rate * 100}% of benign prompts score above ${t.toFixed(4)}; recall there ${(100 * recall).toFixed(1)}%`);
}
if (process.argv.includes('--check')) {
  const same = Buffer.compare(readFileSync(WEIGHTS_URL), bytes) === 0;
  console.log(`${same ? 'same bytes as' : 'DIFFERENT from'} the committed weights.bin (sha256 ${sha}, ${seconds} s)`);
  process.exitCode = same ? 0 : 1;
} else {
  writeFileSync(WEIGHTS_URL, bytes);
  console.log(`wrote ${WEIGHTS_URL.pathname} (${bytes.length} bytes, sha256 ${sha}, ${seconds} s)`);
}
