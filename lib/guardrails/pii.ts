/**
 * `PIIDetectionGuardrail`: finds personal data in the input (as a pre-hook), the output (as a post-hook) and
 * streamed output (`checkChunk`), and either blocks the run (`PII_DETECTED`) or masks the data in place.
 */
import { CheckTrigger, HookchainConfigError } from '../errors.ts';
import type { HookArgs } from '../types.ts';
import { BaseGuardrail, type ChunkCheckArgs, type ChunkCheckResult, type GuardrailOptions } from './base.ts';
import { checkOptions, optionalBoolean, optionalOneOf, optionalPositiveInt } from './options.ts';
import { compileCustomPatterns } from './pii/custom.ts';
import { PiiScanner, type MaskStyle } from './pii/scan.ts';
import { PiiStream } from './pii/stream.ts';
import { PII_ENTITIES, type PiiEntity, type PiiSpan } from './pii/types.ts';
import { locationOf, readTarget, rewriteText, textSegments, writeTarget, type TextLocation } from './text.ts';

export { PII_ENTITIES, type PiiEntity } from './pii/types.ts';
export type { MaskStyle } from './pii/scan.ts';

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
}

/** One finding in a verdict: the type and where it is, never the value. */
export interface PiiFinding extends PiiSpan, TextLocation {}

const OWN_OPTIONS = ['maskPii', 'entities', 'customPatterns', 'mask', 'customPatternMaxLength'];

export class PIIDetectionGuardrail extends BaseGuardrail {
  readonly maskPii: boolean;
  readonly entities: readonly PiiEntity[];
  readonly mask: MaskStyle;
  private readonly scanner: PiiScanner;
  private readonly stream: PiiStream;

  constructor(options: PIIDetectionGuardrailOptions = {}) {
    super(options);
    const owner = 'PIIDetectionGuardrail';
    checkOptions(owner, options, OWN_OPTIONS);
    this.maskPii = optionalBoolean(owner, 'maskPii', options.maskPii, false);
    this.mask = optionalOneOf(owner, 'mask', options.mask, ['asterisk', 'placeholder'] as const, 'asterisk');
    this.entities = Object.freeze(entitiesOption(owner, options.entities));
    const custom = compileCustomPatterns(options.customPatterns, owner);
    if (this.entities.length === 0 && custom.length === 0) {
      throw new HookchainConfigError('INVALID_OPTION', `${owner}: "entities" is empty and there are no "customPatterns", so nothing would be checked; list at least one entity`);
    }
    this.scanner = new PiiScanner(this.entities, custom);
    this.stream = new PiiStream({
      scanner: this.scanner,
      mask: this.maskPii ? this.mask : undefined,
      customMaxLength: optionalPositiveInt(owner, 'customPatternMaxLength', options.customPatternMaxLength, 256),
      hasCustom: custom.length > 0,
      detected: (findings) => this.reject({ phase: 'post' }, verdictMessage('output', findings), verdictOptions(findings)),
    });
  }

  check(args: HookArgs): void {
    const content = readTarget(args);
    if (content === undefined) return;
    if (this.maskPii) {
      writeTarget(args, rewriteText(content, (text) => this.scanner.mask(text, this.mask)));
      return;
    }
    const findings: PiiFinding[] = [];
    for (const segment of textSegments(content)) {
      for (const f of this.scanner.findings(segment.text)) findings.push({ ...f, ...locationOf(segment) });
    }
    if (findings.length > 0) this.reject(args, verdictMessage(args.phase === 'pre' ? 'input' : 'output', findings), verdictOptions(findings));
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

function entitiesOption(owner: string, value: unknown): PiiEntity[] {
  if (value === undefined) return [...PII_ENTITIES];
  if (!Array.isArray(value)) {
    throw new HookchainConfigError('INVALID_OPTION', `${owner}: "entities" must be an array of ${PII_ENTITIES.join(', ')}`);
  }
  for (const e of value) {
    if (!(PII_ENTITIES as readonly unknown[]).includes(e)) {
      throw new HookchainConfigError('INVALID_OPTION', `${owner}: unknown entity ${JSON.stringify(e)} in "entities"; the entities are ${PII_ENTITIES.join(', ')} (use "customPatterns" for others)`);
    }
  }
  return [...new Set(value as PiiEntity[])];
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
