/**
 * PII detection quality: per-entity precision, recall and F1 on Presidio's synthetic corpora, exact-span and
 * overlapping-span, for hookchain and for Agno's rules; and Presidio's own recogniser cases as a parity table.
 * Entity types neither detects are listed with their counts as not covered.
 */
import type { Row } from '../harness.ts';
import { PIIDetectionGuardrail } from '../../lib/guardrails/pii.ts';
import { agnoPiiSpans } from './agno.ts';
import { recognizerCases, type GoldSpan, type PiiRow } from './data.ts';

/** Dataset label → our entity name. */
const LABELS: Readonly<Record<string, string>> = {
  US_SSN: 'SSN',
  CREDIT_CARD: 'CREDIT_CARD',
  EMAIL_ADDRESS: 'EMAIL',
  PHONE_NUMBER: 'PHONE',
  IP_ADDRESS: 'IP_ADDRESS',
  IBAN_CODE: 'IBAN',
};
const AGNO_TYPES = new Set(['SSN', 'CREDIT_CARD', 'EMAIL', 'PHONE']);

/** The bench's default guardrail: national formats off, as before issue 14 (phones: NANP and international only). */
const guard = new PIIDetectionGuardrail({ regions: [] });
type Detector = (text: string) => GoldSpan[];
export const hookchainPii: Detector = (text) => guard.scan(text);
export const agnoPii: Detector = (text) => agnoPiiSpans(text);

interface Counts {
  gold: number;
  predicted: number;
  exactTp: number;
  overlapPredTp: number;
  overlapGoldTp: number;
}

function score(rows: PiiRow[], detect: Detector, type: string): Counts {
  const c: Counts = { gold: 0, predicted: 0, exactTp: 0, overlapPredTp: 0, overlapGoldTp: 0 };
  for (const row of rows) {
    const gold = row.spans.filter((s) => LABELS[s.type] === type);
    const pred = detect(row.text).filter((s) => s.type === type);
    c.gold += gold.length;
    c.predicted += pred.length;
    c.exactTp += pred.filter((p) => gold.some((g) => g.start === p.start && g.end === p.end)).length;
    c.overlapPredTp += pred.filter((p) => gold.some((g) => g.start < p.end && p.start < g.end)).length;
    c.overlapGoldTp += gold.filter((g) => pred.some((p) => g.start < p.end && p.start < g.end)).length;
  }
  return c;
}

const pct = (n: number, d: number) => (d === 0 ? '–' : `${((100 * n) / d).toFixed(1)}`);
const f1 = (p: number, r: number) => (p + r === 0 ? 0 : (2 * p * r) / (p + r));

function cells(c: Counts | undefined, prefix: string): Row {
  if (!c) return { [`${prefix} P/R/F1 exact`]: 'not covered', [`${prefix} P/R/F1 overlap`]: 'not covered' };
  const pe = c.predicted ? c.exactTp / c.predicted : 0;
  const re = c.gold ? c.exactTp / c.gold : 0;
  const po = c.predicted ? c.overlapPredTp / c.predicted : 0;
  const ro = c.gold ? c.overlapGoldTp / c.gold : 0;
  return {
    [`${prefix} P/R/F1 exact`]: `${pct(c.exactTp, c.predicted)} / ${pct(c.exactTp, c.gold)} / ${(100 * f1(pe, re)).toFixed(1)}`,
    [`${prefix} P/R/F1 overlap`]: `${pct(c.overlapPredTp, c.predicted)} / ${pct(c.overlapGoldTp, c.gold)} / ${(100 * f1(po, ro)).toFixed(1)}`,
  };
}

/** One row per covered entity type, then one line listing what neither detector covers. */
export function piiQuality(rows: PiiRow[]): Row[] {
  const out: Row[] = [];
  for (const type of Object.values(LABELS)) {
    const ours = score(rows, hookchainPii, type);
    out.push({
      entity: type,
      gold: ours.gold,
      ...cells(ours, 'hookchain'),
      ...cells(AGNO_TYPES.has(type) ? score(rows, agnoPii, type) : undefined, 'Agno'),
    });
  }
  const uncovered = new Map<string, number>();
  for (const row of rows) for (const s of row.spans) if (!LABELS[s.type]) uncovered.set(s.type, (uncovered.get(s.type) ?? 0) + 1);
  const list = [...uncovered]
    .sort((a, b) => b[1] - a[1])
    .map(([t, n]) => `${t} ${n}`)
    .join(', ');
  out.push({
    entity: 'not covered',
    gold: [...uncovered.values()].reduce((a, b) => a + b, 0),
    'hookchain P/R/F1 exact': list,
    'hookchain P/R/F1 overlap': '',
    'Agno P/R/F1 exact': '',
    'Agno P/R/F1 overlap': '',
  });
  return out;
}

const CASE_LABELS: Readonly<Record<string, string>> = { ...LABELS, URL: 'URL' };

/** A case passes when the detector reports exactly the expected spans of that type (the count, where upstream gives no spans). */
function passes(detect: Detector, c: ReturnType<typeof recognizerCases>[number]): boolean {
  const type = CASE_LABELS[c.entity_type]!;
  const found = detect(c.text).filter((s) => s.type === type);
  if (!c.spans_complete) return found.length === c.expected_count;
  if (found.length !== c.spans.length) return false;
  return c.spans.every((g) => found.some((f) => f.start === g.start && f.end === g.end));
}

export function recognizerParity(): Row[] {
  const cases = recognizerCases();
  const types = [...new Set(cases.map((c) => c.entity_type))];
  return types.map((entity) => {
    const rows = cases.filter((c) => c.entity_type === entity);
    const ours = CASE_LABELS[entity] === 'URL' ? undefined : rows.filter((c) => passes(hookchainPii, c)).length;
    const agno = AGNO_TYPES.has(CASE_LABELS[entity]!) ? rows.filter((c) => passes(agnoPii, c)).length : undefined;
    const negatives = rows.filter((c) => c.expected_count === 0);
    const oursNeg = ours === undefined ? undefined : negatives.filter((c) => passes(hookchainPii, c)).length;
    return {
      entity,
      cases: `${rows.length} (${negatives.length} negative)`,
      'hookchain pass': ours === undefined ? 'not covered' : `${ours} (${pct(ours, rows.length)}%)`,
      'hookchain negatives kept clean': oursNeg === undefined ? '–' : `${oursNeg}/${negatives.length}`,
      'Agno pass': agno === undefined ? 'not covered' : `${agno} (${pct(agno, rows.length)}%)`,
    };
  });
}

/**
 * The regions the Presidio synthetic sets use: their phone numbers are FakeNameGenerator-style records of these
 * countries (read from the number formats and the town next to them), so this is what `regions` would be set to by
 * someone whose users write such numbers.
 */
export const SYNTH_REGIONS = [
  'US',
  'GB',
  'DE',
  'AT',
  'CH',
  'FR',
  'BE',
  'NL',
  'IT',
  'DK',
  'NO',
  'SE',
  'IS',
  'HU',
  'CZ',
  'CY',
  'AU',
  'ZA',
  'BR',
];

/** PHONE only: without `regions` (NANP and international), with the process default, and with the sets' regions. */
export function phoneRegions(rows: PiiRow[]): Row[] {
  const variants: [string, PIIDetectionGuardrail][] = [
    ['regions: [] (previous behaviour)', guard],
    ["regions: ['US']", new PIIDetectionGuardrail({ regions: ['US'] })],
    [`regions: the sets' ${SYNTH_REGIONS.length} (${SYNTH_REGIONS.join(', ')})`, new PIIDetectionGuardrail({ regions: SYNTH_REGIONS })],
  ];
  return variants.map(([name, g]) => {
    const c = score(rows, (text) => g.scan(text), 'PHONE');
    return { hookchain: name, gold: c.gold, predicted: c.predicted, ...cells(c, 'PHONE') };
  });
}
