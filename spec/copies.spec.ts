/**
 * Two copies of hookchain in one process (a plugin that pins another version): verdicts, guardrails and errors
 * of the other copy are recognised by brand, not class identity (issue #9 item 5). The second copy is a real
 * build of the package, loaded from its own directory.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import * as ours from 'hookchain';
import { OfflineModel } from 'hookchain/testing';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const copyDir = join(root, 'spec/.compiled/second-copy');
let other: typeof ours;

beforeAll(() => {
  rmSync(copyDir, { recursive: true, force: true });
  mkdirSync(copyDir, { recursive: true });
  execFileSync(
    process.execPath,
    [
      join(root, 'node_modules/typescript/bin/tsc'),
      '-p',
      join(root, 'tsconfig.build.json'),
      '--outDir',
      join(copyDir, 'dist'),
      '--declaration',
      'false',
      '--declarationMap',
      'false',
      '--sourceMap',
      'false',
    ],
    { stdio: 'pipe' },
  );
  writeFileSync(join(copyDir, 'package.json'), JSON.stringify({ type: 'module' }));
}, 120_000);

async function load(): Promise<typeof ours> {
  other ??= (await import(pathToFileURL(join(copyDir, 'dist/index.js')).href)) as typeof ours;
  return other;
}

describe('two copies of hookchain', () => {
  it('are really two copies: their classes differ', async () => {
    const b = await load();
    expect(b.InputCheckError).not.toBe(ours.InputCheckError);
  });

  it("treats the other copy's InputCheckError as a verdict even in a failOpen hook, and keeps no blocked input", async () => {
    const b = await load();
    const store = new ours.MemorySessionStore();
    const plugin = ours.hook({ failOpen: true, name: 'plugin' })(() => {
      throw new b.InputCheckError('blocked by the plugin');
    });
    const agent = new ours.Agent({ model: new OfflineModel(), preHooks: [plugin], sessionStore: store });
    const error = await agent.run('my card is 4111 1111 1111 1111', { sessionId: 's' }).catch((e: unknown) => e);
    expect(ours.isHookchainError(error)).toBe(true);
    expect(error).toBeInstanceOf(ours.InputCheckError);
    expect((error as ours.InputCheckError).runOutput?.error?.type).toBe('input_check_error');
    expect(JSON.stringify(store.get('s'))).not.toContain('4111');
  });

  it("uses the other copy's guardrail instances as guardrails", async () => {
    const b = await load();
    const agent = new ours.Agent({
      model: new OfflineModel({ reply: 'mail bob@example.com' }),
      postHooks: [new b.PIIDetectionGuardrail()],
    });
    await expect(agent.run('x')).rejects.toBeInstanceOf(ours.OutputCheckError);
    expect(new b.PromptInjectionGuardrail()).toBeInstanceOf(ours.BaseGuardrail);
  });

  it("recognises the other copy's errors through isHookchainError and instanceof", async () => {
    const b = await load();
    const e = new b.HookchainConfigError('X', 'x');
    expect(ours.isHookchainError(e)).toBe(true);
    expect(e).toBeInstanceOf(ours.HookchainConfigError);
    expect(e).toBeInstanceOf(ours.HookchainError);
    expect(e).not.toBeInstanceOf(ours.InputCheckError);
    expect(new b.OutputCheckError('o')).not.toBeInstanceOf(ours.InputCheckError);
  });
});
