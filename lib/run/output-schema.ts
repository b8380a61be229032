/**
 * `outputSchema`, compiled once per schema object: the JSON Schema the model is sent as its structured-output
 * format, and the validator of its answer (zod's own, or ajv for a JSON Schema, as for tool parameters).
 */
import { compileObjectSchema } from '../tools/tool.ts';
import type { OutputSchemaSetup } from './state.ts';

const compiled = new WeakMap<object, OutputSchemaSetup>();

/** Compiles (or reuses) a schema; `owner` names its owner in errors, such as `Agent "support"` or `run()`. */
export function compileOutputSchema(owner: string, schema: unknown): OutputSchemaSetup {
  const known = schema !== null && typeof schema === 'object' ? compiled.get(schema) : undefined;
  if (known !== undefined) return known;
  const { jsonSchema, validate } = compileObjectSchema(owner, 'outputSchema', schema);
  const title = (jsonSchema as { title?: unknown }).title;
  const name = typeof title === 'string' && /^[a-zA-Z0-9_-]{1,64}$/.test(title) ? title : 'output';
  const setup: OutputSchemaSetup = Object.freeze({
    format: Object.freeze({ name, schema: jsonSchema as Record<string, unknown> }),
    validate,
  });
  compiled.set(schema as object, setup);
  return setup;
}
