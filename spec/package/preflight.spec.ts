/**
 * scripts/preflight.mjs, run by `npm test` and `npm run example` before anything else: on a Node older than the
 * engines range it stops with a message that says what to do, instead of `Map.groupBy is not a function`.
 * It is tried with a real old Node: the system one that scripts/run exists to work around.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const preflight = join(repo, 'scripts', 'preflight.mjs');
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));

function majorOf(node: string): number {
  try {
    return Number(execFileSync(node, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' }).trim());
  } catch {
    return Number.NaN;
  }
}

/** The first Node older than 22 on PATH or at /usr/bin/node (the CI image's system Node is 20). */
function findOldNode(): string {
  const candidates = [
    ...(process.env['PATH'] ?? '').split(delimiter).map((dir) => join(dir, 'node')),
    '/usr/bin/node',
    '/usr/local/bin/node',
  ];
  const old = candidates.find((node) => existsSync(node) && majorOf(node) < 22);
  if (old === undefined)
    throw new Error(
      `this spec needs a Node older than 22 (looked at ${candidates.join(', ')}); install one, e.g. the distribution's nodejs package`,
    );
  return old;
}

const oldNode = findOldNode();
const oldVersion = execFileSync(oldNode, ['--version'], { encoding: 'utf8' }).trim();

describe('preflight', () => {
  it.each([
    ['pretest', 'test'],
    ['preexample', 'example'],
  ])('on an old Node, as %s, exits 1 and names the version and scripts/run %s', (event, script) => {
    const result = spawnSync(oldNode, [preflight], { encoding: 'utf8', env: { ...cleanEnv, npm_lifecycle_event: event } });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(`hookchain needs Node ≥ 22.12 (you have ${oldVersion}); run scripts/run ${script}, which installs it\n`);
    expect(result.stdout).toBe('');
  });

  it('on this Node (≥ 22.12) is silent and exits 0', () => {
    const result = spawnSync(process.execPath, [preflight], { encoding: 'utf8', env: { ...cleanEnv, npm_lifecycle_event: 'pretest' } });
    expect([result.status, result.stdout, result.stderr]).toEqual([0, '', '']);
  });

  it('npm test on the old Node stops at the preflight, before vitest starts', () => {
    // Only the old Node's directory and the system directories: npm and the scripts' `node` are the old ones.
    const path = [dirname(oldNode), '/usr/bin', '/bin'].join(delimiter);
    const result = spawnSync('npm', ['test'], { cwd: repo, encoding: 'utf8', env: { ...cleanEnv, PATH: path } });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(`hookchain needs Node ≥ 22.12 (you have ${oldVersion}); run scripts/run test, which installs it`);
    expect(result.stdout + result.stderr).not.toMatch(/vitest|Map\.groupBy/);
  });
});
