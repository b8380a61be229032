/**
 * The one options validator every public constructor and option bag uses, so that a wrong option fails at once,
 * in the same words everywhere: `Owner: option "x" must be <what>, got <what it got>`.
 *
 * A rule returns `undefined` when the value is fine and the description of what was expected otherwise.
 */
import { HookchainConfigError } from './errors.ts';

export type Rule = (value: unknown) => string | undefined;
export type Rules = Readonly<Record<string, Rule>>;

/** The largest delay Node's timers honour (2³¹−1 ms, about 24.8 days); a longer one fires after 1 ms. */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** How a value is shown in an error message: its kind and a short, safe rendering. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'function') {
    const fn = value as { name?: string; prototype?: unknown };
    const isClass = /^class\b/.test(Function.prototype.toString.call(value));
    return isClass ? `the class ${fn.name || '(anonymous)'} (not an instance: add new)` : `a function ${fn.name || '(anonymous)'}`;
  }
  if (typeof value === 'object') return `an object (${(value as object).constructor?.name ?? 'Object'})`;
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`;
  return `${typeof value} ${String(value)}`;
}

/**
 * Checks `options` against `rules`: it must be undefined or a plain object, every key must have a rule, and every
 * present value must pass its rule. `required` keys must be present. Returns the options, typed, or `{}`.
 */
export function checkOptions<T extends object>(
  owner: string,
  options: unknown,
  rules: Rules,
  required: readonly string[] = [],
): Partial<T> {
  if (options === undefined && required.length === 0) return {};
  if (!isPlainObject(options)) {
    throw new HookchainConfigError(
      'INVALID_OPTION',
      `${owner}: options must be an object like { ${Object.keys(rules)[0] ?? ''} }, got ${describe(options)}`,
    );
  }
  for (const key of Object.keys(options)) {
    if (!Object.hasOwn(rules, key)) {
      throw new HookchainConfigError(
        'UNKNOWN_OPTION',
        `${owner}: unknown option "${key}"; known options are ${Object.keys(rules).join(', ')}`,
      );
    }
  }
  for (const key of required) {
    if ((options as Record<string, unknown>)[key] === undefined) {
      throw new HookchainConfigError(
        'INVALID_OPTION',
        `${owner}: option "${key}" is required; it must be ${rules[key]!(undefined) ?? 'set'}`,
      );
    }
  }
  for (const key of Object.keys(options)) {
    const value = (options as Record<string, unknown>)[key];
    if (value === undefined) continue;
    const expected = rules[key]!(value);
    if (expected !== undefined) throw invalidOption(owner, key, expected, value);
  }
  return options as Partial<T>;
}

export function invalidOption(owner: string, key: string, expected: string, got: unknown): HookchainConfigError {
  return new HookchainConfigError('INVALID_OPTION', `${owner}: option "${key}" must be ${expected}, got ${describe(got)}`);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** The rules, by what they accept. */
export const is = {
  boolean: ((v) => (typeof v === 'boolean' ? undefined : 'true or false')) as Rule,
  string: ((v) => (typeof v === 'string' ? undefined : 'a string')) as Rule,
  nonEmptyString: ((v) => (typeof v === 'string' && v.trim() !== '' ? undefined : 'a non-empty string')) as Rule,
  function: ((v) => (typeof v === 'function' ? undefined : 'a function')) as Rule,
  object: ((v) => (isPlainObject(v) ? undefined : 'a plain object')) as Rule,
  positiveInt: ((v) => (typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? undefined : 'a positive integer')) as Rule,
  nonNegativeInt: ((v) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? undefined : 'an integer ≥ 0')) as Rule,
  /** A timer delay: an integer number of milliseconds from 1 to 2³¹−1, which Node's timers honour exactly. */
  timeoutMs: ((v) =>
    typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= MAX_TIMEOUT_MS
      ? undefined
      : `a whole number of milliseconds from 1 to ${MAX_TIMEOUT_MS} (about 24.8 days, the longest timer Node honours)`) as Rule,
  oneOf(...choices: readonly unknown[]): Rule {
    return (v) => (choices.includes(v) ? undefined : `one of ${choices.map((c) => JSON.stringify(c)).join(', ')}`);
  },
  arrayOf(item: Rule, what: string): Rule {
    return (v) => (Array.isArray(v) && v.every((x) => item(x) === undefined) ? undefined : `an array of ${what}`);
  },
  /** An object with the given methods, described as `what`. */
  withMethods(what: string, ...methods: string[]): Rule {
    return (v) =>
      v !== null && typeof v === 'object' && methods.every((m) => typeof (v as Record<string, unknown>)[m] === 'function')
        ? undefined
        : what;
  },
};
