/** Tools the model may call: `tool({ ... })` to build one, `checkToolList` for an owner's list of them. */
export {
  checkToolList,
  isTool,
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
} from './tool.ts';
