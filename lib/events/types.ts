/**
 * The agent's typed event map. Every payload is plain JSON-safe data carrying `runId`; none carries blocked content.
 * `agent.stream()` yields the same payloads with a `type` field (see `RunEvent`).
 */
import type { RunErrorInfo, RunOutput } from '../types.ts';

export interface HookEventPayload {
  runId: string;
  hookName: string;
}

export interface AgentEvents {
  run_started: { runId: string; agentId: string; agentName: string; sessionId: string; userId: string | undefined };
  pre_hook_started: HookEventPayload;
  pre_hook_completed: HookEventPayload;
  post_hook_started: HookEventPayload;
  post_hook_completed: HookEventPayload;
  /** A `failOpen` hook failed and the run went on. */
  hook_failed: HookEventPayload & { phase: 'pre' | 'post' | 'chunk'; error: { name: string; message: string } };
  model_request_started: { runId: string; model: string; messageCount: number; stream: boolean };
  model_request_completed: { runId: string; model: string; durationMs: number; inputTokens: number; outputTokens: number };
  /** Streaming only: text that every chunk check has cleared. */
  content: { runId: string; delta: string };
  run_completed: { runId: string; output: RunOutput };
  run_error: { runId: string; error: RunErrorInfo; output: RunOutput };
  background_hook_started: HookEventPayload & { jobId: number };
  background_hook_completed: HookEventPayload & { jobId: number; durationMs: number };
  background_hook_failed: HookEventPayload & {
    jobId: number;
    error: { name: string; message: string };
    reason: 'error' | 'timeout' | 'rejected' | 'dropped';
  };
}

export type AgentEventName = keyof AgentEvents;

/** What `agent.stream()` yields: each event's payload tagged with its name. */
export type RunEvent = { [K in AgentEventName]: { type: K } & AgentEvents[K] }[AgentEventName];
