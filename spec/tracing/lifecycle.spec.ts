/**
 * DESIGN §12, the rest of a run's life: background hooks as spans linked to their run, streamed runs (chunk checks),
 * parallel hooks, paused and resumed runs, the global tracer, tracing off, and the option's validation.
 */
import { trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Agent,
  CheckTrigger,
  HookchainConfigError,
  hook,
  InputCheckError,
  OutputCheckError,
  tool,
  type ChunkCheckArgs,
  type PreHookArgs,
} from 'hookchain';
import { OfflineModel } from 'hookchain/testing';
import { idOf, memoryTracer, parentOf, serialized } from './helpers.ts';

afterEach(() => {
  trace.disable();
});

describe('background hooks', () => {
  it('get a span of their own, in a trace of their own, linked to the run span', async () => {
    const t = memoryTracer();
    const agent = new Agent({
      name: 'bg',
      model: new OfflineModel(),
      tracing: { tracer: t.tracer },
      preHooks: [hook({ name: 'log-input', runInBackground: true })(() => {})],
      postHooks: [
        hook({ name: 'analytics', runInBackground: true })(async () => {}),
        hook({ name: 'fails', runInBackground: true })(() => {
          throw new Error('down');
        }),
      ],
    });
    agent.on('background_hook_failed', () => {});
    const output = await agent.run('hi');
    await agent.drain();
    const root = t.byName('invoke_agent bg');
    for (const name of ['log-input', 'analytics', 'fails']) {
      const span = t.byName(`hook ${name}`);
      expect(parentOf(span), name).toBeUndefined();
      expect(span.spanContext().traceId).not.toBe(root.spanContext().traceId);
      expect(span.links.map((l) => l.context.spanId)).toEqual([idOf(root)]);
      expect(span.links[0]!.context.traceId).toBe(root.spanContext().traceId);
      expect(span.attributes).toMatchObject({ 'hookchain.hook.kind': 'background', 'hookchain.run.id': output.runId });
    }
    expect(t.byName('hook log-input').attributes['hookchain.hook.phase']).toBe('pre');
    expect(t.byName('hook analytics').attributes).toMatchObject({ 'hookchain.hook.phase': 'post', 'hookchain.hook.outcome': 'passed' });
    expect(t.byName('hook fails').attributes).toMatchObject({
      'hookchain.hook.outcome': 'error',
      'error.type': 'Error',
      'hookchain.background.failure': 'error',
    });
    expect(t.byName('hook fails').status.code).toBe(2);
  });

  it('of a blocked run are dropped, so they have no span', async () => {
    const t = memoryTracer();
    const agent = new Agent({
      name: 'bg-blocked',
      model: new OfflineModel(),
      tracing: { tracer: t.tracer },
      preHooks: [
        hook({ name: 'log', runInBackground: true })(() => {}),
        hook({ name: 'stop' })(() => {
          throw new InputCheckError('no');
        }),
      ],
    });
    agent.on('background_hook_failed', () => {});
    await expect(agent.run('hi')).rejects.toBeInstanceOf(InputCheckError);
    await agent.drain();
    expect(
      t
        .spans()
        .map((s) => s.name)
        .sort(),
    ).toEqual(['hook stop', 'invoke_agent bg-blocked']);
  });
});

describe('streaming', () => {
  it('passes chunk checks silently; a chunk check that blocks gets a hook span (phase chunk) under the model call', async () => {
    const t = memoryTracer();
    const blocker = hook({ everyChunk: true, name: 'leak-stop' })(({ text }: ChunkCheckArgs) => {
      if (text.includes('vault')) throw new OutputCheckError('leak', { checkTrigger: CheckTrigger.PII_DETECTED });
      return { hold: 6 };
    });
    const agent = new Agent({
      name: 'streamer',
      model: new OfflineModel({ reply: 'Sure. The vault code is 7741.', chunkSize: 3 }),
      tracing: { tracer: t.tracer, captureContent: true },
      postHooks: [blocker],
    });
    const seen: string[] = [];
    const stream = agent.stream('code?');
    await expect(
      (async () => {
        for await (const event of stream) if (event.type === 'content') seen.push(event.delta);
      })(),
    ).rejects.toBeInstanceOf(OutputCheckError);
    const root = t.byName('invoke_agent streamer');
    const chat = t.byName('chat offline');
    const check = t.byName('hook leak-stop');
    expect(parentOf(chat)).toBe(idOf(root));
    expect(parentOf(check)).toBe(idOf(chat));
    expect(check.attributes).toMatchObject({
      'hookchain.hook.phase': 'chunk',
      'hookchain.hook.outcome': 'blocked',
      'hookchain.check_trigger': 'pii_detected',
    });
    expect(chat.status.code).toBe(0); // the model did not fail: a check stopped it
    expect(root.status.code).toBe(2);
    expect(root.attributes).toMatchObject({ 'error.type': 'output_check_error', 'hookchain.check_trigger': 'pii_detected' });
    expect(serialized(t.spans())).not.toContain('vault');
    expect(serialized(t.spans())).not.toContain('7741');
  });

  it('a streamed run that passes has the same tree as a run (a chunk check also checks the whole answer, as a post-hook)', async () => {
    const t = memoryTracer();
    const agent = new Agent({
      name: 'ok-stream',
      model: new OfflineModel({ reply: 'fine', chunkSize: 2 }),
      tracing: { tracer: t.tracer },
      preHooks: [hook({ name: 'in' })(() => {})],
      postHooks: [hook({ everyChunk: true, name: 'chunks' })(() => {})],
    });
    for await (const _event of agent.stream('hi')) void _event;
    expect(
      t
        .spans()
        .map((s) => s.name)
        .sort(),
    ).toEqual(['chat offline', 'hook chunks', 'hook in', 'invoke_agent ok-stream']);
    expect(t.byName('hook chunks').attributes).toMatchObject({ 'hookchain.hook.phase': 'post', 'hookchain.hook.outcome': 'passed' });
  });
});

describe('parallel hooks', () => {
  it('each has a span; the first verdict wins, and a sibling still running when the run ends is marked cancelled', async () => {
    const t = memoryTracer();
    const agent = new Agent({
      name: 'par',
      model: new OfflineModel(),
      tracing: { tracer: t.tracer },
      preHooks: [
        hook({ name: 'slow', parallel: true })(
          ({ signal }: PreHookArgs) => new Promise((resolve) => signal.addEventListener('abort', () => setTimeout(resolve, 20))),
        ),
        hook({ name: 'fast', parallel: true })(async () => {
          throw new InputCheckError('no', { checkTrigger: CheckTrigger.OFF_TOPIC });
        }),
      ],
    });
    await expect(agent.run('hi')).rejects.toBeInstanceOf(InputCheckError);
    const root = t.byName('invoke_agent par');
    expect(t.byName('hook fast').attributes).toMatchObject({ 'hookchain.hook.outcome': 'blocked', 'hookchain.check_trigger': 'off_topic' });
    const slow = t.byName('hook slow');
    expect(slow.attributes['hookchain.hook.cancelled']).toBe(true);
    expect(slow.attributes['hookchain.hook.outcome']).toBeUndefined();
    expect(parentOf(slow)).toBe(idOf(root));
    expect(root.attributes['hookchain.run.failed_hook']).toBe('fast');
  });
});

describe('paused and resumed runs', () => {
  it('a paused run ends its span (status paused); the resumed run gets a new root with the same run and conversation ids', async () => {
    const t = memoryTracer();
    const refund = tool({
      name: 'refund',
      description: 'Refunds',
      parameters: { type: 'object', properties: {}, required: [] },
      requiresApproval: true,
      execute: () => 'refunded',
    });
    let step = 0;
    const agent = new Agent({
      name: 'hitl',
      model: new OfflineModel({ reply: () => (++step === 1 ? { toolCalls: [{ name: 'refund', arguments: {} }] } : 'done') }),
      tracing: { tracer: t.tracer },
      tools: [refund],
      preHooks: [hook({ name: 'in' })(() => {})],
      postHooks: [hook({ name: 'out' })(() => {})],
    });
    const paused = await agent.run('refund me', { sessionId: 's-hitl' });
    expect(paused.status).toBe('paused');
    const first = t.byName('invoke_agent hitl');
    expect(first.attributes).toMatchObject({
      'hookchain.run.status': 'paused',
      'hookchain.run.pending_approvals': 1,
      'hookchain.run.resumed': false,
    });
    expect(first.status.code).toBe(0);
    t.exporter.reset();

    const callId = paused.pendingApprovals![0]!.callId;
    await agent.continueRun({ sessionId: 's-hitl', runId: paused.runId, approvals: [{ callId, approved: true }] });
    const second = t.byName('invoke_agent hitl');
    expect(second.spanContext().traceId).not.toBe(first.spanContext().traceId);
    expect(second.attributes).toMatchObject({
      'hookchain.run.resumed': true,
      'hookchain.run.id': paused.runId,
      'gen_ai.conversation.id': 's-hitl',
      'hookchain.run.status': 'completed',
    });
    // The resumed part: the approved call, the model, the post-hooks; no pre-hooks.
    expect(
      t
        .spans()
        .map((s) => s.name)
        .sort(),
    ).toEqual(['chat offline', 'execute_tool refund', 'hook out', 'invoke_agent hitl']);
  });

  it('a denied call is an instant execute_tool span with error.type denied', async () => {
    const t = memoryTracer();
    const refund = tool({
      name: 'refund',
      description: 'Refunds',
      parameters: { type: 'object', properties: {} },
      requiresApproval: true,
      execute: () => 'x',
    });
    let step = 0;
    const agent = new Agent({
      name: 'deny',
      model: new OfflineModel({ reply: () => (++step === 1 ? { toolCalls: [{ name: 'refund', arguments: {} }] } : 'ok') }),
      tracing: { tracer: t.tracer },
      tools: [refund],
    });
    const paused = await agent.run('refund me', { sessionId: 's-deny' });
    await agent.continueRun({
      sessionId: 's-deny',
      runId: paused.runId,
      approvals: [{ callId: paused.pendingApprovals![0]!.callId, approved: false }],
    });
    expect(t.byName('execute_tool refund').attributes).toMatchObject({ 'error.type': 'denied', 'hookchain.tool.status': 'denied' });
  });
});

describe('the tracer', () => {
  it('tracing: true uses the global API: no provider, no spans; once one is registered, the same agent sends spans to it', async () => {
    const agent = new Agent({ name: 'global', model: new OfflineModel(), tracing: true, preHooks: [hook({ name: 'h' })(() => {})] });
    await agent.run('hi');
    const t = memoryTracer();
    trace.setGlobalTracerProvider(t.provider);
    await agent.run('hi');
    expect(
      t
        .spans()
        .map((s) => s.name)
        .sort(),
    ).toEqual(['chat offline', 'hook h', 'invoke_agent global']);
    expect(t.byName('invoke_agent global').instrumentationScope.name).toBe('hookchain');
    expect(t.byName('invoke_agent global').instrumentationScope.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('a run is a child of the span active where it was started', async () => {
    const t = memoryTracer();
    const agent = new Agent({ name: 'child', model: new OfflineModel(), tracing: { tracer: t.tracer } });
    const parent = t.tracer.startSpan('http request');
    const { context } = await import('@opentelemetry/api');
    // No context manager is registered here, so context.with() has no effect: set one for the duration.
    const { AsyncLocalStorageContextManager } = await import('./context-manager.ts');
    const manager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(manager);
    try {
      await context.with(trace.setSpan(context.active(), parent), () => agent.run('hi'));
    } finally {
      context.disable();
    }
    parent.end();
    expect(parentOf(t.byName('invoke_agent child'))).toBe(idOf(parent as never));
  });

  it('tracing off (or false) emits nothing, even with a provider registered', async () => {
    const t = memoryTracer();
    trace.setGlobalTracerProvider(t.provider);
    await new Agent({ model: new OfflineModel(), preHooks: [hook({ name: 'h' })(() => {})] }).run('hi');
    await new Agent({ model: new OfflineModel(), tracing: false }).run('hi');
    expect(t.spans()).toEqual([]);
  });

  it('rejects a wrong tracing option with a typed error that says what it takes', () => {
    const model = new OfflineModel();
    const build = (tracing: unknown) => () => new Agent({ model, tracing: tracing as never });
    expect(build('yes')).toThrow(HookchainConfigError);
    expect(build('yes')).toThrow(/option "tracing" must be true, false or \{ tracer\?, captureContent\? \}/);
    expect(build({ tracer: {} })).toThrow(/"tracer" must be an OpenTelemetry Tracer/);
    expect(build({ captureContent: 'yes' })).toThrow(/"captureContent" must be true or false/);
    try {
      build({ sampler: 1 })();
    } catch (error) {
      expect((error as HookchainConfigError).code).toBe('UNKNOWN_OPTION');
    }
    expect.assertions(5);
  });
});
