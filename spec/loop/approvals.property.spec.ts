/**
 * Human approval, as a property: for random scripts of model answers with tool calls (tools that succeed, throw,
 * always or sometimes need approval; arguments that are not JSON; a tool hook that refuses some calls) and random
 * decisions at every pause, each run either completes with every call recorded exactly once, as what happened to
 * it, or fails closed; and no denied or never-approved call ever executes.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  Agent,
  InputCheckError,
  MemorySessionStore,
  OpenAIChat,
  tool,
  type RunOutput,
  type RunStream,
  type ToolCall,
  type ToolCallRecord,
} from 'hookchain';
import { startFakeOpenAI, type FakeOpenAI } from 'hookchain/testing';
import { storedRuns } from './approvals-helpers.ts';

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(() => fake.close());

type ToolKind = 'free' | 'boom' | 'ask' | 'askIfEven';

interface ScriptCall {
  kind: ToolKind;
  n: number;
  /** The model sends arguments that are not JSON. */
  badJson: boolean;
  /** The tool hook refuses this call (a verdict): the run fails closed when the call reaches it. */
  refused: boolean;
  /** The human's decision, should the call wait for one. */
  approve: boolean;
}

/** True about once in `n`. */
const oneIn = (n: number) => fc.integer({ min: 1, max: n }).map((x) => x === 1);

const call: fc.Arbitrary<ScriptCall> = fc.record({
  kind: fc.constantFrom<ToolKind>('free', 'boom', 'ask', 'askIfEven'),
  n: fc.integer({ min: 0, max: 9 }),
  badJson: oneIn(7),
  refused: oneIn(13),
  approve: fc.boolean(),
});
/** 1–4 model answers with tool calls, 1–4 calls each, then a text answer. */
const script = fc.array(fc.array(call, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 4 });

/** Whether the call waits for a human. */
const asks = (c: ScriptCall) => !c.badJson && (c.kind === 'ask' || (c.kind === 'askIfEven' && c.n % 2 === 0));
/** Whether the call enters the tool onion (and reaches `execute` unless the hook refuses it). */
const entersOnion = (c: ScriptCall) => !c.badJson && (!asks(c) || c.approve);

/** What the record of a call must say once the run completed. */
function expectedStatus(c: ScriptCall): ToolCallRecord['status'] {
  if (c.badJson) return 'failed';
  if (asks(c) && !c.approve) return 'denied';
  return c.kind === 'boom' ? 'failed' : 'completed';
}

let runNumber = 0;

describe('human approval, for random scripts of tool calls and decisions', () => {
  it('every run completes with each call recorded once as it happened, or fails closed; no unapproved call executes', async () => {
    const executed: string[] = [];
    const hooked: string[] = [];
    const args = z.object({ n: z.number() });
    const execute = ({ n }: { n: number }, { callId }: { callId: string }) => {
      executed.push(callId);
      return { n };
    };
    const tools = [
      tool({ name: 'free', description: 'Succeeds', parameters: args, execute }),
      tool({
        name: 'boom',
        description: 'Throws',
        parameters: args,
        execute: (a, context) => {
          execute(a, context);
          throw new Error('boom failed');
        },
      }),
      tool({ name: 'ask', description: 'Needs approval', parameters: args, requiresApproval: true, execute }),
      tool({
        name: 'askIfEven',
        description: 'Needs approval for even n',
        parameters: args,
        requiresApproval: ({ n }) => n % 2 === 0,
        execute,
      }),
    ];
    const refusedIds = new Set<string>();
    async function gate(c: ToolCall, next: () => Promise<void>) {
      hooked.push(c.callId);
      if (refusedIds.has(c.callId)) throw new InputCheckError('this call is not allowed');
      await next();
    }
    const store = new MemorySessionStore();

    await fc.assert(
      fc.asyncProperty(script, fc.boolean(), fc.constantFrom(1, 4), async (steps, streaming, toolConcurrency) => {
        const id = `r${++runNumber}`;
        executed.length = 0;
        hooked.length = 0;
        refusedIds.clear();
        const agent = new Agent({
          name: 'prop',
          model: new OpenAIChat({ id: 'gpt-test', client: fake.client() }),
          sessionStore: store,
          tools,
          toolHooks: [gate],
          toolConcurrency,
          logger: { debug() {}, warn() {} },
        });
        const byId = new Map<string, ScriptCall>();
        const replies = steps.map((calls, s) => ({
          toolCalls: calls.map((c, i) => {
            const callId = `${id}_s${s}_c${i}`;
            byId.set(callId, c);
            if (c.refused) refusedIds.add(callId);
            return { id: callId, name: c.kind, arguments: c.badJson ? '{"n": ' : { n: c.n } };
          }),
        }));
        fake.setReplies([...replies, 'Done.']);

        // Drive the run: resume after every pause with the script's decisions, until it ends.
        const sessionId = `s-${id}`;
        let outcome: { output: RunOutput } | { error: Error & { runOutput?: RunOutput } };
        let pauses = 0;
        try {
          let output = await settle(streaming ? agent.stream('go', { sessionId }) : agent.run('go', { sessionId }), streaming);
          while (output.status === 'paused') {
            pauses++;
            // Each pause asks about calls of one answer, each of which asks for approval.
            for (const p of output.pendingApprovals!) expect(asks(byId.get(p.callId)!)).toBe(true);
            const approvals = output.pendingApprovals!.map((p) =>
              byId.get(p.callId)!.approve
                ? { callId: p.callId, approved: true as const }
                : { callId: p.callId, approved: false as const, reason: 'no' },
            );
            const options = { sessionId, runId: output.runId, approvals };
            output = await settle(streaming ? agent.continueStream(options) : agent.continueRun(options), streaming);
          }
          outcome = { output };
        } catch (error) {
          outcome = { error: error as Error & { runOutput?: RunOutput } };
        }

        // Nothing denied or never approved ever executed; nothing executed twice; every execution was let through.
        expect(new Set(executed).size).toBe(executed.length);
        for (const callId of executed) {
          const c = byId.get(callId)!;
          expect(entersOnion(c) && !c.refused).toBe(true);
          expect(hooked).toContain(callId);
        }

        const allCalls = [...byId.entries()];
        const [record, ...more] = await storedRuns(store, sessionId, runIdOf(outcome));
        expect(more).toEqual([]);
        if ('output' in outcome) {
          const { output } = outcome;
          // Completed: no call was refused on its way, every call is recorded once, in the model's order, as it went.
          expect(output.status).toBe('completed');
          expect(output.content).toBe('Done.');
          expect(allCalls.some(([, c]) => c.refused && entersOnion(c))).toBe(false);
          expect(output.toolCalls.map((r) => r.callId)).toEqual(allCalls.map(([callId]) => callId));
          for (const r of output.toolCalls) expect([r.callId, r.status]).toEqual([r.callId, expectedStatus(byId.get(r.callId)!)]);
          expect([...executed].sort()).toEqual(
            allCalls
              .filter(([, c]) => entersOnion(c))
              .map(([callId]) => callId)
              .sort(),
          );
          expect(output.metrics.steps).toBe(steps.length + 1);
          expect(pauses).toBe(steps.filter((calls) => calls.some(asks)).length);
          expect(record).toMatchObject({ status: 'completed', toolCalls: output.toolCalls });
        } else {
          // Failed closed: by a refused call that reached the tool hook; recorded as an error, without an answer.
          const { error } = outcome;
          expect(error).toBeInstanceOf(InputCheckError);
          expect(hooked.some((callId) => refusedIds.has(callId))).toBe(true);
          expect(error.runOutput).toMatchObject({ status: 'error', content: undefined });
          expect(record).toMatchObject({ status: 'error', content: undefined });
          expect(record).not.toHaveProperty('pendingApprovals');
          // Each call is recorded at most once, and no call of a later answer was asked for.
          const ids = error.runOutput!.toolCalls.map((r) => r.callId);
          expect(new Set(ids).size).toBe(ids.length);
          const failedStep = Math.max(...hooked.filter((c) => refusedIds.has(c)).map((c) => Number(/_s(\d+)_/.exec(c)![1])));
          for (const callId of ids) expect(Number(/_s(\d+)_/.exec(callId)![1])).toBeLessThanOrEqual(failedStep);
        }
      }),
      { numRuns: 80 },
    );
  });
});

/** The run's output, streamed or not; a stream is read to its end first. */
async function settle(run: Promise<RunOutput> | RunStream<unknown>, streaming: boolean): Promise<RunOutput> {
  if (!streaming) return run as Promise<RunOutput>;
  const stream = run as RunStream<unknown>;
  const final = stream.finalOutput as Promise<RunOutput>;
  final.catch(() => {});
  try {
    for await (const _ of stream) void _;
  } catch {
    // finalOutput rejects with the same error.
  }
  return final;
}

function runIdOf(outcome: { output: RunOutput } | { error: { runOutput?: RunOutput } }): string {
  return 'output' in outcome ? outcome.output.runId : outcome.error.runOutput!.runId;
}
