/**
 * `tool({ ... })`: a function the model may call, with its arguments' schema. The definition is checked once, here,
 * so a wrong tool fails when the app starts rather than in the middle of a run; `parse` then turns the model's raw
 * argument string into checked arguments, or into a message the model can read and act on.
 *
 * Neither validator is loaded by `import('hookchain')`: a zod schema validates itself (`schema.safeParse`), and ajv
 * is required only when a tool with a plain JSON Schema is built.
 */
import { createRequire } from 'node:module';
import { HookchainConfigError } from '../errors.ts';
import { checkOptions, describe, is, isPlainObject, type Rule } from '../options.ts';
import type { RunContext } from '../types.ts';

/** The brand on every built tool; `Symbol.for` so that a tool built by another copy of hookchain is still a tool. */
const TOOL_BRAND: unique symbol = Symbol.for('hookchain.tool') as never;

/** What the API accepts as a function name (OpenAI's rule, which the other providers share or loosen). */
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/** The second argument of `execute`. */
export interface ToolExecuteContext {
  /** The run that called the tool: its state, dependencies, session and signal. */
  runContext: RunContext;
  /** Aborted when the run is cancelled or the tool's `timeoutMs` passes; pass it to any I/O the tool does. */
  signal: AbortSignal;
  /** The provider's id for this call, as in `tool_call_*` events. */
  callId: string;
}

/**
 * A per-call approval check: true means the call waits for a human (`agent.continueRun`). Written as a method type
 * so that a `Tool<{ orderId: string }>` still fits where a `Tool` is expected.
 */
export type ToolApprovalCheck<Args> = {
  /** True (or a promise of true) when this call must wait for a human. */
  check(args: Args, runContext: RunContext): boolean | Promise<boolean>;
}['check'];

/** A zod 4 schema, described by the two members hookchain uses, so that zod is never imported here. */
export interface ZodSchemaLike<Out = unknown> {
  /** zod 4's internals: the output type (for inference) and the schema's kind (`def.type`, which must be `'object'`). */
  _zod: {
    /** The parsed value's type (type-level only). */
    output: Out;
    /** The schema's definition. */
    def: {
      /** Its kind, such as `'object'` or `'string'`. */
      type: string;
    };
  };
  /** zod's own validation; hookchain reads `success`, `data` and each issue's `path` and `message`. */
  safeParse(data: unknown): ZodLikeSuccess<Out> | ZodLikeFailure;
}

/** A passed `safeParse`, as `ZodSchemaLike` reads it. */
export interface ZodLikeSuccess<Out> {
  /** True. */
  success: true;
  /** The parsed (possibly transformed, defaults filled in) value. */
  data: Out;
}

/** A failed `safeParse`, as `ZodSchemaLike` reads it. */
export interface ZodLikeFailure {
  /** False. */
  success: false;
  /** zod's error. */
  error: {
    /** Every problem found. */
    issues: readonly ZodLikeIssue[];
  };
}

/** One zod issue: where and what. */
export interface ZodLikeIssue {
  /** The keys down to the bad value; empty at the root. */
  path: readonly PropertyKey[];
  /** zod's message, such as `'Invalid input: expected string, received number'`. */
  message: string;
}

/** A plain JSON Schema for the arguments; the value must be a JSON object, so `type` must be `'object'`. */
export interface JsonObjectSchema {
  /** Always `'object'`. */
  type: 'object';
  [keyword: string]: unknown;
}

/** The definition passed to `tool({ ... })`. */
export interface ToolDefinition<Args> {
  /** `^[a-zA-Z0-9_-]{1,64}$`, unique per agent; the model calls the tool by this name. */
  name: string;
  /** What the tool does and when to call it: the model reads it to decide. */
  description: string;
  /** The arguments: a zod 4 object schema (`z.object({ ... })`) or a JSON Schema with `type: 'object'`. */
  parameters: ZodSchemaLike<Args> | JsonObjectSchema;
  /** Runs the tool with arguments that passed the schema; what it returns (JSON-safe) is what the model reads. */
  execute(args: Args, context: ToolExecuteContext): unknown;
  /** Whether a human must approve each call first: a boolean, or a check of the call (default false). */
  requiresApproval?: boolean | ToolApprovalCheck<Args>;
  /** The longest one call may run, in ms; the run decides what happens after (default: no bound of its own). */
  timeoutMs?: number;
}

/** What `Tool.parse` returns: the checked arguments, or a message for the model naming the tool and the problem. */
export type ToolParseResult<Args> =
  | {
      /** The arguments passed the schema. */
      ok: true;
      /** The checked arguments (for zod, its output: defaults filled in, transforms applied). */
      args: Args;
    }
  | {
      /** The arguments are not valid JSON or do not match the schema. */
      ok: false;
      /** What is wrong, naming the tool; written for the model to read and fix its call. */
      error: string;
    };

/** A built tool (from `tool({ ... })`): frozen, and recognised by `checkToolList` in any copy of hookchain. */
export interface Tool<Args = unknown> {
  /** The tool's name, as the model calls it. */
  readonly name: string;
  /** What the tool does, as the model reads it. */
  readonly description: string;
  /** The JSON Schema of the arguments as sent to the model (frozen; no `$schema` key). */
  readonly jsonSchema: Readonly<Record<string, unknown>>;
  /** `requiresApproval` as given, or false. */
  readonly requiresApproval: boolean | ToolApprovalCheck<Args>;
  /** `timeoutMs` as given; undefined when none was. */
  readonly timeoutMs: number | undefined;
  /** The `execute` function as given. Call it only with arguments `parse` returned. */
  execute(args: Args, context: ToolExecuteContext): unknown;
  /**
   * Parses the model's argument string and validates it against the schema. Never throws for bad input: invalid
   * JSON and schema mismatches come back as `{ ok: false, error }`, an error the model reads to try again.
   */
  parse(json: string): ToolParseResult<Args>;
  /** Validates already-parsed arguments against the schema, as `parse` does after `JSON.parse`. Never throws. */
  validate(value: unknown): ToolParseResult<Args>;
}

const DEFINITION_RULES = {
  name: ((v) =>
    typeof v === 'string' && TOOL_NAME.test(v)
      ? undefined
      : "1 to 64 letters, digits, '_' or '-' (^[a-zA-Z0-9_-]{1,64}$), such as 'get_order'") as Rule,
  description: ((v) =>
    typeof v === 'string' && v.trim() !== '' ? undefined : 'a non-empty string telling the model what the tool does') as Rule,
  parameters: ((v) =>
    (v !== null && typeof v === 'object' && '_zod' in v) || isPlainObject(v)
      ? undefined
      : "a zod object schema (z.object({ ... })) or a JSON Schema object with type: 'object'") as Rule,
  execute: ((v) => (typeof v === 'function' ? undefined : 'a function (args, { runContext, signal, callId }) => result')) as Rule,
  requiresApproval: ((v) =>
    typeof v === 'boolean' || typeof v === 'function'
      ? undefined
      : 'true, false, or a function (args, runContext) => boolean | Promise<boolean>') as Rule,
  timeoutMs: is.timeoutMs,
};
const REQUIRED = ['name', 'description', 'parameters', 'execute'];

/**
 * Builds a tool the model may call. The definition is checked at once: a bad name, a missing `execute`, a schema
 * that is not an object schema or an unknown option throws `HookchainConfigError` naming the tool and the fix.
 * `parameters` is a zod 4 object schema (arguments typed from it) or a JSON Schema with `type: 'object'`
 * (validated with ajv, compiled here once).
 *
 * @example
 * import { z } from 'zod';
 *
 * const getOrder = tool({
 *   name: 'get_order',
 *   description: 'Look up an order by its id',
 *   parameters: z.object({ orderId: z.string() }),
 *   execute: async ({ orderId }, { signal }) => fetchOrder(orderId, { signal }),
 *   timeoutMs: 10_000,
 * });
 *
 * getOrder.parse('{"orderId":"A-17"}'); // { ok: true, args: { orderId: 'A-17' } }
 * getOrder.parse('{"orderId":17}'); // { ok: false, error: 'Tool "get_order": the arguments do not match …' }
 */
export function tool<Args = Record<string, unknown>>(definition: ToolDefinition<Args>): Tool<Args> {
  const given = isPlainObject(definition) ? definition['name'] : undefined;
  const owner = typeof given === 'string' ? `tool(${JSON.stringify(given)})` : 'tool()';
  const { name, description, parameters, execute, requiresApproval, timeoutMs } = checkOptions<ToolDefinition<Args>>(
    owner,
    definition,
    DEFINITION_RULES,
    REQUIRED,
  ) as ToolDefinition<Args>;

  // The rule above let through only an object with `_zod` (zod 4, checked further in fromZod) or a plain object.
  const { jsonSchema, validate: check } = compileObjectSchema(owner, 'parameters', parameters);
  const label = `Tool "${name}"`;
  const validate = (value: unknown): ToolParseResult<Args> => {
    const checked = check(value);
    return checked.ok
      ? { ok: true, args: checked.value as Args }
      : { ok: false, error: `${label}: the arguments do not match the tool's parameters: ${checked.problems}` };
  };

  const parse = (json: string): ToolParseResult<Args> => {
    if (typeof json !== 'string') return { ok: false, error: `${label}: the arguments must be a JSON string, got ${describe(json)}` };
    let value: unknown;
    try {
      // Some OpenAI-compatible servers send '' for a call without arguments; that means {} rather than bad JSON.
      value = json.trim() === '' ? {} : JSON.parse(json);
    } catch (error) {
      return {
        ok: false,
        error: `${label}: the arguments are not valid JSON (${jsonProblem(error)}); send one JSON object that matches the tool's parameters`,
      };
    }
    return validate(value);
  };

  const built = {
    name,
    description,
    jsonSchema,
    requiresApproval: requiresApproval ?? false,
    timeoutMs,
    execute,
    parse,
    validate,
  };
  Object.defineProperty(built, TOOL_BRAND, { value: true, enumerable: false });
  return Object.freeze(built);
}

/**
 * What is wrong with argument JSON, without V8's quote of the text itself (`Unexpected token 'x', "{"card": 4…" is
 * not valid JSON`): the message also goes to the model and into `tool_call_failed`, which never carry arguments.
 */
export function jsonProblem(error: unknown): string {
  return (error as Error).message.replace(/, (?:\.\.\.)?".*"(?:\.\.\.)? is not valid JSON$/s, '');
}

/** True for a tool built by `tool()` in any loaded copy of hookchain. */
export function isTool(value: unknown): value is Tool {
  return value !== null && typeof value === 'object' && (value as { [TOOL_BRAND]?: unknown })[TOOL_BRAND] === true;
}

/**
 * Checks an agent's (or a run's) tool list: an array of built tools with unique names. Returns a frozen copy.
 * `where` names the owner in errors, such as `'Agent "support"'`; undefined gives an empty list.
 */
export function checkToolList(tools: unknown, where: string): readonly Tool[] {
  if (tools === undefined) return Object.freeze([]);
  if (!Array.isArray(tools)) {
    throw new HookchainConfigError(
      'INVALID_OPTION',
      `${where}: option "tools" must be an array of tools built with tool({ ... }), got ${describe(tools)}`,
    );
  }
  const seen = new Map<string, number>();
  tools.forEach((item: unknown, index) => {
    if (!isTool(item)) {
      throw new HookchainConfigError(
        'INVALID_OPTION',
        `${where}: tools[${index}] is not a tool (got ${describe(item)}); build it with tool({ name, description, parameters, execute })`,
      );
    }
    const first = seen.get(item.name);
    if (first !== undefined) {
      throw new HookchainConfigError(
        'INVALID_OPTION',
        `${where}: tools[${first}] and tools[${index}] are both named "${item.name}"; the model calls tools by name, so rename one`,
      );
    }
    seen.set(item.name, index);
  });
  return Object.freeze([...(tools as Tool[])]);
}

/** What a checked schema does with a value: its output (zod may transform), or every problem in one line. */
export type Validate = (value: unknown) => { ok: true; value: unknown } | { ok: false; problems: string };

/**
 * Compiles a zod 4 object schema or a JSON Schema with `type: 'object'` (tool parameters, `outputSchema`): the JSON
 * Schema the model is sent and a validator. `option` names the option in errors.
 */
export function compileObjectSchema(
  owner: string,
  option: string,
  schema: unknown,
): { jsonSchema: Readonly<Record<string, unknown>>; validate: Validate } {
  if (!isPlainObject(schema) && !(schema !== null && typeof schema === 'object' && '_zod' in schema)) {
    throw new HookchainConfigError(
      'INVALID_OPTION',
      `${owner}: option "${option}" must be a zod object schema (z.object({ … })) or a JSON Schema with type: 'object', got ${describe(schema)}`,
    );
  }
  return '_zod' in (schema as object)
    ? fromZod(owner, option, schema as ZodSchemaLike)
    : fromJsonSchema(owner, option, schema as Record<string, unknown>);
}

// ---------------------------------------------------------------------------------------------------------------
// zod

function fromZod(
  owner: string,
  option: string,
  schema: ZodSchemaLike,
): { jsonSchema: Readonly<Record<string, unknown>>; validate: Validate } {
  const kind = (schema as { _zod?: { def?: { type?: unknown } } })._zod?.def?.type;
  if (typeof schema.safeParse !== 'function' || typeof kind !== 'string') {
    throw new HookchainConfigError(
      'INVALID_OPTION',
      `${owner}: option "${option}" looks like a zod schema but has no safeParse or _zod.def; pass a zod 4 schema (npm install zod@^4) or a JSON Schema object`,
    );
  }
  if (kind !== 'object') {
    throw new HookchainConfigError(
      'INVALID_OPTION',
      `${owner}: option "${option}" must be an object schema such as z.object({ orderId: z.string() }), got a zod ${kind} schema; the value must be a JSON object`,
    );
  }
  let converted: unknown;
  try {
    // 'input': the model writes what the schema accepts, so a field with a default is optional for it.
    const own = (schema as { toJSONSchema?: (params: object) => unknown }).toJSONSchema;
    converted = typeof own === 'function' ? own.call(schema, { io: 'input' }) : loadZodCore(owner).toJSONSchema(schema, { io: 'input' });
  } catch (error) {
    if (error instanceof HookchainConfigError) throw error;
    throw new HookchainConfigError(
      'INVALID_OPTION',
      `${owner}: option "${option}" cannot be expressed as JSON Schema for the model (${(error as Error).message}); use types JSON Schema can describe (no dates, bigints, functions) or pass a JSON Schema object`,
      { cause: error },
    );
  }
  const validate: Validate = (value) => {
    const result = schema.safeParse(value);
    if (result.success) return { ok: true, value: result.data };
    return { ok: false, problems: result.error.issues.map((i) => at(i.path.map(String), i.message)).join('; ') };
  };
  return { jsonSchema: deepFreeze(withoutMetaSchema(converted as Record<string, unknown>)), validate };
}

interface ZodCore {
  toJSONSchema(schema: unknown, params: object): unknown;
}

let zodCore: ZodCore | undefined;

/** zod's standalone converter, for schemas without the `toJSONSchema` method (zod/mini); loaded on first need. */
function loadZodCore(owner: string): ZodCore {
  try {
    zodCore ??= createRequire(import.meta.url)('zod/v4/core') as ZodCore;
    return zodCore;
  } catch (error) {
    throw new HookchainConfigError(
      'MISSING_DEPENDENCY',
      `${owner}: converting this zod schema to JSON Schema needs the zod package where hookchain can load it: npm install zod@^4`,
      { cause: error },
    );
  }
}

// ---------------------------------------------------------------------------------------------------------------
// JSON Schema (ajv)

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}
interface AjvValidate {
  (data: unknown): boolean;
  errors?: AjvError[] | null;
}
type AjvClass = new (options: object) => { compile(schema: object): AjvValidate };

/** ajv's classes by draft, each required on first need (a JSON Schema tool), never at import. */
const ajvClasses = new Map<string, AjvClass>();

function ajvFor(draft: 'ajv' | 'ajv/dist/2019' | 'ajv/dist/2020'): AjvClass {
  let cls = ajvClasses.get(draft);
  if (cls === undefined) {
    const loaded = createRequire(import.meta.url)(draft) as AjvClass & { default?: AjvClass };
    cls = loaded.default ?? loaded;
    ajvClasses.set(draft, cls);
  }
  return cls;
}

function fromJsonSchema(
  owner: string,
  option: string,
  schema: Record<string, unknown>,
): { jsonSchema: Readonly<Record<string, unknown>>; validate: Validate } {
  if (schema['type'] !== 'object') {
    throw new HookchainConfigError(
      'INVALID_OPTION',
      `${owner}: option "${option}" must be a JSON Schema with type: 'object' (the value must be a JSON object), got type ${describe(schema['type'])}`,
    );
  }
  let copy: Record<string, unknown>;
  try {
    // A private copy: the app editing its schema object later must not change what the model sees or what is checked.
    copy = structuredClone(schema);
  } catch (error) {
    throw new HookchainConfigError(
      'INVALID_OPTION',
      `${owner}: option "${option}" must be plain JSON data (no functions or class instances): ${(error as Error).message}`,
      { cause: error },
    );
  }
  const meta = typeof copy['$schema'] === 'string' ? copy['$schema'] : '';
  const draft = meta.includes('2020-12') ? 'ajv/dist/2020' : meta.includes('2019-09') ? 'ajv/dist/2019' : 'ajv';
  let check: AjvValidate;
  try {
    // One instance per tool, so two tools may reuse an $id. allErrors: the model fixes every problem in one retry.
    // strict: false, because a schema written for a model may carry keywords ajv does not know; formats are hints
    // to the model (ajv-formats is not bundled), not checked.
    const Ajv = ajvFor(draft);
    check = new Ajv({ allErrors: true, strict: false, validateFormats: false }).compile(copy);
  } catch (error) {
    throw new HookchainConfigError(
      'INVALID_OPTION',
      `${owner}: option "${option}" is not a valid JSON Schema (${(error as Error).message}); fix the schema`,
      { cause: error },
    );
  }
  const validate: Validate = (value) => {
    if (check(value)) return { ok: true, value };
    return { ok: false, problems: (check.errors ?? []).map(ajvProblem).join('; ') };
  };
  return { jsonSchema: deepFreeze(withoutMetaSchema(copy)), validate };
}

function ajvProblem(error: AjvError): string {
  const path = error.instancePath === '' ? [] : error.instancePath.slice(1).split('/');
  const extra = error.keyword === 'additionalProperties' ? ` ("${String(error.params['additionalProperty'])}")` : '';
  return at(path, `${error.message ?? error.keyword}${extra}`);
}

// ---------------------------------------------------------------------------------------------------------------

/** One problem as the model reads it: `items.0.qty: must be >= 1`, or the bare message at the root. */
function at(path: readonly string[], message: string): string {
  return path.length === 0 ? message : `${path.join('.')}: ${message}`;
}

/** `$schema` is for validators; the model gets the schema alone. */
function withoutMetaSchema(schema: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _meta, ...rest } = schema;
  return rest;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
