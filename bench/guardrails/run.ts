/** `npm run bench:guardrails`: guardrail quality on public labelled data, side by side with Agno's rules, and speed. */
import { printTable } from '../harness.ts';
import { synthRows } from './data.ts';
import { injectionQuality } from './injection-quality.ts';
import { phoneRegions, piiQuality, recognizerParity } from './pii-quality.ts';
import { stackRows } from './stack.ts';
import { STREAMED_TITLE, corpora, hostile, speed, streamedVsWhole } from './throughput.ts';

console.log(`hookchain guardrail benchmarks — Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`);
console.log('P/R/F1 in %, spans matched exactly or by overlap; Agno = its published rules re-implemented (bench/guardrails/agno.ts).');
printTable('PII on presidio-research synth_dataset_v2.json (1,500 sentences)', piiQuality(synthRows('synth_dataset_v2.json')));
printTable('PII on presidio-research generated_large.json (2,109 sentences)', piiQuality(synthRows('generated_large.json')));
printTable('PHONE with national formats (regions), synth_dataset_v2.json', phoneRegions(synthRows('synth_dataset_v2.json')));
printTable('PHONE with national formats (regions), generated_large.json', phoneRegions(synthRows('generated_large.json')));
printTable("Presidio's recogniser test cases (pass = exactly the expected spans)", recognizerParity());
printTable('Prompt injection: recall on attacks, false positives on benign prompts', injectionQuality());
printTable('Throughput (CPU time, best of 5)', speed());
printTable(STREAMED_TITLE, streamedVsWhole());
printTable("Per 1 KB prompt: each guardrail's check and the example's stack (median of 15 rounds)", stackRows(corpora().chat));
printTable('Hostile inputs (CPU ms, median of 3 runs after warm-up, each after a full collection; run with --expose-gc)', hostile());
