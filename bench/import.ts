/**
 * Import cost: what `import('hookchain')` costs an app before it runs anything, measured on the built package
 * (dist/, what npm users load; rebuilt first when lib/ is newer), never on the TypeScript sources.
 *
 * Each sample is a fresh Node process, so module caches never carry over. A baseline process that imports nothing
 * runs alongside, and the heap figure is the difference between the two after a full GC. Medians of ROUNDS runs.
 *
 *   npm run bench:import            (or: node bench/import.ts)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, printTable } from './harness.ts';

const ROUNDS = 7;
const TARGET_MS = 50;
const TARGET_MB = 10;
const root = fileURLToPath(new URL('..', import.meta.url));

interface Sample {
  importMs: number;
  heapUsed: number;
  wallMs: number;
}

// Runs inside the child. Without TARGET it is the baseline: the same process, the same GCs, no import.
const probe = `
const t0 = performance.now();
if (process.env.TARGET) await import(process.env.TARGET);
const importMs = performance.now() - t0;
globalThis.gc(); globalThis.gc();
console.log(JSON.stringify({ importMs, heapUsed: process.memoryUsage().heapUsed }));
`;

// Runs inside the child too: which packages the import pulls in (a separate run, so the hook costs no time above).
const listPackages = `
import { registerHooks } from 'node:module';
const packages = new Set();
registerHooks({ load(url, context, next) { const m = /\\/node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(url); if (m) packages.add(m[1]); return next(url, context); } });
await import(process.env.TARGET);
console.log(JSON.stringify([...packages].sort()));
`;

function sample(target: string | undefined): Sample {
  const start = performance.now();
  const result = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', probe], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, TARGET: target ?? '' },
  });
  const wallMs = performance.now() - start;
  if (result.status !== 0) throw new Error(`bench/import: the child failed importing ${target}:\n${result.stderr}`);
  return { ...(JSON.parse(result.stdout) as Omit<Sample, 'wallMs'>), wallMs };
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function ensureBuilt(): void {
  const built = join(root, 'dist', 'index.js');
  if (existsSync(built) && statSync(built).mtimeMs >= newestMtime(join(root, 'lib'))) return;
  console.log('bench/import: dist/ is missing or older than lib/; running npm run build');
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
}

function measure(target: string) {
  const base: Sample[] = [];
  const subject: Sample[] = [];
  sample(undefined); // warm the OS file cache so the first measured round is not an outlier
  sample(target);
  for (let i = 0; i < ROUNDS; i++) {
    base.push(sample(undefined));
    subject.push(sample(target));
  }
  const packages = JSON.parse(
    execFileSync(process.execPath, ['--input-type=module', '-e', listPackages], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, TARGET: target },
    }),
  ) as string[];
  return {
    importMs: median(subject.map((s) => s.importMs)),
    heapMb: (median(subject.map((s) => s.heapUsed)) - median(base.map((s) => s.heapUsed))) / 2 ** 20,
    wallMs: median(subject.map((s) => s.wallMs)) - median(base.map((s) => s.wallMs)),
    packages,
  };
}

ensureBuilt();
const rows = [];
for (const target of ['hookchain', 'hookchain/testing']) {
  const m = measure(target);
  const ok = (value: number, limit: number) => (value <= limit ? 'ok' : `over by ${(value - limit).toFixed(1)}`);
  rows.push({
    'import (dist/)': `import('${target}')`,
    'time ms': m.importMs.toFixed(1),
    'target ms': `≤ ${TARGET_MS}`,
    time: ok(m.importMs, TARGET_MS),
    'heap MB': m.heapMb.toFixed(1),
    'target MB': `≤ ${TARGET_MB}`,
    heap: ok(m.heapMb, TARGET_MB),
    'process +ms': m.wallMs.toFixed(0),
    'packages loaded': m.packages.join(' ') || '(none)',
  });
}
printTable(
  `Import cost: fresh process each, median of ${ROUNDS}, Node ${process.version}; heap is after GC, minus a process that imports nothing`,
  rows,
);
