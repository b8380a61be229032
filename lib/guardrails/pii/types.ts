/** The PII entity types the built-in scanners know, in priority order (an overlap is reported as the earlier type). */
export const PII_ENTITIES = ['SSN', 'CREDIT_CARD', 'IBAN', 'EMAIL', 'IP_ADDRESS', 'PHONE'] as const;
export type PiiEntity = (typeof PII_ENTITIES)[number];

/** A span of text that holds PII: `[start, end)` in UTF-16 code units. Never carries the value itself. */
export interface PiiSpan {
  type: string;
  start: number;
  end: number;
}

export type Emit = (type: PiiEntity, start: number, end: number) => void;
