/**
 * A run paused in one process and resumed in another runs every guardrail and tool hook there, as the original
 * process would: a process whose agent lacks a guardrail the run paused with is refused (Agno let HITL approvals
 * that landed on a new container skip the guardrails). The agent comes from spec/fixtures/hitl-agent.ts in both.
 */
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunNotPausedError, SqliteSessionStore } from 'hookchain';
import { startFakeOpenAI, type FakeOpenAI } from 'hookchain/testing';
import { buildAgent, type HitlEnv } from '../fixtures/hitl-agent.ts';
import { rejection, tempDir } from './approvals-helpers.ts';

const execFileAsync = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const CHILD = join(ROOT, 'spec', 'fixtures', 'hitl-agent.ts');
const CARD = '4111 1111 1111 1111';

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(() => fake.close());

interface ChildResult {
  pid: number;
  status?: string;
  error?: { name: string; code?: string; message: string; checkTrigger?: string; runOutput?: { status: string; content?: string } };
}

/** Resumes the run in a new Node process whose agent is built by the fixture from `env`. */
async function resumeInChild(env: HitlEnv, sessionId: string, runId: string, callId: string): Promise<ChildResult> {
  const { stdout } = await execFileAsync(
    process.execPath,
    ['--conditions=hookchain-source', '--disable-warning=ExperimentalWarning', CHILD, sessionId, runId, callId],
    { cwd: ROOT, env: { ...process.env, ...env } },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as ChildResult;
}

const lines = (env: HitlEnv) => readFileSync(env.HITL_LOG, 'utf8').split('\n').filter(Boolean);

describe('a paused run resumed in another process', () => {
  it('runs the child’s tool hook and post-hook guardrail; a child built without the guardrail is refused', async () => {
    const dir = tempDir();
    const env: HitlEnv = { HITL_BASE_URL: fake.baseURL, HITL_DB: join(dir, 'sessions.db'), HITL_LOG: join(dir, 'calls.log') };
    writeFileSync(env.HITL_LOG, '');
    const { agent, store } = buildAgent(env);
    fake.setReplies([{ toolCalls: [{ id: 'c_refund', name: 'refund', arguments: { orderId: 'A-1' } }] }]);
    const paused = await agent.run('Refund A-1', { sessionId: 's-proc' });
    expect(paused.status).toBe('paused');
    expect(paused.pausedWith!.hooks).toContain('post:PIIDetectionGuardrail');
    expect(lines(env)).toEqual([`pre:${process.pid}`]);
    const requests = fake.chatRequests().length;

    // A process whose agent lacks the guardrail must not resume the run: it would skip the output check.
    const lacking = await resumeInChild({ ...env, HITL_WITHOUT: 'guardrail' }, 's-proc', paused.runId, 'c_refund');
    expect(lacking.pid).not.toBe(process.pid);
    expect(lacking.error).toMatchObject({ name: 'HookchainConfigError', code: 'RESUME_AGENT_MISMATCH' });
    expect(lacking.error!.message).toMatch(/post-hook PIIDetectionGuardrail/);
    expect(fake.chatRequests().length).toBe(requests);
    expect(lines(env)).toEqual([`pre:${process.pid}`]);
    expect(store.get('s-proc')!.runs.map((r) => r.status)).toEqual(['paused']);

    // The model answers the resumed run with a card number: the child's guardrail must block it.
    fake.setReplies([`Refunded to card ${CARD}.`]);
    const child = await resumeInChild(env, 's-proc', paused.runId, 'c_refund');
    expect(child.pid).not.toBe(process.pid);
    expect(child.error).toMatchObject({ name: 'OutputCheckError', checkTrigger: 'pii_detected', runOutput: { status: 'error' } });
    expect(child.error!.runOutput).not.toHaveProperty('content');
    expect(JSON.stringify(child)).not.toContain(CARD);
    // In the child: the tool hook, then the tool, then the post-hooks (no pre-hook again).
    expect(lines(env)).toEqual([
      `pre:${process.pid}`,
      `tool-hook:${child.pid}:refund:c_refund`,
      `execute:${child.pid}:c_refund`,
      `post:${child.pid}:running`,
    ]);
    // The child's model call saw the tool's result.
    expect(fake.chatRequests().at(-1)!.messages.at(-1)).toEqual({ role: 'tool', tool_call_id: 'c_refund', content: '{"refunded":"A-1"}' });

    // What the file holds, read afresh: one record, failed, without the blocked text.
    const fresh = new SqliteSessionStore({ path: env.HITL_DB });
    const runs = fresh.get('s-proc')!.runs;
    fresh.close();
    expect(runs.map((r) => [r.runId, r.status])).toEqual([[paused.runId, 'error']]);
    expect(runs[0]!.error).toMatchObject({ type: 'output_check_error', checkTrigger: 'pii_detected', hookName: 'PIIDetectionGuardrail' });
    for (const file of readdirSync(dir)) expect(readFileSync(join(dir, file)).includes(CARD), file).toBe(false);

    // The run is over for every process, this one included.
    expect(
      await rejection(agent.continueRun({ sessionId: 's-proc', runId: paused.runId, approvals: [{ callId: 'c_refund', approved: true }] })),
    ).toBeInstanceOf(RunNotPausedError);
    expect(lines(env).filter((l) => l.startsWith('execute:'))).toHaveLength(1);
    store.close();
  });

  it('completes in the child when the answer passes, and the parent then reads the completed run', async () => {
    const dir = tempDir();
    const env: HitlEnv = { HITL_BASE_URL: fake.baseURL, HITL_DB: join(dir, 'sessions.db'), HITL_LOG: join(dir, 'calls.log') };
    writeFileSync(env.HITL_LOG, '');
    const { agent, store } = buildAgent(env);
    fake.setReplies([{ toolCalls: [{ id: 'c_refund', name: 'refund', arguments: { orderId: 'B-2' } }] }]);
    const paused = await agent.run('Refund B-2', { sessionId: 's-proc-ok' });

    fake.setReplies(['Refunded B-2.']);
    const child = await resumeInChild(env, 's-proc-ok', paused.runId, 'c_refund');
    expect(child).toEqual({ pid: child.pid, status: 'completed' });
    expect(lines(env)).toEqual([
      `pre:${process.pid}`,
      `tool-hook:${child.pid}:refund:c_refund`,
      `execute:${child.pid}:c_refund`,
      `post:${child.pid}:running`,
    ]);
    const [stored] = store.get('s-proc-ok')!.runs;
    expect(stored).toMatchObject({ runId: paused.runId, status: 'completed', content: 'Refunded B-2.' });
    expect(stored!.toolCalls).toEqual([
      { callId: 'c_refund', toolName: 'refund', args: { orderId: 'B-2' }, result: { refunded: 'B-2' }, status: 'completed' },
    ]);
    store.close();
  });
});
