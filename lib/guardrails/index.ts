/** `hookchain/guardrails`: the base class, the built-ins, and the helpers for writing guardrails. */
export { BaseGuardrail } from './base.ts';
export type { ChunkCheckArgs, ChunkCheckResult, GuardrailOptions } from './base.ts';
export { PIIDetectionGuardrail, PII_ENTITIES } from './pii.ts';
export type { MaskStyle, PIIDetectionGuardrailOptions, PiiEntity, PiiFinding } from './pii.ts';
export { AGNO_PHRASES, PromptInjectionGuardrail, normalizeForInjection } from './injection.ts';
export type { PromptInjectionGuardrailOptions } from './injection.ts';
export { MODERATION_CATEGORIES, ModerationUnavailableError, OpenAIModerationGuardrail } from './moderation.ts';
export type { ModerationCategory, ModerationClient, OpenAIModerationGuardrailOptions } from './moderation.ts';
export { LLMGuardrail, LLMGuardrailError } from './llm.ts';
export type { LLMGuardrailFailure, LLMGuardrailOptions } from './llm.ts';
export { imageUrls, readTarget, rewriteText, textSegments, writeTarget } from './text.ts';
export type { CheckedContent, TextSegment } from './text.ts';
export type { InjectionMatch, PatternInput } from './injection/matcher.ts';
export type { PiiSpan } from './pii/types.ts';
