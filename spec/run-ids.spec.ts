/** Run ids are UUID-shaped and unique: a random per-process prefix and a counter (docs/performance.md). */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Agent } from 'hookchain';
import { OfflineModel } from 'hookchain/testing';

const UUID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('run ids', () => {
  it('are UUID-shaped and never repeat within a process', async () => {
    const agent = new Agent({ model: new OfflineModel() });
    const ids = new Set<string>();
    for (let i = 0; i < 2_000; i++) ids.add((await agent.run('hi')).runId);
    expect(ids.size).toBe(2_000);
    for (const id of ids) expect(id).toMatch(UUID_SHAPE);
  });

  it('differ between processes (each draws its own random prefix)', () => {
    const script =
      "import('hookchain').then(async ({ Agent }) => { const { OfflineModel } = await import('hookchain/testing'); console.log((await new Agent({ model: new OfflineModel() }).run('x')).runId); })";
    const args = ['--conditions=hookchain-source', '--disable-warning=ExperimentalWarning', '--input-type=module', '-e', script];
    const a = execFileSync(process.execPath, args, { encoding: 'utf8' }).trim();
    const b = execFileSync(process.execPath, args, { encoding: 'utf8' }).trim();
    expect(a).toMatch(UUID_SHAPE);
    expect(a.slice(0, 24)).not.toBe(b.slice(0, 24));
  });
});
