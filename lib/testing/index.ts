/** `hookchain/testing`: test your hooks and guardrails end to end against the real `openai` client, offline. */
export { FakeOpenAI, MODERATION_CATEGORIES, startFakeOpenAI } from './fake-openai.ts';
export type {
  ChatHandler,
  ChatReply,
  ChatRequestBody,
  FakeOpenAIOptions,
  ModerationHandler,
  ModerationReply,
  ModerationResultInput,
  RecordedRequest,
  ScriptedToolCall,
} from './fake-openai.ts';
export { assertOrder, expectHookOrder, hookSteps, recordEvents } from './recorder.ts';
export type { EventRecorder } from './recorder.ts';
export { OfflineModel } from '../models/offline.ts';
export type { OfflineAnswer, OfflineModelOptions } from '../models/offline.ts';
