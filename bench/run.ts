/** `npm run bench`: every benchmark of the framework, printed as tables (see docs/performance.md). */
import { benchBackground } from './background.ts';
import { benchCore, printCore } from './core.ts';
import { benchSessions } from './sessions.ts';
import { benchStreaming } from './streaming.ts';
import { printTable } from './harness.ts';

console.log(`hookchain benchmarks — Node ${process.version}, ${new Date().toISOString().slice(0, 10)}; medians of 15 rounds`);
printCore(await benchCore());
const streaming = await benchStreaming();
printTable('Streaming: cost per chunk of sync chunk checks', streaming.perChunk);
printTable('Streaming: total time by output length (1 chunk check with hold-back)', streaming.linear);
printTable('Background hooks', await benchBackground());
printTable('Sessions: memory store vs SQLite store (offline model)', await benchSessions());
console.log('\nGuardrail quality and throughput: npm run bench:guardrails');
