#!/usr/bin/env node
// Profiles one benchmark: `npm run profile -- <bench>` (core, streaming, e2e, guardrail-stack, background, sessions,
// or run for all of them) runs bench/<bench>.ts under `node --cpu-prof`, writes the .cpuprofile into bench/profiles/
// (git-ignored; open it in Chrome DevTools or VS Code) and prints the ten functions with the most self time.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const name = process.argv[2];
const script = name === undefined ? undefined : join(root, 'bench', `${name.replace(/\.ts$/, '')}.ts`);
if (script === undefined || !existsSync(script)) {
  console.error('usage: npm run profile -- <bench>   e.g. core, streaming, e2e, guardrail-stack, background, sessions, run');
  process.exit(2);
}

const dir = join(root, 'bench', 'profiles');
mkdirSync(dir, { recursive: true });
const file = `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`;
const flags = ['--conditions=hookchain-source', '--disable-warning=ExperimentalWarning', '--expose-gc'];
const child = spawnSync(
  process.execPath,
  [...flags, '--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${file}`, script, ...process.argv.slice(3)],
  {
    cwd: root,
    stdio: 'inherit',
  },
);
if (child.status !== 0) process.exit(child.status ?? 1);

const profile = JSON.parse(readFileSync(join(dir, file), 'utf8'));
// Self time per node: the time deltas of the samples taken in it (more exact than hitCount with a varying interval).
const selfUs = new Map();
for (let i = 0; i < profile.samples.length; i++) {
  selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + (profile.timeDeltas[i] ?? 0));
}
// The same function appears under many call paths: add its nodes up by name and position.
const byFunction = new Map();
let total = 0;
let idle = 0;
for (const node of profile.nodes) {
  const us = selfUs.get(node.id) ?? 0;
  const { functionName, url, lineNumber } = node.callFrame;
  if (functionName === '(idle)') {
    idle += us;
    continue;
  }
  total += us;
  const where = url ? `${url.startsWith('file://') ? relative(root, fileURLToPath(url)) : url}:${lineNumber + 1}` : '';
  const key = `${functionName || '(anonymous)'}\u0000${where}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + us);
}
const top = [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 10);
const rows = top.map(([key, us]) => {
  const [fn, where] = key.split('\u0000');
  // A RegExp's "name" is its whole source: keep the table readable.
  return [fn.length > 80 ? `${fn.slice(0, 79)}…` : fn, where, `${((us / total) * 100).toFixed(1)}%`];
});
const widths = [0, 1, 2].map((c) => Math.max(['function', 'file:line', 'self %'][c].length, ...rows.map((r) => r[c].length)));
const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
console.log(`\nprofile: ${relative(root, join(dir, file))}`);
console.log(`top ten by self time (% of ${(total / 1e6).toFixed(2)} s busy; ${(idle / 1e6).toFixed(2)} s idle not counted)\n`);
console.log(line(['function', 'file:line', 'self %']));
console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
for (const r of rows) console.log(line(r));
