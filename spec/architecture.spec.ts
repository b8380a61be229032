/**
 * The shape of lib/ (issue #10): one owner of a run's path, a leaf context, no import cycles (type-only imports
 * included), and no engine state on the public context.
 */
import { execFileSync } from 'node:child_process';
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

  it('lets nothing outside lib/server import it, and only lib/server import koa', () => {
    for (const [file, deps] of graph) {
      if (file.startsWith('server/')) continue;
      expect(
        deps.filter((d) => d.startsWith('server/')),
        file,
      ).toEqual([]);
      const source = readFileSync(join(lib, file), 'utf8');
      expect(source.match(/from ['"](koa|@koa\/router|raw-body)['"]/g) ?? [], file).toEqual([]);
    }
  });

  it("loads no Koa when 'hookchain' is imported", async () => {
    const { execFileSync } = await import('node:child_process');
    const script = `await import('hookchain'); const { createRequire } = await import('node:module'); const req = createRequire(import.meta.url); const koa = req.resolve('koa'); console.log(JSON.stringify(Object.keys(req.cache).some((k) => k === koa || k.includes('/node_modules/koa/') || k.includes('/@koa/'))));`;
    const out = execFileSync(process.execPath, ['--conditions=hookchain-source', '--input-type=module', '-e', script], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(JSON.parse(out)).toBe(false);
  });

  it('keeps engine state off the context: no ctx._field anywhere in lib/', () => {
    for (const file of graph.keys()) {
      const source = readFileSync(join(lib, file), 'utf8');
      expect(source.match(/\bctx\._\w+/g) ?? [], file).toEqual([]);
      expect(source.match(/\bexecute\(ctx/g) ?? [], file).toEqual([]);
    }
  });

  it('imports @opentelemetry/* only as types: the API is loaded at run time by tracing/tracing.ts alone', () => {
    for (const file of graph.keys()) {
      const source = readFileSync(join(lib, file), 'utf8');
      const values = [...source.matchAll(/(?:^|\n)\s*(?:import|export)\s+(?!type\s)[^'"]*?['"](@opentelemetry\/[^'"]+)['"]/g)];
      expect(
        values.map((m) => m[1]),
        file,
      ).toEqual([]);
    }
  });

  it("does not load @opentelemetry/api on import('hookchain'), only when an agent turns tracing on", () => {
    const probe = `
      import { createRequire } from 'node:module';
      const cache = createRequire(import.meta.url).cache;
      const loaded = () => Object.keys(cache).some((path) => path.includes('@opentelemetry'));
      const { Agent } = await import('hookchain');
      const { OfflineModel } = await import('hookchain/testing');
      const before = loaded();
      await new Agent({ model: new OfflineModel() }).run('hi');
      const untraced = loaded();
      new Agent({ model: new OfflineModel(), tracing: true });
      console.log(JSON.stringify({ before, untraced, after: loaded() }));
    `;
    const out = execFileSync(
      process.execPath,
      ['--conditions=hookchain-source', '--disable-warning=ExperimentalWarning', '--input-type=module', '-e', probe],
      { cwd: root, encoding: 'utf8' },
    );
    expect(JSON.parse(out)).toEqual({ before: false, untraced: false, after: true });
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
