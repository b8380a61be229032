/**
 * Span and attribute names: the OpenTelemetry GenAI semantic conventions (`gen_ai.*`, `error.type`), the open
 * guardrail-span proposal (semantic-conventions-genai PR #427: `gen_ai.guardrail.*`, names may still change), and
 * hookchain's own (`hookchain.*`). docs/observability.md lists them.
 */
export const A = {
  operation: 'gen_ai.operation.name',
  agentName: 'gen_ai.agent.name',
  agentId: 'gen_ai.agent.id',
  conversationId: 'gen_ai.conversation.id',
  requestModel: 'gen_ai.request.model',
  responseModel: 'gen_ai.response.model',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
  inputMessages: 'gen_ai.input.messages',
  outputMessages: 'gen_ai.output.messages',
  systemInstructions: 'gen_ai.system_instructions',
  toolName: 'gen_ai.tool.name',
  toolCallId: 'gen_ai.tool.call.id',
  toolType: 'gen_ai.tool.type',
  toolArguments: 'gen_ai.tool.call.arguments',
  toolResult: 'gen_ai.tool.call.result',
  errorType: 'error.type',
  guardrailName: 'gen_ai.guardrail.component.name',
  guardrailTarget: 'gen_ai.guardrail.target.type',
  guardrailSubtype: 'gen_ai.guardrail.target.subtype',
  verdict: 'gen_ai.guardrail.verdict.type',
  verdictCode: 'gen_ai.guardrail.verdict.code',
  action: 'gen_ai.guardrail.action.type',
  runId: 'hookchain.run.id',
  runStatus: 'hookchain.run.status',
  resumed: 'hookchain.run.resumed',
  failedHook: 'hookchain.run.failed_hook',
  pendingApprovals: 'hookchain.run.pending_approvals',
  step: 'hookchain.model.step',
  hookName: 'hookchain.hook.name',
  phase: 'hookchain.hook.phase',
  kind: 'hookchain.hook.kind',
  outcome: 'hookchain.hook.outcome',
  shadow: 'hookchain.hook.shadow',
  retry: 'hookchain.hook.retry',
  cancelled: 'hookchain.hook.cancelled',
  checkTrigger: 'hookchain.check_trigger',
  toolStatus: 'hookchain.tool.status',
  backgroundFailure: 'hookchain.background.failure',
} as const;

/** `SpanKind` and `SpanStatusCode` of `@opentelemetry/api` (stable numbers of the specification). */
export const SPAN_KIND_INTERNAL = 0;
export const SPAN_KIND_CLIENT = 2;
export const STATUS_ERROR = 2;
