/**
 * Agno 2.9.0's published guardrail rules, re-implemented from their description to
 * compare on the same data. Not Agno's code: the same rules, written here.
 */
export const AGNO_PII: Readonly<Record<string, RegExp>> = {
  // 3-2-4 digits, hyphens required, word-bounded.
  SSN: /\b\d{3}-\d{2}-\d{4}\b/g,
  // 16 digits in four groups of four, each separator an optional single space or hyphen; no Luhn check.
  CREDIT_CARD: /\b\d{4}[ -]?\d{4}[ -]?\d{4}[ -]?\d{4}\b/g,
  // Local part [A-Za-z0-9._%+-], @, domain [A-Za-z0-9.-], a dot, a TLD of two or more letters.
  EMAIL: /\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b/g,
  // US 10 digits as 3-3-4, each separator an optional space, dot or hyphen.
  PHONE: /\b\d{3}[ .-]?\d{3}[ .-]?\d{4}\b/g,
};

/** Every span each Agno PII rule matches (what its mask mode would replace). */
export function agnoPiiSpans(text: string): { type: string; start: number; end: number }[] {
  const out: { type: string; start: number; end: number }[] = [];
  for (const [type, re] of Object.entries(AGNO_PII)) {
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) out.push({ type, start: m.index, end: m.index + m[0].length });
  }
  return out;
}

const AGNO_INJECTION = [
  'ignore previous instructions',
  'ignore your instructions',
  'you are now a',
  'forget everything above',
  'developer mode',
  'override safety',
  'disregard guidelines',
  'system prompt',
  'jailbreak',
  'act as if',
  'pretend you are',
  'roleplay as',
  'simulate being',
  'bypass restrictions',
  'ignore safeguards',
  'admin override',
  'root access',
  'forget everything',
];

/** A hit is a plain substring of the lower-cased input. */
export function agnoInjection(text: string): boolean {
  const lower = text.toLowerCase();
  return AGNO_INJECTION.some((p) => lower.includes(p));
}
