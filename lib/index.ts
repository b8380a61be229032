/** hookchain: one Koa-style onion around every agent run. The public surface; everything else is internal. */
export { Agent, type AgentOptions, type Logger, type PostHook, type PreHook } from './agent.ts';
export type { RunOptions } from './run/prepare.ts';
export { hook, type HookOptions } from './hooks/hook.ts';
export {
  CheckTrigger,
  HookTimeoutError,
  HookchainConfigError,
  InputCheckError,
  OutputCheckError,
  RunAbortedError,
  type CheckErrorOptions,
} from './errors.ts';
export {
  AGNO_PHRASES,
  BaseGuardrail,
  MODERATION_CATEGORIES,
  ModerationUnavailableError,
  OpenAIModerationGuardrail,
  PII_ENTITIES,
  PIIDetectionGuardrail,
  PromptInjectionGuardrail,
  imageUrls,
  normalizeForInjection,
  readTarget,
  rewriteText,
  textSegments,
  writeTarget,
  type CheckedContent,
  type ChunkCheckArgs,
  type ChunkCheckResult,
  type GuardrailOptions,
  type MaskStyle,
  type ModerationCategory,
  type ModerationClient,
  type OpenAIModerationGuardrailOptions,
  type PIIDetectionGuardrailOptions,
  type PiiEntity,
  type PiiFinding,
  type PromptInjectionGuardrailOptions,
  type TextSegment,
} from './guardrails/index.ts';
export { OpenAIChat, type OpenAIChatOptions } from './models/openai-chat.ts';
export type { Model, ModelRequest, ModelResponse, ModelStreamChunk, ModelUsage } from './models/model.ts';
export { MemorySessionStore, type MemorySessionStoreOptions } from './sessions/memory.ts';
export type { MaybePromise, SessionStore } from './sessions/store.ts';
export { SqliteSessionStore, SessionConflictError, SessionStoreError, nextSessionVersion, type SqliteSessionStoreOptions, type SessionStoreErrorCode, type ListSessionsOptions, type SessionSummary } from './sessions/index.ts';
export { DrainQueue, type BackgroundStats, type DrainQueueOptions, type OverflowPolicy } from './background/drain-queue.ts';
export { BackgroundQueueError, BackgroundTimeoutError } from './background/errors.ts';
export type { BackgroundExecutor, BackgroundFailureReason, BackgroundJob, BackgroundReporter } from './background/executor.ts';
export type { AgentEvents, AgentEventName, RunEvent } from './events/types.ts';
export type { RunStream } from './streaming/run-stream.ts';
export type {
  AgentSession,
  BaseRunContext,
  ChatMessage,
  ContentPart,
  DefaultContext,
  DefaultDependencies,
  DefaultState,
  HookArgs,
  Metadata,
  Middleware,
  Next,
  PostHookArgs,
  PreHookArgs,
  RunContext,
  RunErrorInfo,
  RunInput,
  RunMetrics,
  RunOutput,
  RunStatus,
} from './types.ts';
