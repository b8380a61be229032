/** The PII entity types the built-in scanners know, in priority order (an overlap is reported as the earlier type). */
export const PII_ENTITIES = ['SSN', 'CREDIT_CARD', 'IBAN', 'EMAIL', 'IP_ADDRESS', 'PHONE'] as const;
/** One built-in PII entity type: `'SSN'`, `'CREDIT_CARD'`, `'IBAN'`, `'EMAIL'`, `'IP_ADDRESS'` or `'PHONE'`. */
export type PiiEntity = (typeof PII_ENTITIES)[number];

/** A span of text that holds PII: `[start, end)` in UTF-16 code units. Never carries the value itself. */
export interface PiiSpan {
  /** The entity type: a `PiiEntity`, or a `customPatterns` name. */
  type: string;
  /** Offset of the first character, in UTF-16 code units. */
  start: number;
  /** Offset just past the last character, in UTF-16 code units. */
  end: number;
}

export type Emit = (type: PiiEntity, start: number, end: number) => void;
