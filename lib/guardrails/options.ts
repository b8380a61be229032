/** Construction-time checks shared by the built-in guardrails: unknown or mistyped options fail at once, by name. */
import { HookchainConfigError } from '../errors.ts';

const BASE_OPTIONS = ['name', 'failOpen', 'timeoutMs'];

export function checkOptions(owner: string, options: object | undefined, allowed: readonly string[]): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new HookchainConfigError('INVALID_OPTION', `${owner}: options must be an object, got ${options === null ? 'null' : typeof options}`);
  }
  const known = [...BASE_OPTIONS, ...allowed];
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new HookchainConfigError('UNKNOWN_OPTION', `${owner}: unknown option "${key}"; the options are ${known.map((k) => `"${k}"`).join(', ')}`);
    }
  }
}

export function optionalBoolean(owner: string, name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new HookchainConfigError('INVALID_OPTION', `${owner}: option "${name}" must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

export function optionalOneOf<T extends string>(owner: string, name: string, value: unknown, choices: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!choices.includes(value as T)) {
    throw new HookchainConfigError('INVALID_OPTION', `${owner}: option "${name}" must be one of ${choices.map((c) => `"${c}"`).join(', ')}, got ${JSON.stringify(value)}`);
  }
  return value as T;
}

export function optionalPositiveInt(owner: string, name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new HookchainConfigError('INVALID_OPTION', `${owner}: option "${name}" must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}
