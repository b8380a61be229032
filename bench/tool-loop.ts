/**
 * The agent loop's cost per tool step: an instant model that calls one no-op tool `STEPS` times and then answers,
 * against the same model answering at once, so the difference divided by `STEPS` is what one tool step adds
 * (a model call, the tool call through the onion, two messages, the records and checks).
 *
 * Beside it, in the same process and interleaved: a hand-written loop doing the same work (the floor: the same
 * instant model, zod validation of the arguments, the same tool, the messages appended), and the Vercel AI SDK's
 * `generateText` with the same tool on its own mock model (`ai/test`). Each is measured the same way (its run with
 * tool steps minus its run without, over `STEPS`), so fixed per-run costs cancel out.
 *
 * Alone: node --conditions=hookchain-source --disable-warning=ExperimentalWarning --expose-gc bench/tool-loop.ts
 */
import { generateText, stepCountIs, tool as aiTool } from 'ai';
import { MockLanguageModelV4 } from 'ai/test';
import compose from 'koa-compose';
import { z } from 'zod';
import { Agent, tool, type ChatMessage, type Model, type ModelRequest, type ModelResponse, type ToolHook } from 'hookchain';
import { interleavedNs, isMain, printTable, target, us, type Row } from './harness.ts';

/** Tool steps per looping run. */
const STEPS = 4;
const NEVER = new AbortController().signal;
const parameters = z.object({ id: z.string() });
const execute = (args: { id: string }) => ({ ok: true, id: args.id });

/** Calls `noop` until it has seen `steps` tool results, then answers; instantly, without a network. */
function instantModel(steps: number): Model {
  return {
    id: 'instant',
    invoke(request: ModelRequest): Promise<ModelResponse> {
      let results = 0;
      for (const m of request.messages) if (m.role === 'tool') results++;
      if (results >= steps) return Promise.resolve({ content: 'done', usage: { inputTokens: 1, outputTokens: 1 } });
      const callId = `c${results}`;
      return Promise.resolve({
        content: '',
        toolCalls: [{ callId, name: 'noop', arguments: '{"id":"a"}' }],
        usage: { inputTokens: 1, outputTokens: 1 },
      });
    },
  };
}

const passThrough: ToolHook = (_call, next) => next();

function agentWith(steps: number, hooks: number): Agent {
  const noop = tool({ name: 'noop', description: 'does nothing', parameters, execute });
  const toolHooks = Array.from({ length: hooks }, (_, i) =>
    Object.defineProperty(((c, n) => passThrough(c, n)) as ToolHook, 'name', { value: `h${i}` }),
  );
  return new Agent({ model: instantModel(steps), tools: [noop], toolHooks });
}

/** The floor: the loop a user would write, doing the same work, with the same hooks as a koa-compose chain. */
function handLoop(steps: number, hooks: number) {
  const model = instantModel(steps);
  type Call = { args: unknown; result: unknown };
  const layers = Array.from({ length: hooks }, () => (call: Call, next: () => Promise<void>) => next());
  const run = (call: Call) => {
    const checked = parameters.safeParse(call.args);
    if (!checked.success) throw new Error('bad arguments');
    call.result = execute(checked.data);
  };
  const onion = hooks === 0 ? undefined : (compose([...layers, run] as never[]) as unknown as (call: Call) => Promise<void>);
  return async () => {
    const messages: ChatMessage[] = [{ role: 'user', content: 'hi' }];
    for (;;) {
      const response = await model.invoke({ messages: messages.slice(), signal: NEVER, runId: '' });
      if (response.toolCalls === undefined || response.toolCalls.length === 0) return response.content;
      messages.push({ role: 'assistant', content: response.content, toolCalls: response.toolCalls });
      for (const c of response.toolCalls) {
        const call: Call = { args: JSON.parse(c.arguments), result: undefined };
        if (onion === undefined) run(call);
        else await onion(call);
        messages.push({ role: 'tool', toolCallId: c.callId, content: JSON.stringify(call.result) });
      }
    }
  };
}

/** The AI SDK: `generateText` with the same tool and its mock model, calling the tool `steps` times. */
function aiSdk(steps: number) {
  const usage = { inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 }, outputTokens: { total: 1, text: 1, reasoning: 0 } };
  const model = new MockLanguageModelV4({
    doGenerate: async (options) => {
      let results = 0;
      for (const m of options.prompt) if (m.role === 'tool') results += m.content.length;
      if (results >= steps) {
        return { content: [{ type: 'text', text: 'done' }], finishReason: { unified: 'stop', raw: 'stop' }, usage, warnings: [] };
      }
      return {
        content: [{ type: 'tool-call', toolCallId: `c${results}`, toolName: 'noop', input: '{"id":"a"}' }],
        finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
        usage,
        warnings: [],
      };
    },
  });
  const tools = { noop: aiTool({ description: 'does nothing', inputSchema: parameters, execute: async (args) => execute(args) }) };
  return () => generateText({ model, tools, prompt: 'hi', stopWhen: stepCountIs(steps + 1) });
}

export interface ToolLoopResult {
  rows: Row[];
  targets: Row[];
}

export async function benchToolLoop(): Promise<ToolLoopResult> {
  const loop = (a: Agent) => () => a.run('hi');
  const ns = await interleavedNs(
    {
      hc0: loop(agentWith(STEPS, 0)),
      hc0base: loop(agentWith(0, 0)),
      hc5: loop(agentWith(STEPS, 5)),
      hc5base: loop(agentWith(0, 5)),
      hand0: handLoop(STEPS, 0),
      hand0base: handLoop(0, 0),
      hand5: handLoop(STEPS, 5),
      hand5base: handLoop(0, 5),
      ai: aiSdk(STEPS),
      aibase: aiSdk(0),
    },
    { rounds: 15, perRound: 300, warmup: 300 },
  );
  const step = (withSteps: number, base: number) => (withSteps - base) / STEPS;
  const hc0 = step(ns.hc0, ns.hc0base);
  const hc5 = step(ns.hc5, ns.hc5base);
  const hand0 = step(ns.hand0, ns.hand0base);
  const hand5 = step(ns.hand5, ns.hand5base);
  const ai = step(ns.ai, ns.aibase);
  const rows: Row[] = [
    { 'per tool step': 'hand-written loop (floor)', '0 tool hooks, µs': us(hand0), '5 tool hooks, µs': us(hand5) },
    { 'per tool step': 'hookchain', '0 tool hooks, µs': us(hc0), '5 tool hooks, µs': us(hc5) },
    { 'per tool step': 'hookchain − floor', '0 tool hooks, µs': us(hc0 - hand0), '5 tool hooks, µs': us(hc5 - hand5) },
    { 'per tool step': 'Vercel ai 7 generateText (mock model)', '0 tool hooks, µs': us(ai), '5 tool hooks, µs': '— (no tool hooks)' },
    { 'per tool step': 'ai ÷ hookchain', '0 tool hooks, µs': `${(ai / hc0).toFixed(1)}×`, '5 tool hooks, µs': '—' },
  ];
  const targets: Row[] = [
    target({
      name: 'tool step, 0 tool hooks: ≤ 2 µs added over the hand-written loop',
      measured: us(hc0 - hand0),
      unit: 'µs',
      limit: 2,
      difference: true,
    }),
    target({
      name: 'tool step, 5 tool hooks: ≤ 2 µs added over the hand-written loop',
      measured: us(hc5 - hand5),
      unit: 'µs',
      limit: 2,
      difference: true,
      ifMissed:
        'each tool hook is wrapped so that its verdict or crash fails the run closed under its own name: one more promise reaction per hook and call (≈ 0.2–0.4 µs) than the floor, whose layers attribute nothing; runs of this bench give 1.9–3.9 µs',
    }),
    target({
      name: 'tool step ≥ 10× cheaper than ai 7 generateText',
      measured: us(ai),
      unit: 'µs',
      floor: { label: 'hookchain', value: us(hc0) },
      on: 'ratio',
      limit: 10,
      kind: 'min',
    }),
  ];
  return { rows, targets };
}

export const TOOL_LOOP_TITLE = `Tool loop: cost of one tool step (model call + tool call + messages), ${STEPS} steps per run, instant model`;

if (isMain(import.meta.url)) {
  const { rows, targets } = await benchToolLoop();
  printTable(TOOL_LOOP_TITLE, rows);
  printTable('Targets: tool loop', targets);
}
