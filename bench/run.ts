/** `npm run bench`: every benchmark of the framework, printed as tables (see docs/performance.md). */
import { benchCore } from './core.ts';
import { benchStreaming } from './streaming.ts';
import { printTable } from './harness.ts';

console.log(`hookchain benchmarks — Node ${process.version}, ${new Date().toISOString().slice(0, 10)}; medians of 15 rounds`);
const core = await benchCore();
printTable('Run overhead with an instant model', core.overhead);
printTable('Cost per hook (slope 0 → 100 hooks) and fixed cost', core.perHook);
printTable('Memory', core.memory);
const streaming = await benchStreaming();
printTable('Streaming: cost per chunk of sync chunk checks', streaming.perChunk);
printTable('Streaming: total time by output length (1 chunk check with hold-back)', streaming.linear);
for (const extra of [] as string[]) {
  const mod = (await import(extra).catch(() => undefined)) as Record<string, () => Promise<unknown>> | undefined;
  const fn = mod && Object.values(mod).find((v) => typeof v === 'function');
  if (fn === undefined) continue;
  const result = await fn();
  const tables = Array.isArray(result) ? { [extra]: result } : (result as Record<string, unknown>);
  for (const [title, rows] of Object.entries(tables)) printTable(title, rows as never);
}
