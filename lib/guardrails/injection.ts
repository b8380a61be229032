/**
 * `PromptInjectionGuardrail`: blocks input (pre-hook), output (post-hook) and streamed output that contains a
 * known prompt-injection or jailbreak phrase, after normalising away the usual disguises (see
 * injection/normalize.ts), and input that the shipped classifier (injection/classifier.ts, trained by
 * `npm run train:injection`) scores at or above the threshold.
 */
import { CheckTrigger, HookchainConfigError } from '../errors.ts';
import { checkOptions, is, type Rule, type Rules } from '../options.ts';
import type { HookArgs } from '../types.ts';
import { BaseGuardrail, GUARDRAIL_OPTION_RULES, type ChunkCheckArgs, type ChunkCheckResult, type GuardrailOptions } from './base.ts';
import { probability, shippedModel } from './injection/classifier.ts';
import { InjectionMatcher, type InjectionMatch, type PatternInput } from './injection/matcher.ts';
import { normalizeText } from './injection/normalize.ts';
import { AGNO_PHRASES, DEFAULT_RULES } from './injection/rules.ts';
import { InjectionStream } from './injection/stream.ts';
import { locationOf, readTarget, textSegments } from './text.ts';

export { AGNO_PHRASES, DEFAULT_RULES } from './injection/rules.ts';
export { normalizeText as normalizeForInjection } from './injection/normalize.ts';

/**
 * The classifier's named operating points: the (calibrated) probability at or above which an input is blocked.
 * Read from the training data only, by `npm run train:injection`: each training source scored by a model trained
 * without it, the threshold at which those out-of-source scores flag about 5% (`strict`), 2% (`balanced`) and 1%
 * (`lenient`) of the benign prompts, rounded. See docs/guardrails.md ("The injection classifier"). Frozen.
 */
export const INJECTION_OPERATING_POINTS = Object.freeze({ strict: 0.75, balanced: 0.85, lenient: 0.9 } as const);
/** A name of `INJECTION_OPERATING_POINTS`. */
export type InjectionOperatingPoint = keyof typeof INJECTION_OPERATING_POINTS;

/** Options of `new PromptInjectionGuardrail(options)`: the common guardrail options, the phrase list and the classifier. */
export interface PromptInjectionGuardrailOptions extends GuardrailOptions {
  /**
   * The classifier's threshold on input: a probability in (0, 1], or an operating point of
   * `INJECTION_OPERATING_POINTS`. Default `'balanced'`.
   */
  threshold?: number | InjectionOperatingPoint;
  /** Run the classifier on input besides the rules. Default true; `false` leaves the rules alone (as before 0.2). */
  classifier?: boolean;
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
const threshold: Rule = (v) =>
  (typeof v === 'number' && v > 0 && v <= 1) || (typeof v === 'string' && Object.hasOwn(INJECTION_OPERATING_POINTS, v))
    ? undefined
    : `a number in (0, 1] or one of ${Object.keys(INJECTION_OPERATING_POINTS)
        .map((k) => `'${k}'`)
        .join(', ')}`;
const RULES: Rules = {
  ...GUARDRAIL_OPTION_RULES,
  patterns: patternList,
  extraPatterns: patternList,
  maxPatternLength: is.positiveInt,
  threshold,
  classifier: is.boolean,
};

/**
 * Blocks input (as a pre-hook), output (as a post-hook) and streamed output that contains a known prompt-injection
 * or jailbreak phrase ("ignore previous instructions", "developer mode"…), matched after normalisation (NFKD with
 * accents dropped, case, zero-width characters, leetspeak and look-alike letters folded, punctuation runs read as
 * one space); and input that the shipped classifier (a logistic regression over hashed n-grams of the same normal
 * form) scores at or above `threshold`. The verdict carries `PROMPT_INJECTION` and, in `additionalData`, either
 * the matched `rule` (the rules run first) or `{ detector: 'classifier', score, threshold }`; never the text.
 *
 * @example
 * const agent = new Agent({
 *   model,
 *   preHooks: [new PromptInjectionGuardrail({ threshold: 'strict', extraPatterns: ['reveal your system prompt', /\bDAN mode\b/] })],
 * });
 */
export class PromptInjectionGuardrail extends BaseGuardrail {
  private readonly matcher: InjectionMatcher;
  private readonly stream: InjectionStream;
  /** The classifier's threshold on input, or undefined when the classifier is off. */
  readonly threshold: number | undefined;

  /**
   * Validates the options and compiles the patterns at once (a bad pattern throws `HookchainConfigError`).
   *
   * @param options `patterns` to replace the defaults, `extraPatterns` to add to them, `threshold` for the
   *   classifier (default `'balanced'`), `classifier: false` to turn it off; every option is optional. The
   *   classifier's weights are read from the package on the first check, not here.
   */
  constructor(options: PromptInjectionGuardrailOptions = {}) {
    super(options);
    const {
      patterns,
      extraPatterns: extra = [],
      maxPatternLength: userMax = BUILTIN_MAX,
      threshold: point = 'balanced',
      classifier = true,
    } = checkOptions<PromptInjectionGuardrailOptions>(OWNER, options, RULES);
    if (patterns !== undefined && patterns.length === 0 && extra.length === 0) {
      throw new HookchainConfigError(
        'INVALID_OPTION',
        `${OWNER}: option "patterns" is empty, so nothing would be checked; omit it to use the defaults`,
      );
    }
    this.threshold = classifier ? (typeof point === 'number' ? point : INJECTION_OPERATING_POINTS[point]) : undefined;
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

  /** Input: the rules, then the classifier. Output: the rules (the classifier was trained on prompts, not answers). */
  check(args: HookArgs): void {
    const classify = args.phase === 'pre' && this.threshold !== undefined;
    for (const segment of textSegments(readTarget(args))) {
      const normal = normalizeText(segment.text);
      const match = this.matcher.find(normal);
      if (match) this.reject(args, verdictMessage(match), verdictOptions(match, locationOf(segment)));
      if (!classify) continue;
      const score = probability(shippedModel(), normal);
      if (score >= this.threshold!) {
        this.reject(args, `Potential prompt injection detected (classifier score ${score.toFixed(3)} ≥ ${this.threshold})`, {
          checkTrigger: CheckTrigger.PROMPT_INJECTION,
          additionalData: { detector: 'classifier', score, threshold: this.threshold!, ...locationOf(segment) },
        });
      }
    }
  }

  /** Streams: holds back what could still begin a phrase; blocks as soon as one is complete. */
  override checkChunk(args: ChunkCheckArgs): ChunkCheckResult {
    return this.stream.check(args);
  }

  /** The first rule match in `text` (rule name and normal-form offsets), for tools and benchmarks. Rules only. */
  detect(text: string): InjectionMatch | undefined {
    return this.matcher.find(normalizeText(text));
  }

  /** The classifier's probability (0–1) that `text` is an injection, whatever the threshold (reads the weights on first use). */
  score(text: string): number {
    return probability(shippedModel(), normalizeText(text));
  }

  /**
   * What a check of `text` as input would block on: the first rule match, else a score at or above the threshold.
   *
   * @internal
   */
  inspect(
    text: string,
  ):
    | { detector: 'rule'; rule: string; start: number; end: number }
    | { detector: 'classifier'; score: number; threshold: number }
    | undefined {
    const normal = normalizeText(text);
    const match = this.matcher.find(normal);
    if (match) return { detector: 'rule', ...match };
    if (this.threshold === undefined) return undefined;
    const score = probability(shippedModel(), normal);
    return score >= this.threshold ? { detector: 'classifier', score, threshold: this.threshold } : undefined;
  }
}

function verdictMessage(match: InjectionMatch): string {
  return `Potential prompt injection detected (rule "${match.rule}")`;
}

function verdictOptions(match: InjectionMatch, where: object) {
  return { checkTrigger: CheckTrigger.PROMPT_INJECTION, additionalData: { rule: match.rule, ...where } };
}
