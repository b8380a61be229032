/**
 * The agent's typed event map. Every payload is plain JSON-safe data carrying `runId`; none carries blocked content.
 * `agent.stream()` yields the same payloads with a `type` field (see `RunEvent`).
 */
import type { CheckTrigger, PendingApproval, RunErrorInfo, RunOutput } from '../types.ts';

/** The fields every tool-call event carries: never the arguments or the result. */
export interface ToolCallEventPayload {
  /** The run. */
  runId: string;
  /** The tool the model called. */
  toolName: string;
  /** The provider's id for the call, as in `RunOutput.toolCalls`. */
  callId: string;
}

/** The fields every hook event carries. */
export interface HookEventPayload {
  /** The run the hook belongs to. */
  runId: string;
  /** The hook's name: `hook({ name })`, a guardrail's `name` (default its class name), else the function's name. */
  hookName: string;
}

/**
 * The events of an `Agent`, by name, with their payloads: `agent.on(name, listener)`. Listeners are called
 * synchronously and never awaited; one that throws (or rejects) is reported to the agent's `logger` and never
 * breaks the run. Payloads are built only when someone listens. Order: `run_started` first, each hook's
 * `*_started` before its `*_completed`, `run_completed` or `run_error` last; background events come later.
 *
 * @example
 * agent.on('model_request_completed', ({ runId, durationMs, outputTokens }) => metrics.observe(durationMs, outputTokens));
 * agent.on('run_error', ({ error }) => log.warn(error.type, error.message));
 */
export interface AgentEvents {
  /** The run began: the input was accepted and the session loaded. First event of every run. */
  run_started: {
    /** A random UUID, new for every run; every later event of the run carries it. */
    runId: string;
    /** The agent's `id`. */
    agentId: string;
    /** The agent's `name`. */
    agentName: string;
    /** The run's session (the `runId` for a one-off run without `sessionId`). */
    sessionId: string;
    /** `RunOptions.userId`; undefined when the run was given none. */
    userId: string | undefined;
  };
  /** A pre-hook (function or guardrail) is about to run. */
  pre_hook_started: HookEventPayload;
  /** A pre-hook returned (or its promise resolved). A hook that failed or blocked has no `completed` event. */
  pre_hook_completed: HookEventPayload;
  /** A post-hook (function or guardrail) is about to run on the complete output. */
  post_hook_started: HookEventPayload;
  /** A post-hook returned (or its promise resolved). A hook that failed or blocked has no `completed` event. */
  post_hook_completed: HookEventPayload;
  /** A `failOpen` hook failed and the run went on. */
  hook_failed: HookEventPayload & {
    /** Where it failed: as a pre-hook, as a post-hook, in a chunk check while streaming, or as a tool hook. */
    phase: 'pre' | 'post' | 'chunk' | 'tool';
    /** What it threw (a `HookTimeoutError` when it timed out). */
    error: {
      /** The error's class name, such as `'TypeError'` or `'HookTimeoutError'`. */
      name: string;
      /** The error's message. */
      message: string;
    };
  };
  /** The messages are built and the model is about to be called. */
  model_request_started: {
    /** The run's id. */
    runId: string;
    /** The model's id. */
    model: string;
    /** How many messages the model is sent: instructions, history and input. */
    messageCount: number;
    /** True when the run streams (`agent.stream()`). */
    stream: boolean;
  };
  /** The model has answered (in a stream, its last chunk has been read and checked). Carries no text. */
  model_request_completed: {
    /** The run's id. */
    runId: string;
    /** The model's id. */
    model: string;
    /** Wall time of the model request, in milliseconds (as `RunOutput.metrics.modelDurationMs`). */
    durationMs: number;
    /** Prompt tokens, as the model reported them; 0 when it reported no usage. */
    inputTokens: number;
    /** Completion tokens, as the model reported them; 0 when it reported no usage. */
    outputTokens: number;
  };
  /** A `mode: 'shadow'` hook returned a verdict: reported (once per hook and run) instead of blocking. */
  hook_shadow_verdict: HookEventPayload & {
    /** The verdict's trigger. */
    checkTrigger: CheckTrigger;
    /** Where it ran: as a pre-hook, a post-hook, a chunk check or a tool hook. */
    phase: 'pre' | 'post' | 'chunk' | 'tool';
  };
  /** A tool call enters the tool onion (its tool hooks, then the tool). */
  tool_call_started: ToolCallEventPayload;
  /** The tool call finished: the tool (or a tool hook answering for it) gave a result. */
  tool_call_completed: ToolCallEventPayload & {
    /** Wall time of the call through the tool onion, in milliseconds. */
    durationMs: number;
  };
  /** The tool call failed: the model reads `{ "error": … }` (or, with `toolErrors: 'fail'`, the run fails). */
  tool_call_failed: ToolCallEventPayload & {
    /** What went wrong (never the arguments). */
    error: {
      /** The error's class name. */
      name: string;
      /** The error's message, as the model reads it. */
      message: string;
    };
    /** `'invalid_arguments'` (bad JSON or schema), `'error'` (the tool or a tool hook threw), `'timeout'` or `'denied'`. */
    reason: 'invalid_arguments' | 'error' | 'timeout' | 'denied';
  };
  /** The run paused: tool calls wait for approval (`agent.continueRun`). Last event of a paused run, instead of `run_completed`. */
  run_paused: {
    /** The run's id. */
    runId: string;
    /** The calls waiting for a decision. */
    pendingApprovals: PendingApproval[];
    /** The paused output (status `'paused'`), as saved; frozen. */
    output: RunOutput;
  };
  /** Streaming only: text that every chunk check has cleared. */
  content: {
    /** The run's id. */
    runId: string;
    /** The next piece of the answer, to append to what came before. Never empty. */
    delta: string;
  };
  /** The run succeeded. Last event of a successful run (background events may follow). */
  run_completed: {
    /** The run's id. */
    runId: string;
    /** The final output, post-hook edits included (status `'completed'`); frozen. */
    output: RunOutput;
  };
  /** The run failed or was cancelled. Last event of such a run; `run()` rejects (or the stream throws) after it. */
  run_error: {
    /** The run's id. */
    runId: string;
    /** Why: a verdict, a cancellation (`type: 'abort_error'`, `name: 'AbortError'`) or a crash. */
    error: RunErrorInfo;
    /** The failed output (status `'error'` or `'cancelled'`, no `content`); frozen. */
    output: RunOutput;
  };
  /** A background job started (after its run ended). */
  background_hook_started: HookEventPayload & {
    /** The job's number in its queue (1, 2, …); the same in the job's `completed` or `failed` event. */
    jobId: number;
  };
  /** A background job finished without error. */
  background_hook_completed: HookEventPayload & {
    /** The job's number in its queue. */
    jobId: number;
    /** How long the job ran, in milliseconds (0 when the listener was added while the job ran). */
    durationMs: number;
  };
  /** A background job failed, timed out, or was refused or evicted by a full or closed queue. */
  background_hook_failed: HookEventPayload & {
    /** The job's number in its queue. */
    jobId: number;
    /** What went wrong: the job's own error, a `BackgroundTimeoutError` or a `BackgroundQueueError`. */
    error: {
      /** The error's class name. */
      name: string;
      /** The error's message. */
      message: string;
    };
    /** `'error'` (threw or rejected), `'timeout'`, `'rejected'` (queue full or closed) or `'dropped'` (evicted). */
    reason: 'error' | 'timeout' | 'rejected' | 'dropped';
  };
}

/** The name of an agent event, such as `'run_started'`. */
export type AgentEventName = keyof AgentEvents;

/** What `agent.stream()` yields: each event's payload tagged with its name. */
export type RunEvent = {
  [K in AgentEventName]: {
    /** The event's name: narrow on it (`if (event.type === 'content') …`). */
    type: K;
  } & AgentEvents[K];
}[AgentEventName];
