/** Blocked output never lands in the store: not in a row, not in any byte of the database file or its WAL. */
import { existsSync, readFileSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { Agent, BaseGuardrail, OutputCheckError, type PostHookArgs } from 'hookchain';
import { OfflineModel } from 'hookchain/testing';
import { sqliteStore, tempDbPath } from './helpers.ts';

const SECRET = 'ACCT-7731-TOP-SECRET';

const blockSecret = ({ runOutput }: PostHookArgs) => {
  if (runOutput.content?.includes(SECRET)) throw new OutputCheckError('the answer leaked an account number');
};

/** Every cell of every table, as text, plus the raw bytes of the file and its WAL. */
function everythingStored(path: string): string {
  const db = new DatabaseSync(path);
  const tables = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
    .all()
    .map((r) => String(r.name));
  const cells = tables.map((t) => JSON.stringify(db.prepare(`SELECT * FROM "${t}"`).all()));
  db.close();
  const files = [path, `${path}-wal`].filter(existsSync).map((f) => readFileSync(f).toString('latin1'));
  return [...cells, ...files].join('\n');
}

class SecretGuard extends BaseGuardrail {
  check({ runOutput }: PostHookArgs): void {
    if (runOutput?.content?.includes(SECRET)) throw new OutputCheckError('leak');
  }
}

describe('blocked output and the SQLite store', () => {
  it('an OutputCheckError post-hook: the failed run is stored without the text, which is nowhere in the file', async () => {
    const path = tempDbPath();
    const replies = ['Hello! How can I help?', `Your account is ${SECRET}.`];
    const agent = new Agent({
      name: 'support',
      model: new OfflineModel({ reply: () => replies.shift()! }),
      sessionStore: sqliteStore(path),
      postHooks: [blockSecret],
    });
    await agent.run('hi', { sessionId: 's1' });
    const error = await agent.run('what is my account number?', { sessionId: 's1' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OutputCheckError);
    const stored = sqliteStore(path).get('s1')!;
    expect(stored.runs.map((r) => [r.status, r.content])).toEqual([
      ['completed', 'Hello! How can I help?'],
      ['error', undefined],
    ]);
    expect(stored.runs[1]!.error).toMatchObject({ type: 'output_check_error' });
    const dump = everythingStored(path);
    expect(dump).toContain('Hello! How can I help?'); // the check below reads the real data
    expect(dump).not.toContain(SECRET);
  });

  it('a streamed run blocked by a guardrail post-hook: same, nothing of the text in the file', async () => {
    const path = tempDbPath();
    const agent = new Agent({
      name: 'support',
      model: new OfflineModel({ reply: `Sure: ${SECRET}`, chunkSize: 4 }),
      sessionStore: sqliteStore(path),
      postHooks: [new SecretGuard()],
    });
    const stream = agent.stream('account?', { sessionId: 's1' });
    const deltas: string[] = [];
    await expect(
      (async () => {
        for await (const e of stream) if (e.type === 'content') deltas.push(e.delta);
      })(),
    ).rejects.toBeInstanceOf(OutputCheckError);
    expect(deltas.join('')).not.toContain(SECRET);
    expect(
      sqliteStore(path)
        .get('s1')!
        .runs.map((r) => r.status),
    ).toEqual(['error']);
    expect(everythingStored(path)).not.toContain(SECRET);
  });
});
