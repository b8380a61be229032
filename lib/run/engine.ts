/**
 * What an agent is to its runs: the compiled hooks, the composed chain and the services a run uses. The `Agent`
 * builds one and keeps it private; `lib/run/` reads it. The chain is composed lazily and again after each `use()`,
 * as Koa composes on `callback()`.
 */
import { backgroundJobs } from '../background/hold.ts';
import type { Context } from '../context.ts';
import { buildChain, type Layer } from '../hooks/layers.ts';
import { seal } from './settle.ts';
import { runStateOf, type RunEngine } from './state.ts';
import { modelTerminal } from './terminal.ts';

/** What the agent hands its engine: everything but what the engine derives. */
export type EngineConfig = Omit<RunEngine, 'postBackground' | 'chain' | 'sessionStateEmpty'>;

/** The engine as its agent sees it: a `RunEngine` that also takes middleware. */
export interface Engine extends RunEngine {
  /** Adds a (guarded) middleware layer: outer ones run before the pre-hooks, inner ones between them and the model. */
  use(layer: Layer, outer: boolean): void;
  /** How many middleware layers each position has (for naming anonymous middleware). */
  count(outer: boolean): number;
}

export function createEngine(config: EngineConfig): Engine {
  const outer: Layer[] = [];
  const inner: Layer[] = [];
  let composed: ((ctx: Context) => Promise<void>) | undefined;
  const preBackground = config.preHooks.filter((h) => h.kind === 'background');
  const compose = () =>
    buildChain({
      outer,
      // With outer middleware, the output is sealed (completed, frozen) before their after-parts see it.
      seal: outer.length > 0 ? sealLayer : undefined,
      pre: config.preHooks,
      post: config.postHooks,
      // Snapshot after the last pre-hook, so a background pre-hook sees what every guardrail left (masked input).
      holdPre:
        preBackground.length === 0
          ? undefined
          : function background_pre_hooks(ctx) {
              const run = runStateOf(ctx);
              run.holdJobs(backgroundJobs(preBackground, run.preArgs(), run.runId, config.reporter));
            },
      inner,
      terminal: modelTerminal(config.model, config.instructions),
    });
  return {
    ...config,
    sessionStateEmpty: Object.keys(config.sessionState).length === 0,
    postBackground: config.postHooks.filter((h) => h.kind === 'background'),
    chain: () => (composed ??= compose()),
    use(layer, isOuter) {
      (isOuter ? outer : inner).push(layer);
      composed = undefined;
    },
    count: (isOuter) => (isOuter ? outer : inner).length,
  };
}

function sealLayer(ctx: Context, next: () => Promise<void>): Promise<void> {
  return next().then(() => seal(runStateOf(ctx)));
}
