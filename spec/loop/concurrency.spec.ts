/** Many runs of one agent at once, each with a tool call: nothing of one run reaches another. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Agent, tool, type RunOutput } from 'hookchain';
import { startFakeOpenAI, type ChatRequestBody, type FakeOpenAI } from 'hookchain/testing';
import { chatModel, sleep } from './loop-kit.ts';

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(() => fake.close());

const RUNS = 500;
const tokenOf = (i: number) => `tok-${String(i).padStart(4, '0')}-${(i * 7919).toString(36)}`;

/**
 * Step 1 (the user's message is the last): call `lookup` with the token found in it. Step 2 (a tool result is the
 * last): answer with the token the tool returned. Random small delays make the runs interleave.
 */
function answer(body: ChatRequestBody) {
  const last = body.messages.at(-1)!;
  const delayMs = Math.floor(Math.random() * 15);
  if (last.role === 'tool') {
    const { token } = JSON.parse(last.content as string) as { token: string };
    return { content: `answer for ${token}`, delayMs };
  }
  const token = /tok-\S+/.exec(last.content as string)![0];
  return { delayMs, toolCalls: [{ id: `call_${token}`, name: 'lookup', arguments: { token } }] };
}

describe(`${RUNS} concurrent runs on one agent with a tool`, () => {
  it('each run’s tool gets its own token, each answer matches its run, no call or result crosses runs', async () => {
    fake.setReply(answer);
    const executed: { token: string; runId: string; callId: string }[] = [];
    const lookup = tool({
      name: 'lookup',
      description: 'Looks a token up',
      parameters: z.object({ token: z.string() }),
      execute: async ({ token }, { runContext, callId }) => {
        await sleep(Math.floor(Math.random() * 10));
        executed.push({ token, runId: runContext.runId, callId });
        return { token, runId: runContext.runId };
      },
    });
    const agent = new Agent({ model: chatModel(fake), tools: [lookup], toolHooks: [async (_call, next) => next()] });
    const outputs: RunOutput[] = await Promise.all(Array.from({ length: RUNS }, (_, i) => agent.run(`Look up ${tokenOf(i)} please`)));

    expect(executed).toHaveLength(RUNS);
    expect(new Set(outputs.map((o) => o.runId)).size).toBe(RUNS);
    const byRun = new Map(executed.map((e) => [e.runId, e]));
    outputs.forEach((output, i) => {
      const token = tokenOf(i);
      expect(output.status).toBe('completed');
      expect(output.content).toBe(`answer for ${token}`);
      expect(byRun.get(output.runId)).toEqual({ token, runId: output.runId, callId: `call_${token}` });
      expect(output.toolCalls).toEqual([
        { callId: `call_${token}`, toolName: 'lookup', args: { token }, result: { token, runId: output.runId }, status: 'completed' },
      ]);
      expect(output.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool', 'assistant']);
      expect(output.messages[1]!.toolCalls).toEqual([{ callId: `call_${token}`, name: 'lookup', arguments: JSON.stringify({ token }) }]);
      expect(output.messages[2]).toEqual({
        role: 'tool',
        toolCallId: `call_${token}`,
        content: JSON.stringify({ token, runId: output.runId }),
      });
      // Every token anywhere in the run's record is its own.
      const tokens = new Set(JSON.stringify(output).match(/tok-\d{4}-[0-9a-z]+/g));
      expect([...tokens]).toEqual([token]);
    });
    // And on the wire: each second-step request carries exactly one run's call and result.
    const secondSteps = fake.chatRequests().filter((r) => r.messages.at(-1)!.role === 'tool');
    expect(secondSteps).toHaveLength(RUNS);
    for (const request of secondSteps) {
      expect(new Set(JSON.stringify(request.messages).match(/tok-\d{4}-[0-9a-z]+/g)).size).toBe(1);
    }
  });
});
