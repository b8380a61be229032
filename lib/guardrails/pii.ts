/**
 * `PIIDetectionGuardrail`: finds personal data in the input (as a pre-hook), the output (as a post-hook) and
 * streamed output (`checkChunk`), and either blocks the run (`PII_DETECTED`) or masks the data in place.
 */
import { CheckTrigger, HookchainConfigError } from '../errors.ts';
import { checkOptions, is, isPlainObject, type Rules } from '../options.ts';
import type { HookArgs } from '../types.ts';
import { BaseGuardrail, GUARDRAIL_OPTION_RULES, type ChunkCheckArgs, type ChunkCheckResult, type GuardrailOptions } from './base.ts';
import { compileCustomPatterns } from './pii/custom.ts';
import { defaultRegions, isSupportedRegion } from './pii/phone.ts';
import { PiiScanner, type MaskStyle } from './pii/scan.ts';
import { PiiStream } from './pii/stream.ts';
import { PII_ENTITIES, type PiiEntity, type PiiSpan } from './pii/types.ts';
import { locationOf, readTarget, rewriteText, textSegments, writeTarget, type TextLocation } from './text.ts';

export { PII_ENTITIES, type PiiEntity } from './pii/types.ts';
export type { MaskStyle } from './pii/scan.ts';

/** Options of `new PIIDetectionGuardrail(options)`: the common guardrail options plus what to find and how to mask it. */
export interface PIIDetectionGuardrailOptions extends GuardrailOptions {
  /** Mask what is found instead of blocking the run. Default false (block). */
  maskPii?: boolean;
  /** Which built-in entity types to look for. Default: all of `PII_ENTITIES`. */
  entities?: PiiEntity[];
  /** Extra types: name → pattern string or RegExp. Validated when the guardrail is built. */
  customPatterns?: Record<string, string | RegExp>;
  /** How masked text looks: same-length `*` (default) or a typed placeholder such as `<EMAIL>`. */
  mask?: MaskStyle;
  /** Streams: the longest match a custom pattern may have; that many characters are held back. Default 256. */
  customPatternMaxLength?: number;
  /**
   * Regions (ISO 3166 alpha-2, such as `'US'`, `'GB'`, `'DE'`) whose national phone formats, written without a
   * country code, are found: where libphonenumber-js validates the number for one of them and the context is
   * phone-like. Default: the region of the process locale (`Intl.DateTimeFormat().resolvedOptions().locale`,
   * `en-GB` → `['GB']`), or `['US']` when the locale names none. `[]`: no national formats.
   */
  regions?: string[];
}

/** One finding in a verdict: the type and where it is, never the value. */
export interface PiiFinding extends PiiSpan, TextLocation {}

const OWNER = 'PIIDetectionGuardrail';

function entitiesRule(value: unknown): string | undefined {
  const expected = `an array of ${PII_ENTITIES.join(', ')}`;
  if (!Array.isArray(value)) return expected;
  const unknown: unknown = value.find((e) => !(PII_ENTITIES as readonly unknown[]).includes(e));
  return unknown === undefined
    ? undefined
    : `${expected} (unknown entity ${JSON.stringify(unknown)}; use "customPatterns" for other types)`;
}

const RULES: Rules = {
  ...GUARDRAIL_OPTION_RULES,
  maskPii: is.boolean,
  entities: entitiesRule,
  customPatterns: (v) =>
    isPlainObject(v) ? undefined : 'an object mapping a name to a pattern string or RegExp, e.g. { EMPLOYEE_ID: /EMP-\\d{6}/ }',
  mask: is.oneOf('asterisk', 'placeholder'),
  customPatternMaxLength: is.positiveInt,
  regions: regionsRule,
};

function regionsRule(value: unknown): string | undefined {
  const expected = "an array of ISO 3166 alpha-2 region codes that libphonenumber-js supports, e.g. ['US', 'GB']";
  if (!Array.isArray(value)) return expected;
  const bad: unknown = value.find((r) => typeof r !== 'string' || !isSupportedRegion(r));
  return bad === undefined ? undefined : `${expected} (unsupported region ${JSON.stringify(bad)})`;
}

/**
 * Finds personal data — SSN, credit card (Luhn-checked), IBAN (checksum), email, IP address, phone — in the input
 * (as a pre-hook), the output (as a post-hook) and streamed output, in every message and text part. By default it
 * blocks with `PII_DETECTED` (`additionalData.detectedPii` lists the types, `findings` their offsets, never the
 * values); with `maskPii` it masks them in place and the run goes on. Linear time on any input.
 *
 * @example
 * const agent = new Agent({
 *   model,
 *   preHooks: [new PIIDetectionGuardrail({ maskPii: true, mask: 'placeholder' })], // 'a@b.com' → '<EMAIL>'
 *   postHooks: [new PIIDetectionGuardrail({ entities: ['CREDIT_CARD', 'SSN'] })], // block these in answers
 * });
 */
export class PIIDetectionGuardrail extends BaseGuardrail {
  /** True: mask what is found; false (default): block the run. */
  readonly maskPii: boolean;
  /** The built-in entity types this guardrail looks for (default: all of `PII_ENTITIES`). */
  readonly entities: readonly PiiEntity[];
  /** How masked text looks (default `'asterisk'`). */
  readonly mask: MaskStyle;
  /** The regions whose national phone formats are found (see the `regions` option). */
  readonly regions: readonly string[];
  private readonly scanner: PiiScanner;
  private readonly stream: PiiStream;

  /**
   * Validates the options and compiles `customPatterns` at once (a bad pattern throws `HookchainConfigError`).
   *
   * @param options What to look for and whether to mask; every option is optional.
   */
  constructor(options: PIIDetectionGuardrailOptions = {}) {
    super(options);
    const {
      maskPii = false,
      mask = 'asterisk',
      entities = PII_ENTITIES,
      customPatterns,
      customPatternMaxLength = 256,
      regions = defaultRegions(),
    } = checkOptions<PIIDetectionGuardrailOptions>(OWNER, options, RULES);
    this.maskPii = maskPii;
    this.mask = mask;
    this.entities = Object.freeze([...new Set(entities)]);
    this.regions = Object.freeze([...new Set(regions)]);
    const custom = compileCustomPatterns(customPatterns, OWNER);
    if (this.entities.length === 0 && custom.length === 0) {
      throw new HookchainConfigError(
        'INVALID_OPTION',
        `${OWNER}: option "entities" is empty and there are no "customPatterns", so nothing would be checked; list at least one entity`,
      );
    }
    this.scanner = new PiiScanner(this.entities, custom, this.regions);
    this.stream = new PiiStream({
      scanner: this.scanner,
      mask: this.maskPii ? this.mask : undefined,
      customMaxLength: customPatternMaxLength,
      hasCustom: custom.length > 0,
      detected: (findings) => this.reject({ phase: 'post' }, verdictMessage('output', findings), verdictOptions(findings)),
    });
  }

  check(args: HookArgs): void {
    const content = readTarget(args);
    if (content === undefined) return;
    if (this.maskPii) {
      writeTarget(
        args,
        rewriteText(content, (text) => this.scanner.mask(text, this.mask)),
      );
      return;
    }
    const findings: PiiFinding[] = [];
    for (const segment of textSegments(content)) {
      for (const f of this.scanner.findings(segment.text)) findings.push({ ...f, ...locationOf(segment) });
    }
    if (findings.length > 0)
      this.reject(args, verdictMessage(args.phase === 'pre' ? 'input' : 'output', findings), verdictOptions(findings));
  }

  /** Streams: masks or blocks before release, holding back only what a later chunk could still turn into PII. */
  override checkChunk(args: ChunkCheckArgs): ChunkCheckResult {
    return this.stream.check(args);
  }

  /** Findings in one text, for tools and benchmarks: types and offsets, no values. */
  scan(text: string): PiiSpan[] {
    return this.scanner.findings(text);
  }
}

function detectedTypes(findings: PiiSpan[]): string[] {
  return [...new Set(findings.map((f) => f.type))];
}

function verdictMessage(where: 'input' | 'output', findings: PiiSpan[]): string {
  return `PII detected in ${where}: ${detectedTypes(findings).join(', ')}`;
}

function verdictOptions(findings: PiiFinding[]) {
  return {
    checkTrigger: CheckTrigger.PII_DETECTED,
    additionalData: { detectedPii: detectedTypes(findings), findings: findings.map((f) => ({ ...f })) },
  };
}
