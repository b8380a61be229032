/**
 * Only the streamed-vs-whole PII masking table of `npm run bench:guardrails` (a minute instead of many):
 * node --conditions=hookchain-source --disable-warning=ExperimentalWarning bench/guardrails/stream.ts
 */
import { printTable } from '../harness.ts';
import { streamedVsWhole } from './throughput.ts';

printTable('PII masking, streamed in 16-character deltas vs whole text (CPU time, median of 7 alternating rounds)', streamedVsWhole());
