/**
 * Compiles the rules for the normal form and finds the first match. All built-in rules are tried in one pass of a
 * combined expression; only on a hit is the rule that matched there looked up. Rules are bounded repetitions of
 * words separated by single spaces, so each position costs a bounded amount: matching is linear in the text.
 */
import { HookchainConfigError } from '../../errors.ts';
import { patternFailed } from '../pii/custom.ts';
import { normalizePattern, normalizeText } from './normalize.ts';
import { phraseSource, type InjectionRule } from './rules.ts';

/** A prompt-injection match, as `PromptInjectionGuardrail.detect()` returns it: which rule, and where in the normal form. */
export interface InjectionMatch {
  /** The rule's name; for a phrase, the phrase as given. */
  rule: string;
  /** Offset of the match in the normal form of the text (not in the original text). */
  start: number;
  /** Offset just past the match in the normal form. */
  end: number;
}

interface CompiledRule {
  readonly name: string;
  readonly regex: RegExp;
}

/** In the normal form words are separated by single spaces: a word starts at 0 or after a space. */
const WORD_START = '(?<![^ ])';

/** Built-in sources are written in plain lower case; the normal form reads `l` as `i`. */
function foldSource(source: string): string {
  return source.replace(/\\[pP]\{[^}]*\}|l/g, (m) => (m === 'l' ? 'i' : m));
}

/**
 * A prompt-injection pattern: a phrase (matched on the normal form, at a word start) or a RegExp (made
 * case-insensitive and run on the normal form).
 */
export type PatternInput = string | RegExp;

export class InjectionMatcher {
  private readonly combined: RegExp | undefined;
  private readonly rules: CompiledRule[];
  private readonly custom: CompiledRule[];
  private readonly owner: string;

  constructor(rules: readonly InjectionRule[], patterns: readonly PatternInput[], owner: string) {
    this.owner = owner;
    this.rules = [];
    this.custom = [];
    for (const rule of rules) this.rules.push({ name: rule.name, regex: new RegExp(`${WORD_START}(?:${foldSource(rule.source)})`, 'y') });
    patterns.forEach((pattern, index) => {
      if (typeof pattern === 'string') {
        const normal = normalizeText(pattern).trim();
        if (normal === '')
          throw new HookchainConfigError(
            'INVALID_PATTERN',
            `${owner}: pattern ${index} (${JSON.stringify(pattern)}) has no letters or digits, so it would match nothing useful; remove it`,
          );
        this.rules.push({ name: pattern, regex: new RegExp(`${WORD_START}${phraseSource(normal)}`, 'y') });
      } else if (pattern instanceof RegExp) {
        const regex = normalizePattern(pattern);
        if (regex.test(''))
          throw new HookchainConfigError(
            'INVALID_PATTERN',
            `${owner}: pattern ${index} (${String(pattern)}) matches the empty string, so it would match everything`,
          );
        this.custom.push({ name: String(pattern), regex });
      } else {
        throw new HookchainConfigError(
          'INVALID_PATTERN',
          `${owner}: pattern ${index} must be a phrase string or a RegExp, got ${pattern === null ? 'null' : typeof pattern}`,
        );
      }
    });
    const sources = this.rules.map((r) => r.regex.source);
    this.combined = sources.length > 0 ? new RegExp(sources.map((s) => `(?:${s})`).join('|'), 'g') : undefined;
  }

  /** The earliest match in a normal-form text, if any. */
  find(text: string): InjectionMatch | undefined {
    let best: InjectionMatch | undefined;
    if (this.combined) {
      this.combined.lastIndex = 0;
      const hit = this.combined.exec(text);
      if (hit) best = this.ruleAt(text, hit.index);
    }
    for (const rule of this.custom) {
      try {
        const m = firstMatch(rule.regex, text);
        if (m && (!best || m.start < best.start)) best = { rule: rule.name, ...m };
      } catch (error) {
        throw patternFailed(`${this.owner}: pattern ${rule.name}`, text.length, error);
      }
    }
    return best;
  }

  private ruleAt(text: string, index: number): InjectionMatch | undefined {
    for (const rule of this.rules) {
      rule.regex.lastIndex = index;
      const m = rule.regex.exec(text);
      if (m) return { rule: rule.name, start: index, end: index + m[0].length };
    }
    return undefined;
  }
}

/** The first non-empty match of a global RegExp. */
function firstMatch(regex: RegExp, text: string): { start: number; end: number } | undefined {
  regex.lastIndex = 0;
  for (let m = regex.exec(text); m !== null; m = regex.exec(text)) {
    if (m[0].length > 0) return { start: m.index, end: m.index + m[0].length };
    regex.lastIndex = m.index + 1;
  }
  return undefined;
}
