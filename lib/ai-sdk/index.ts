/**
 * `hookchain/ai-sdk`: any Vercel AI SDK provider model as a hookchain `Model`. Needs `ai` and a provider package
 * (optional peers); nothing of them is imported here, the adapter calls the model it is given.
 */
export { AISdkModel } from './ai-sdk-model.ts';
export type {
  AISdkCallOptions,
  AISdkContentPart,
  AISdkGenerateResult,
  AISdkLanguageModel,
  AISdkModelOptions,
  AISdkPromptMessage,
  AISdkPromptPart,
  AISdkProviderOptions,
  AISdkStreamPart,
  AISdkStreamResult,
  AISdkTool,
  AISdkUsage,
} from './ai-sdk-model.ts';
