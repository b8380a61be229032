/**
 * `npm run train:injection`: trains the prompt-injection classifier on the labelled sets under bench/data (see
 * bench/guardrails/data.ts `injectionSources` and each folder's SOURCE.md) and writes
 * lib/guardrails/injection/model/weights.bin. Deterministic: a rerun writes the same bytes (its SHA-256 is printed;
 * spec/guardrails/injection-classifier.spec.ts checks it). `--check` compares instead of writing.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { injectionSources } from '../bench/guardrails/data.ts';
import { WEIGHTS_URL } from '../lib/guardrails/injection/classifier.ts';
import { trainWeightsFile } from '../lib/guardrails/injection/train.ts';

const started = performance.now();
const bytes = trainWeightsFile(injectionSources().flatMap((s) => s.prompts));
const sha = createHash('sha256').update(bytes).digest('hex');
const seconds = ((performance.now() - started) / 1000).toFixed(1);
if (process.argv.includes('--check')) {
  const same = Buffer.compare(readFileSync(WEIGHTS_URL), bytes) === 0;
  console.log(`${same ? 'same bytes as' : 'DIFFERENT from'} the committed weights.bin (sha256 ${sha}, ${seconds} s)`);
  process.exitCode = same ? 0 : 1;
} else {
  writeFileSync(WEIGHTS_URL, bytes);
  console.log(`wrote ${WEIGHTS_URL.pathname} (${bytes.length} bytes, sha256 ${sha}, ${seconds} s)`);
}
