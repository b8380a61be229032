/**
 * `PromptInjectionGuardrail`: blocks input (pre-hook), output (post-hook) and streamed output that contains a
 * known prompt-injection or jailbreak phrase, after normalising away the usual disguises (see
 * injection/normalize.ts). It is a phrase list: it catches the common wordings and their obfuscations, not novel
 * attacks written in other words — pair it with a model-based classifier where that matters.
 */
import { CheckTrigger, HookchainConfigError } from '../errors.ts';
import { checkOptions, is, type Rule, type Rules } from '../options.ts';
import type { HookArgs } from '../types.ts';
import { BaseGuardrail, GUARDRAIL_OPTION_RULES, type ChunkCheckArgs, type ChunkCheckResult, type GuardrailOptions } from './base.ts';
import { InjectionMatcher, type InjectionMatch, type PatternInput } from './injection/matcher.ts';
import { normalizeText } from './injection/normalize.ts';
import { AGNO_PHRASES, DEFAULT_RULES } from './injection/rules.ts';
import { InjectionStream } from './injection/stream.ts';
import { locationOf, readTarget, textSegments } from './text.ts';

export { AGNO_PHRASES, DEFAULT_RULES } from './injection/rules.ts';
export { normalizeText as normalizeForInjection } from './injection/normalize.ts';

/** Options of `new PromptInjectionGuardrail(options)`: the common guardrail options plus the phrase list. */
export interface PromptInjectionGuardrailOptions extends GuardrailOptions {
  /** Replace the default rules with these phrases (matched on the normal form at a word start) or RegExps. */
  patterns?: PatternInput[];
  /** Add these phrases or RegExps to the defaults. */
  extraPatterns?: PatternInput[];
  /** Streams: the longest match (in normal-form characters) a RegExp pattern may have. Default 200. */
  maxPatternLength?: number;
}

/** Longest match of a built-in rule in normal-form characters (two gaps of three 20-letter words, plus the words). */
const BUILTIN_MAX = 200;
const OWNER = 'PromptInjectionGuardrail';
/** Each element is checked when the rules are compiled, with its index in the message. */
const patternList: Rule = (v) => (Array.isArray(v) ? undefined : 'an array of phrase strings or RegExps');
const RULES: Rules = { ...GUARDRAIL_OPTION_RULES, patterns: patternList, extraPatterns: patternList, maxPatternLength: is.positiveInt };

/**
 * Blocks input (as a pre-hook), output (as a post-hook) and streamed output that contains a known prompt-injection
 * or jailbreak phrase ("ignore previous instructions", "developer mode"…), matched after normalisation (NFKD with
 * accents dropped, case, zero-width characters, leetspeak and look-alike letters folded, punctuation runs read as
 * one space), with `PROMPT_INJECTION` and the matched rule in `additionalData.rule`. A phrase list, not a
 * classifier: it catches the common wordings and their disguises, not novel attacks.
 *
 * @example
 * const agent = new Agent({
 *   model,
 *   preHooks: [new PromptInjectionGuardrail({ extraPatterns: ['reveal your system prompt', /\bDAN mode\b/] })],
 * });
 */
export class PromptInjectionGuardrail extends BaseGuardrail {
  private readonly matcher: InjectionMatcher;
  private readonly stream: InjectionStream;

  /**
   * Validates the options and compiles the patterns at once (a bad pattern throws `HookchainConfigError`).
   *
   * @param options `patterns` to replace the defaults, `extraPatterns` to add to them; every option is optional.
   */
  constructor(options: PromptInjectionGuardrailOptions = {}) {
    super(options);
    const {
      patterns,
      extraPatterns: extra = [],
      maxPatternLength: userMax = BUILTIN_MAX,
    } = checkOptions<PromptInjectionGuardrailOptions>(OWNER, options, RULES);
    if (patterns !== undefined && patterns.length === 0 && extra.length === 0) {
      throw new HookchainConfigError(
        'INVALID_OPTION',
        `${OWNER}: option "patterns" is empty, so nothing would be checked; omit it to use the defaults`,
      );
    }
    const rules = patterns === undefined ? DEFAULT_RULES : [];
    const phrases = patterns === undefined ? [...AGNO_PHRASES, ...extra] : [...patterns, ...extra];
    this.matcher = new InjectionMatcher(rules, phrases, OWNER);
    // A loop, not `Math.max(...list)`: a long phrase list spread as arguments could overflow the stack.
    let phraseMax = 0;
    for (const p of phrases) if (typeof p === 'string') phraseMax = Math.max(phraseMax, normalizeText(p).length);
    this.stream = new InjectionStream(this.matcher, Math.max(BUILTIN_MAX, userMax, phraseMax), (match) =>
      this.reject({ phase: 'post' }, verdictMessage(match), verdictOptions(match, {})),
    );
  }

  check(args: HookArgs): void {
    for (const segment of textSegments(readTarget(args))) {
      const match = this.matcher.find(normalizeText(segment.text));
      if (match) this.reject(args, verdictMessage(match), verdictOptions(match, locationOf(segment)));
    }
  }

  /** Streams: holds back what could still begin a phrase; blocks as soon as one is complete. */
  override checkChunk(args: ChunkCheckArgs): ChunkCheckResult {
    return this.stream.check(args);
  }

  /** The first match in `text` (rule name and normal-form offsets), for tools and benchmarks. */
  detect(text: string): InjectionMatch | undefined {
    return this.matcher.find(normalizeText(text));
  }
}

function verdictMessage(match: InjectionMatch): string {
  return `Potential prompt injection detected (rule "${match.rule}")`;
}

function verdictOptions(match: InjectionMatch, where: object) {
  return { checkTrigger: CheckTrigger.PROMPT_INJECTION, additionalData: { rule: match.rule, ...where } };
}
