/**
 * Request fields, checked the way `checkOptions` checks options: an unknown field or a wrong type answers 400 and
 * the message names the field and what it must be.
 */
import { isPlainObject } from '../../options.ts';
import { badField, HttpError } from './errors.ts';

/** A field rule: undefined when the value is fine, else what it must be. */
export type FieldRule = (value: unknown) => string | undefined;

export const field = {
  string: ((v) => (typeof v === 'string' && v !== '' ? undefined : 'a non-empty string')) as FieldRule,
  boolean: ((v) => (typeof v === 'boolean' ? undefined : 'true or false')) as FieldRule,
  object: ((v) => (isPlainObject(v) ? undefined : 'a JSON object')) as FieldRule,
  array: ((v) => (Array.isArray(v) ? undefined : 'an array')) as FieldRule,
  input: ((v) =>
    (typeof v === 'string' && v.trim() !== '') || (Array.isArray(v) && v.length > 0)
      ? undefined
      : 'a non-empty string or a non-empty array of chat messages') as FieldRule,
};

/** Checks `body` against `rules`: `required` must be present, unknown fields are refused unless `allowUnknown`. */
export function checkFields<T>(
  body: Record<string, unknown>,
  rules: Record<string, FieldRule>,
  required: readonly string[],
  allowUnknown = false,
): T {
  if (!allowUnknown) {
    for (const key of Object.keys(body)) {
      if (!Object.hasOwn(rules, key)) {
        throw new HttpError(400, 'invalid_request_error', `unknown field "${key}"; the known fields are ${Object.keys(rules).join(', ')}`, {
          param: key,
        });
      }
    }
  }
  for (const key of required) {
    if (body[key] === undefined || body[key] === null) {
      throw new HttpError(400, 'invalid_request_error', `field "${key}" is required; it must be ${rules[key]!(undefined)}`, { param: key });
    }
  }
  for (const [key, rule] of Object.entries(rules)) {
    const value = body[key];
    if (value === undefined) continue;
    const expected = rule(value);
    if (expected !== undefined) throw badField(key, expected);
  }
  return body as T;
}

/** A positive integer query parameter, or undefined when absent. */
export function queryInt(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : NaN;
  if (!(n > 0)) throw badField(name, 'a positive integer');
  return n;
}
