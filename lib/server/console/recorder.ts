/**
 * The run console's recorder (DESIGN §12): a bounded, in-memory record of recent runs' events, kept apart from the
 * run registry's replay buffer. It listens with `agent.on()` and keeps, per run, only names, outcomes, check
 * triggers and times (milliseconds since the run started): never content, arguments, results or error messages.
 * At most `maxRuns` runs (the oldest is evicted) and `maxEventsPerRun` events per run (later ones are counted, not
 * kept); the run's summary (status, duration, blocked-by) stays exact either way.
 */
import type { AgentEventName, AgentEvents } from '../../events/types.ts';
import type { ConsoleOptions, ServedAgent } from '../options.ts';

/** A run's status as the console shows it. */
export type ConsoleRunStatus = 'running' | 'completed' | 'blocked' | 'error' | 'cancelled' | 'paused';

/** One run's line in the console's list. */
export interface ConsoleRunSummary {
  runId: string;
  agentId: string;
  agentName: string;
  /** Wall-clock start, in epoch milliseconds. */
  startedAt: number;
  status: ConsoleRunStatus;
  /** Until the run ended (or until now while it runs), in milliseconds. */
  durationMs: number;
  /** The hook whose verdict blocked the run, and its trigger; only when `status` is `'blocked'`. */
  blockedBy?: { hookName: string | undefined; checkTrigger: string | undefined };
  /** `RunErrorInfo.type` of a failed run (never its message). */
  errorType?: string;
  /** Background jobs of the run still going. */
  backgroundRunning: number;
  /** Events recorded, and events seen but not kept (over `maxEventsPerRun`). */
  events: number;
  dropped: number;
}

/** One recorded event: its name, when (ms since the run started) and the few fields the timeline needs. */
export interface ConsoleEvent {
  type: AgentEventName;
  /** Milliseconds since `run_started`. */
  t: number;
  hookName?: string;
  phase?: string;
  model?: string;
  toolName?: string;
  callId?: string;
  jobId?: number;
  checkTrigger?: string;
  /** `RunErrorInfo.type`, a tool failure's `reason`, or a background failure's `reason`. */
  reason?: string;
  /** An error's class name (never its message). */
  errorName?: string;
  inputTokens?: number;
  outputTokens?: number;
}

/** An outcome, as the timeline colours it. */
export type BarOutcome = 'passed' | 'blocked' | 'failed_open' | 'error' | 'running';

/** One bar of a run's timeline. */
export interface ConsoleBar {
  kind: 'run' | 'pre_hook' | 'post_hook' | 'model' | 'tool' | 'background';
  /** The hook's, tool's or model's name. */
  label: string;
  /** Start and end, in ms since the run started (`end` undefined while it runs). */
  start: number;
  end: number | undefined;
  outcome: BarOutcome;
  /** The verdict's trigger: on a blocked bar, and on a shadow verdict. */
  checkTrigger?: string;
  /** True when a `mode: 'shadow'` hook returned a verdict here (reported, not enforced). */
  shadow?: boolean;
}

/** A run's summary, events and timeline, as `/console/runs/:runId` answers. */
export interface ConsoleRunDetail extends ConsoleRunSummary {
  recorded: ConsoleEvent[];
  bars: ConsoleBar[];
}

interface RunRecord {
  summary: ConsoleRunSummary;
  userId: string | undefined;
  /** `performance.now()` at `run_started`. */
  t0: number;
  ended: number | undefined;
  events: ConsoleEvent[];
}

const EVENTS: readonly AgentEventName[] = [
  'run_started',
  'pre_hook_started',
  'pre_hook_completed',
  'post_hook_started',
  'post_hook_completed',
  'hook_failed',
  'hook_shadow_verdict',
  'model_request_started',
  'model_request_completed',
  'tool_call_started',
  'tool_call_completed',
  'tool_call_failed',
  'run_completed',
  'run_paused',
  'run_error',
  'background_hook_started',
  'background_hook_completed',
  'background_hook_failed',
];

/** Names are developers' (hooks, tools, models); cut them anyway so one record stays small. */
const name = (value: unknown): string | undefined => (typeof value === 'string' ? value.slice(0, 120) : undefined);

/** Records the served agents' runs for the console; `onChange` hears which runs changed. */
export class ConsoleRecorder {
  readonly maxRuns: number;
  readonly maxEventsPerRun: number;
  readonly #runs = new Map<string, RunRecord>();
  readonly #listeners = new Set<(runIds: ReadonlySet<string>) => void>();
  readonly #unsubscribe: (() => void)[] = [];
  #dirty = new Set<string>();
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: ConsoleOptions = {}) {
    this.maxRuns = options.maxRuns ?? 200;
    this.maxEventsPerRun = options.maxEventsPerRun ?? 500;
  }

  /** Listens to every event the timeline needs on `agent` (never `content`). */
  attach(agent: ServedAgent): void {
    for (const type of EVENTS) {
      const listener = (payload: AgentEvents[typeof type]) => this.record(type, payload);
      agent.on(type, listener);
      this.#unsubscribe.push(() => agent.off(type, listener));
    }
  }

  /** Stops listening to the agents and to changes. */
  detach(): void {
    for (const off of this.#unsubscribe.splice(0)) off();
    clearTimeout(this.#timer);
    this.#listeners.clear();
  }

  /** Calls `listener` with the ids of the runs that changed, at most every 50 ms. Returns the unsubscribe. */
  onChange(listener: (runIds: ReadonlySet<string>) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Records one event. Only the fields named in `ConsoleEvent` are read from the payload. */
  record<T extends AgentEventName>(type: T, payload: AgentEvents[T]): void {
    const now = performance.now();
    const p = payload as Record<string, unknown> & { runId: string };
    let run = this.#runs.get(p.runId);
    if (type === 'run_started') {
      const started = payload as AgentEvents['run_started'];
      run = {
        summary: {
          runId: started.runId,
          agentId: name(started.agentId) ?? '',
          agentName: name(started.agentName) ?? '',
          startedAt: Date.now(),
          status: 'running',
          durationMs: 0,
          backgroundRunning: 0,
          events: 0,
          dropped: 0,
        },
        userId: started.userId,
        t0: now,
        ended: undefined,
        events: [],
      };
      this.#runs.set(started.runId, run);
      while (this.#runs.size > this.maxRuns) this.#runs.delete(this.#runs.keys().next().value!);
    }
    if (run === undefined) return; // started before the console listened, or evicted
    const event: ConsoleEvent = { type, t: round(now - run.t0) };
    const s = run.summary;
    switch (type) {
      case 'pre_hook_started':
      case 'pre_hook_completed':
      case 'post_hook_started':
      case 'post_hook_completed':
        event.hookName = name(p['hookName']);
        break;
      case 'hook_failed': {
        const e = payload as AgentEvents['hook_failed'];
        Object.assign(event, { hookName: name(e.hookName), phase: e.phase, errorName: name(e.error.name) });
        break;
      }
      case 'hook_shadow_verdict': {
        const e = payload as AgentEvents['hook_shadow_verdict'];
        Object.assign(event, { hookName: name(e.hookName), phase: e.phase, checkTrigger: name(e.checkTrigger) });
        break;
      }
      case 'model_request_started':
        event.model = name(p['model']);
        break;
      case 'model_request_completed': {
        const e = payload as AgentEvents['model_request_completed'];
        Object.assign(event, { model: name(e.model), inputTokens: e.inputTokens, outputTokens: e.outputTokens });
        break;
      }
      case 'tool_call_started':
      case 'tool_call_completed':
        Object.assign(event, { toolName: name(p['toolName']), callId: name(p['callId']) });
        break;
      case 'tool_call_failed': {
        const e = payload as AgentEvents['tool_call_failed'];
        Object.assign(event, { toolName: name(e.toolName), callId: name(e.callId), reason: e.reason, errorName: name(e.error.name) });
        break;
      }
      case 'run_completed':
      case 'run_paused':
        s.status = type === 'run_completed' ? 'completed' : 'paused';
        run.ended = now;
        break;
      case 'run_error': {
        const { error } = payload as AgentEvents['run_error'];
        const blocked = error.type === 'input_check_error' || error.type === 'output_check_error';
        s.status = blocked ? 'blocked' : error.type === 'abort_error' ? 'cancelled' : 'error';
        s.errorType = error.type;
        if (blocked) s.blockedBy = { hookName: name(error.hookName), checkTrigger: name(error.checkTrigger) };
        Object.assign(event, {
          reason: error.type,
          errorName: name(error.name),
          hookName: name(error.hookName),
          checkTrigger: name(error.checkTrigger),
        });
        run.ended = now;
        break;
      }
      case 'background_hook_started':
        s.backgroundRunning++;
        Object.assign(event, { hookName: name(p['hookName']), jobId: p['jobId'] });
        break;
      case 'background_hook_completed':
      case 'background_hook_failed':
        s.backgroundRunning = Math.max(0, s.backgroundRunning - 1);
        Object.assign(event, { hookName: name(p['hookName']), jobId: p['jobId'] });
        if (type === 'background_hook_failed') {
          const e = payload as AgentEvents['background_hook_failed'];
          Object.assign(event, { reason: e.reason, errorName: name(e.error.name) });
        }
        break;
    }
    if (run.events.length < this.maxEventsPerRun) {
      run.events.push(event);
      s.events++;
    } else {
      s.dropped++;
    }
    this.#changed(s.runId);
  }

  /** The recorded runs the caller may see (all of them when `userId` is undefined), newest first. */
  list(userId?: string): ConsoleRunSummary[] {
    const out: ConsoleRunSummary[] = [];
    for (const run of this.#runs.values()) if (visible(run, userId)) out.push(this.#summary(run));
    return out.reverse();
  }

  /** One run's summary, or undefined when it is not recorded (or not the caller's). */
  summary(runId: string, userId?: string): ConsoleRunSummary | undefined {
    const run = this.#runs.get(runId);
    return run !== undefined && visible(run, userId) ? this.#summary(run) : undefined;
  }

  /** One run's summary, recorded events and timeline bars; undefined when not recorded or not the caller's. */
  detail(runId: string, userId?: string): ConsoleRunDetail | undefined {
    const run = this.#runs.get(runId);
    if (run === undefined || !visible(run, userId)) return undefined;
    return { ...this.#summary(run), recorded: run.events.map((e) => ({ ...e })), bars: timeline(run.events, this.#summary(run)) };
  }

  /** How many runs are recorded. */
  get size(): number {
    return this.#runs.size;
  }

  #summary(run: RunRecord): ConsoleRunSummary {
    const durationMs = round((run.ended ?? performance.now()) - run.t0);
    return { ...run.summary, blockedBy: run.summary.blockedBy && { ...run.summary.blockedBy }, durationMs };
  }

  #changed(runId: string): void {
    this.#dirty.add(runId);
    if (this.#timer !== undefined || this.#listeners.size === 0) {
      if (this.#listeners.size === 0) this.#dirty.clear();
      return;
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const dirty = this.#dirty;
      this.#dirty = new Set();
      for (const listener of this.#listeners) listener(dirty);
    }, 50);
    this.#timer.unref?.();
  }
}

const visible = (run: RunRecord, userId: string | undefined) => userId === undefined || run.userId === userId;
const round = (ms: number) => Math.round(ms * 100) / 100;

/**
 * The bars of one run: hooks paired by name and phase, model calls by order, tool calls by `callId`, background
 * jobs by `jobId`. A hook started and never completed is the one a verdict (blocked) or a crash (error) stopped.
 */
export function timeline(events: readonly ConsoleEvent[], summary: Pick<ConsoleRunSummary, 'status' | 'durationMs'>): ConsoleBar[] {
  const bars: ConsoleBar[] = [];
  const run: ConsoleBar = { kind: 'run', label: 'run', start: 0, end: undefined, outcome: 'running' };
  bars.push(run);
  const open = new Map<string, ConsoleBar>();
  const models: ConsoleBar[] = [];
  const hookKey = (phase: string, hookName: string | undefined) => `${phase}:${hookName ?? ''}`;
  for (const e of events) {
    switch (e.type) {
      case 'pre_hook_started':
      case 'post_hook_started': {
        const phase = e.type === 'pre_hook_started' ? 'pre' : 'post';
        const bar: ConsoleBar = { kind: `${phase}_hook`, label: e.hookName ?? '', start: e.t, end: undefined, outcome: 'running' };
        bars.push(bar);
        open.set(hookKey(phase, e.hookName), bar);
        break;
      }
      case 'pre_hook_completed':
      case 'post_hook_completed': {
        const key = hookKey(e.type === 'pre_hook_completed' ? 'pre' : 'post', e.hookName);
        close(open.get(key), e.t, 'passed');
        open.delete(key);
        break;
      }
      case 'hook_failed': {
        const key = hookKey(e.phase ?? '', e.hookName);
        close(open.get(key), e.t, 'failed_open');
        open.delete(key);
        break;
      }
      case 'hook_shadow_verdict': {
        const bar =
          open.get(hookKey(e.phase ?? '', e.hookName)) ?? findLast(bars, (b) => b.label === e.hookName && b.kind !== 'background');
        if (bar !== undefined) Object.assign(bar, { shadow: true, checkTrigger: e.checkTrigger });
        break;
      }
      case 'model_request_started': {
        const bar: ConsoleBar = { kind: 'model', label: e.model ?? 'model', start: e.t, end: undefined, outcome: 'running' };
        bars.push(bar);
        models.push(bar);
        break;
      }
      case 'model_request_completed':
        close(models.shift(), e.t, 'passed');
        break;
      case 'tool_call_started': {
        const bar: ConsoleBar = { kind: 'tool', label: e.toolName ?? '', start: e.t, end: undefined, outcome: 'running' };
        bars.push(bar);
        open.set(`tool:${e.callId ?? ''}`, bar);
        break;
      }
      case 'tool_call_completed':
      case 'tool_call_failed': {
        const outcome = e.type === 'tool_call_completed' ? 'passed' : e.reason === 'denied' ? 'blocked' : 'error';
        close(open.get(`tool:${e.callId ?? ''}`), e.t, outcome);
        open.delete(`tool:${e.callId ?? ''}`);
        break;
      }
      case 'background_hook_started': {
        const bar: ConsoleBar = { kind: 'background', label: e.hookName ?? '', start: e.t, end: undefined, outcome: 'running' };
        bars.push(bar);
        open.set(`bg:${e.jobId ?? ''}`, bar);
        break;
      }
      case 'background_hook_completed':
      case 'background_hook_failed':
        close(open.get(`bg:${e.jobId ?? ''}`), e.t, e.type === 'background_hook_completed' ? 'passed' : 'error');
        open.delete(`bg:${e.jobId ?? ''}`);
        break;
      case 'run_completed':
      case 'run_paused':
        close(run, e.t, 'passed');
        break;
      case 'run_error': {
        const blocked = e.reason === 'input_check_error' || e.reason === 'output_check_error';
        const outcome: BarOutcome = blocked ? 'blocked' : 'error';
        close(run, e.t, outcome);
        if (blocked) run.checkTrigger = e.checkTrigger;
        // What the run's end interrupted: the hook that raised the verdict or crash, and any model or tool call.
        for (const [key, bar] of open) {
          if (key.startsWith('bg:')) continue;
          const culprit = bar.label === e.hookName && (bar.kind === 'pre_hook' || bar.kind === 'post_hook');
          close(bar, e.t, culprit ? outcome : 'error');
          if (culprit && blocked) bar.checkTrigger = e.checkTrigger;
          open.delete(key);
        }
        for (const bar of models.splice(0)) close(bar, e.t, 'error');
        break;
      }
      default:
        break;
    }
  }
  if (run.end === undefined && summary.status !== 'running') run.end = summary.durationMs;
  return bars;
}

function close(bar: ConsoleBar | undefined, t: number, outcome: BarOutcome): void {
  if (bar === undefined || bar.end !== undefined) return;
  bar.end = t;
  bar.outcome = outcome;
}

function findLast<T>(items: readonly T[], test: (item: T) => boolean): T | undefined {
  for (let i = items.length - 1; i >= 0; i--) if (test(items[i]!)) return items[i];
  return undefined;
}
