/**
 * The shape of lib/ (issue #10): one owner of a run's path, a leaf context, no import cycles (type-only imports
 * included), and no engine state on the public context.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const lib = join(root, 'lib');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : [];
  });
}

/** Every relative import and re-export of a file, `import type` included, as lib-relative paths. */
function importsOf(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const m of source.matchAll(/(?:^|\n)\s*(?:import|export)\s(?:[^'"]*?\sfrom\s)?['"](\.[^'"]+)['"]/g)) {
    found.push(relative(lib, resolve(dirname(file), m[1]!)));
  }
  return found;
}

const graph = new Map(files(lib).map((f) => [relative(lib, f), importsOf(f)]));

describe('lib/ architecture', () => {
  it('reads every file and resolves every relative import to a file of lib/', () => {
    expect(graph.size).toBeGreaterThan(40);
    for (const [file, deps] of graph) for (const dep of deps) expect(graph.has(dep), `${file} imports ${dep}`).toBe(true);
  });

  it('has no import cycle, type-only imports included', () => {
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (file: string, path: string[]) => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        cycles.push([...path.slice(path.indexOf(file)), file].join(' → '));
        return;
      }
      state.set(file, 'open');
      for (const dep of graph.get(file) ?? []) visit(dep, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of graph.keys()) visit(file, []);
    expect(cycles).toEqual([]);
  });

  it('keeps types.ts and context.ts leaves: types.ts imports nothing, context.ts only types.ts', () => {
    expect(graph.get('types.ts')).toEqual([]);
    expect(graph.get('context.ts')).toEqual(['types.ts']);
  });

  it('lets nothing in lib/streaming import lib/run, and only lib/run start a run', () => {
    for (const [file, deps] of graph) {
      if (file.startsWith('streaming/'))
        expect(
          deps.filter((d) => d.startsWith('run/')),
          file,
        ).toEqual([]);
      if (!file.startsWith('run/') && file !== 'agent.ts')
        expect(
          deps.filter((d) => d === 'run/run.ts'),
          file,
        ).toEqual([]);
    }
  });

  it('keeps engine state off the context: no ctx._field anywhere in lib/', () => {
    for (const file of graph.keys()) {
      const source = readFileSync(join(lib, file), 'utf8');
      expect(source.match(/\bctx\._\w+/g) ?? [], file).toEqual([]);
      expect(source.match(/\bexecute\(ctx/g) ?? [], file).toEqual([]);
    }
  });

  it('keeps hookchain/bullmq a leaf: nothing outside lib/bullmq imports it, or bullmq or ioredis', () => {
    for (const [file, deps] of graph) {
      if (file.startsWith('bullmq/')) continue;
      expect(
        deps.filter((d) => d.startsWith('bullmq/')),
        file,
      ).toEqual([]);
      const source = readFileSync(join(lib, file), 'utf8');
      expect(source.match(/from\s+['"](bullmq|ioredis)['"]/g) ?? [], file).toEqual([]);
    }
  });
});
