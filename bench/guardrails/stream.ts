/**
 * Only the streamed-vs-whole PII masking table of `npm run bench:guardrails` (a minute instead of many):
 * node --conditions=hookchain-source --disable-warning=ExperimentalWarning bench/guardrails/stream.ts
 */
import { printTable } from '../harness.ts';
import { STREAMED_TITLE, streamedVsWhole } from './throughput.ts';

printTable(STREAMED_TITLE, streamedVsWhole());
