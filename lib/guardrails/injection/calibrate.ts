/**
 * Calibrated training of the injection classifier. A model's raw score on the sources it was trained on says
 * little about its score on a new kind of prompt, and a new kind of prompt is what it will meet. So the score is
 * calibrated on out-of-source scores: for each training source, a model trained on the others scores it (prompts
 * also found in it are removed from that training); a logistic fit (Platt scaling) of those scores against the labels,
 * each class weighted to half, maps the final model's log-odds to a probability. The fit is two numbers, folded into
 * the scale and bias of weights.bin, so the file format and the scorer do not change.
 *
 * The same out-of-source scores, calibrated, are returned: the operating points of `INJECTION_OPERATING_POINTS` are
 * read from them (false-positive rates on sources the model did not see), never from a test set.
 *
 * @internal
 */
import { dedupe, floatLogit, quantise, trainFloat, type TrainingExample, type TrainingOptions } from './train.ts';
import type { InjectionModel } from './classifier.ts';

/** One named labelled set to train on. */
export interface TrainingSource {
  name: string;
  prompts: readonly TrainingExample[];
}

/** A prompt of a training source, scored by the calibrated model trained without that source. */
export interface OutOfSourceScore {
  source: string;
  /** Its normal form. */
  normal: string;
  injection: boolean;
  /** Calibrated probability. */
  score: number;
}

/** The calibrated model and the out-of-source scores it was calibrated on. */
export interface CalibratedTraining {
  model: InjectionModel;
  /** The L2 penalty chosen from the grid. */
  lambda: number;
  /** Platt's slope and intercept: probability = σ(a · raw log-odds + b). */
  platt: { a: number; b: number };
  outOfSource: OutOfSourceScore[];
}

/** Options of `trainCalibrated`: those of the SGD, and the L2 penalties to choose from. */
export interface CalibratedTrainingOptions extends TrainingOptions {
  /**
   * The L2 penalties tried; the one whose leave-one-source-out scores give the best mean recall at a pooled
   * false-positive rate of 1%, 2% and 5% is used (the first on a tie). Default `LAMBDA_GRID`; `lambda` alone
   * skips the choice.
   */
  lambdaGrid?: readonly number[];
}

/**
 * The penalties tried by default. A stronger penalty spreads the weight over more n-grams, which is what carries
 * over to a source not seen in training; the grid reaches from the old default's tenfold up.
 */
export const LAMBDA_GRID: readonly number[] = [1e-4, 3e-4, 1e-3, 3e-3];

interface RawScore {
  source: string;
  normal: string;
  injection: boolean;
  z: number;
}

/**
 * Trains on all `sources`, with the L2 penalty chosen and the score calibrated on leave-one-source-out scores (one
 * extra training per source and penalty). With a single source there is nothing to leave out: the model is
 * trained with `lambda` (or the first of the grid) and returned uncalibrated (a = 1, b = 0).
 */
export function trainCalibrated(sources: readonly TrainingSource[], options: CalibratedTrainingOptions = {}): CalibratedTraining {
  const { lambdaGrid = LAMBDA_GRID, ...rest } = options;
  const grid = options.lambda !== undefined ? [options.lambda] : lambdaGrid;
  let raw: RawScore[] = [];
  let lambda = grid[0]!;
  if (sources.length > 1) {
    let best = -1;
    for (const candidate of grid) {
      const scores = outOfSourceRaw(sources, { ...rest, lambda: candidate });
      const quality = grid.length === 1 ? 0 : meanRecall(scores);
      if (quality > best) {
        best = quality;
        raw = scores;
        lambda = candidate;
      }
    }
  }
  const platt =
    raw.length > 0
      ? plattFit(
          raw.map((r) => r.z),
          raw.map((r) => r.injection),
        )
      : { a: 1, b: 0 };
  const final = trainFloat(
    sources.flatMap((s) => s.prompts),
    { ...rest, lambda },
  );
  const model = quantise(final.v, final.scale * platt.a, final.bias * platt.a + platt.b, final.bits);
  const outOfSource = raw.map(({ source, normal, injection, z }) => ({
    source,
    normal,
    injection,
    score: 1 / (1 + Math.exp(-(platt.a * z + platt.b))),
  }));
  return { model, lambda, platt, outOfSource };
}

/** Each source's prompts scored (raw log-odds) by a model trained on the other sources. */
function outOfSourceRaw(sources: readonly TrainingSource[], options: TrainingOptions): RawScore[] {
  const raw: RawScore[] = [];
  {
    for (const held of sources) {
      const test = dedupe(held.prompts);
      const inTest = new Set(test.map((p) => p.normal));
      const rest = sources.filter((s) => s !== held).flatMap((s) => s.prompts);
      const model = trainFloat(
        dedupe(rest)
          .filter((p) => !inTest.has(p.normal))
          .map((p) => ({ text: p.normal, injection: p.injection })),
        options,
      );
      for (const p of test) raw.push({ source: held.name, normal: p.normal, injection: p.injection, z: floatLogit(model, p.normal) });
    }
  }
  return raw;
}

/** Recall at the threshold that lets through `rate` of the benign scores (the pooled false-positive rate). */
export function recallAtFalsePositiveRate(scores: readonly { injection: boolean; z: number }[], rate: number): number {
  const benign = scores
    .filter((s) => !s.injection)
    .map((s) => s.z)
    .sort((x, y) => y - x);
  const attacks = scores.filter((s) => s.injection);
  if (benign.length === 0 || attacks.length === 0) return 0;
  // Flag strictly above the (k+1)-th highest benign score: at most k = ⌊rate·n⌋ benign prompts are flagged.
  const k = Math.floor(rate * benign.length);
  const threshold = k >= benign.length ? -Infinity : benign[k]!;
  return attacks.filter((s) => s.z > threshold).length / attacks.length;
}

function meanRecall(scores: readonly RawScore[]): number {
  return [0.01, 0.02, 0.05].reduce((sum, rate) => sum + recallAtFalsePositiveRate(scores, rate), 0) / 3;
}

/**
 * Platt scaling: the `a`, `b` that maximise the class-balanced likelihood of `labels` under σ(a·z + b), by Newton's
 * method (a fixed number of steps, so it is deterministic), with a tiny ridge that keeps it defined when the scores
 * separate the classes perfectly.
 */
export function plattFit(z: readonly number[], labels: readonly boolean[]): { a: number; b: number } {
  const positives = labels.filter(Boolean).length;
  const negatives = labels.length - positives;
  if (positives === 0 || negatives === 0) return { a: 1, b: 0 };
  const wPos = labels.length / 2 / positives;
  const wNeg = labels.length / 2 / negatives;
  let a = 1;
  let b = 0;
  const ridge = 1e-6 * labels.length;
  for (let step = 0; step < 50; step++) {
    let ga = ridge * (a - 1);
    let gb = 0;
    let haa = ridge;
    let hab = 0;
    let hbb = ridge;
    for (let i = 0; i < z.length; i++) {
      const p = 1 / (1 + Math.exp(-(a * z[i]! + b)));
      const w = labels[i] ? wPos : wNeg;
      const d = w * (p - (labels[i] ? 1 : 0));
      const h = w * p * (1 - p);
      ga += d * z[i]!;
      gb += d;
      haa += h * z[i]! * z[i]!;
      hab += h * z[i]!;
      hbb += h;
    }
    const det = haa * hbb - hab * hab;
    if (!(det > 0)) break;
    a -= (hbb * ga - hab * gb) / det;
    b -= (haa * gb - hab * ga) / det;
  }
  return { a, b };
}
