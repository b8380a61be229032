/**
 * hookchain: one Koa-style onion around every agent run. The root exports what an agent author uses; helpers for
 * writing guardrails, stores and executors live at `hookchain/guardrails`, `hookchain/sessions`,
 * `hookchain/background`, and the test kit at `hookchain/testing`.
 */
export {
  Agent,
  type AgentDescription,
  type AgentOptions,
  type OutputSchema,
  type PostHook,
  type PreHook,
  type UseOptions,
} from './agent.ts';
export type { RunOptions } from './run/prepare.ts';
export type { HookOutcome, Tracer, TracingOptions } from './tracing/types.ts';
export type { Approval, ContinueOptions } from './run/resume.ts';
export type { RunStream } from './run/stream.ts';
export { hook, type ChunkHookFn, type HookOptions } from './hooks/hook.ts';
export {
  CheckTrigger,
  HookTimeoutError,
  HookchainConfigError,
  HookchainError,
  InputCheckError,
  LimitExceededError,
  MaxStepsExceededError,
  OutputCheckError,
  RunAbortedError,
  RunNotPausedError,
  ToolCallError,
  ToolTimeoutError,
  isHookchainError,
  type CheckErrorOptions,
  type LimitName,
  type OutputCheckErrorOptions,
  type ToolFailureReason,
} from './errors.ts';
export { BaseGuardrail, type ChunkCheckArgs, type ChunkCheckResult, type GuardrailOptions } from './guardrails/base.ts';
export { PIIDetectionGuardrail, type PIIDetectionGuardrailOptions } from './guardrails/pii.ts';
export { PromptInjectionGuardrail, type PromptInjectionGuardrailOptions } from './guardrails/injection.ts';
export { OpenAIModerationGuardrail, type OpenAIModerationGuardrailOptions } from './guardrails/moderation.ts';
export { LLMGuardrail, type LLMGuardrailOptions } from './guardrails/llm.ts';
export { OpenAIChat, type OpenAIChatOptions } from './models/openai-chat.ts';
export type {
  Model,
  ModelRequest,
  ModelResponse,
  ModelResponseFormat,
  ModelStreamChunk,
  ModelToolCall,
  ModelToolDefinition,
  ModelUsage,
} from './models/model.ts';
export type { ModelCall, ModelMiddleware, ModelNext } from './models/middleware.ts';
export { retry, type RetryOptions } from './models/retry.ts';
export { fallback, type FallbackOptions } from './models/fallback.ts';
export { limits, type LimitsOptions } from './models/limits.ts';
export {
  tool,
  type JsonObjectSchema,
  type Tool,
  type ToolApprovalCheck,
  type ToolDefinition,
  type ToolExecuteContext,
  type ToolParseResult,
  type ZodLikeFailure,
  type ZodLikeIssue,
  type ZodLikeSuccess,
  type ZodSchemaLike,
} from './tools/tool.ts';
export { MemorySessionStore, type MemorySessionStoreOptions } from './sessions/memory.ts';
export { SqliteSessionStore, type SqliteSessionStoreOptions } from './sessions/sqlite.ts';
export type { SessionStore } from './sessions/store.ts';
export { DrainQueue, type DrainQueueOptions } from './background/drain-queue.ts';
export type { BackgroundExecutor } from './background/executor.ts';
export type { AgentEvents, AgentEventName, HookEventPayload, RunEvent, ToolCallEventPayload } from './events/types.ts';
export type {
  AgentRef,
  AgentSession,
  BaseRunContext,
  ChatMessage,
  ContentPart,
  DefaultContext,
  DefaultDependencies,
  DefaultState,
  HookArgs,
  Logger,
  MessageToolCall,
  Metadata,
  Middleware,
  Next,
  PendingApproval,
  PostHookArgs,
  PreHookArgs,
  RunContext,
  RunErrorInfo,
  RunInput,
  RunMetrics,
  RunOutput,
  RunStatus,
  ToolCall,
  ToolCallRecord,
  ToolHook,
} from './types.ts';
