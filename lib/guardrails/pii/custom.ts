/**
 * User-supplied patterns (`customPatterns: { EMPLOYEE_ID: /EMP-\d{6}/ }`), checked when the guardrail is built so
 * that a bad pattern fails at startup with its name, not in the middle of a run.
 *
 * They are the user's code: a pattern with nested quantifiers (`(a+)+`) can backtrack exponentially on hostile
 * input, and nothing here can bound that. The built-in entities avoid regex backtracking entirely.
 */
import { HookchainConfigError, HookchainError } from '../../errors.ts';
import { PII_ENTITIES } from './types.ts';

export interface CustomPattern {
  readonly name: string;
  readonly regex: RegExp;
  /** The guardrail it belongs to, for the error a failing pattern throws. */
  readonly owner: string;
}

/** `value`: the option, already checked to be a plain object (or undefined) by the guardrail's option rules. */
export function compileCustomPatterns(value: object | undefined, owner: string): CustomPattern[] {
  if (value === undefined) return [];
  return Object.entries(value).map(([name, pattern]) => compileOne(name, pattern, owner));
}

function compileOne(name: string, pattern: unknown, owner: string): CustomPattern {
  const where = `${owner}: customPatterns["${name}"]`;
  if (name.trim() === '')
    throw new HookchainConfigError(
      'INVALID_PATTERN',
      `${owner}: customPatterns has an empty name; give each pattern a name such as "EMPLOYEE_ID"`,
    );
  if ((PII_ENTITIES as readonly string[]).includes(name)) {
    throw new HookchainConfigError(
      'INVALID_PATTERN',
      `${where} reuses a built-in entity name; pick another name, or list "${name}" in "entities" instead`,
    );
  }
  let regex: RegExp;
  if (pattern instanceof RegExp) {
    regex = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, '') + 'g');
  } else if (typeof pattern === 'string') {
    if (pattern === '')
      throw new HookchainConfigError('INVALID_PATTERN', `${where} is an empty string; give a regular expression such as "EMP-\\\\d{6}"`);
    try {
      regex = new RegExp(pattern, 'g');
    } catch (error) {
      throw new HookchainConfigError(
        'INVALID_PATTERN',
        `${where} is not a valid regular expression (${(error as Error).message}); fix the pattern or pass a RegExp`,
      );
    }
  } else {
    throw new HookchainConfigError(
      'INVALID_PATTERN',
      `${where} must be a string or a RegExp, got ${pattern === null ? 'null' : typeof pattern}`,
    );
  }
  regex.lastIndex = 0;
  if (regex.test('')) {
    throw new HookchainConfigError(
      'INVALID_PATTERN',
      `${where} matches the empty string, so it would match everywhere; require at least one character`,
    );
  }
  regex.lastIndex = 0;
  return { name, regex, owner };
}

/** Standard leftmost, non-overlapping matches; empty matches (possible with lookarounds) are skipped. */
export function scanCustom(pattern: CustomPattern, text: string, emit: (type: string, start: number, end: number) => void): void {
  const re = pattern.regex;
  re.lastIndex = 0;
  try {
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      if (m[0].length === 0) {
        re.lastIndex = m.index + 1;
        continue;
      }
      emit(pattern.name, m.index, m.index + m[0].length);
    }
  } catch (error) {
    throw patternFailed(`${pattern.owner}: customPatterns["${pattern.name}"]`, text.length, error);
  }
}

/**
 * A user pattern with an unbounded repeated group (`\d(?:[ -]?\d){5,}`) makes the regex engine overflow its stack
 * on a long enough run: name the pattern and the fix instead of surfacing a bare `RangeError`. The check fails
 * (closed, unless `failOpen`), as for any other crash.
 */
export function patternFailed(where: string, length: number, error: unknown): unknown {
  if (!(error instanceof RangeError)) return error;
  return new HookchainError(
    'PATTERN_FAILED',
    `${where} could not be run on a text of ${length} characters (${error.message}); bound its repetitions (e.g. {13,19} instead of {12,} or +)`,
    { cause: error },
  );
}
