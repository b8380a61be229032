/**
 * Trains the injection classifier (classifier.ts): L2-regularised logistic regression by stochastic gradient descent
 * over the hashed features of features.ts, each class weighted to half the total (so the many benign prompts do not
 * outvote the attacks), then calibrated (`trainCalibrated`, calibrate.ts) on scores that each training source got
 * from a model that never saw it. Deterministic: the examples are used in the order given, deduplicated by
 * normal form, shuffled each epoch by a seeded generator (mulberry32), and every step is plain float64 arithmetic,
 * so the same examples and options give the same bytes. Used by scripts/train-injection.ts (the shipped weights),
 * by the benchmark (leave-one-source-out) and by the determinism spec.
 *
 * @internal
 */
import { forEachFeature, newText } from './features.ts';
import { encodeModel, type InjectionModel } from './classifier.ts';
import { normalizeText } from './normalize.ts';

export interface TrainingExample {
  text: string;
  injection: boolean;
}

export interface TrainingOptions {
  /** Hash size: `2^bits` buckets, one byte each in weights.bin. Default 18 (256 KB). */
  bits?: number;
  /** Passes over the data. Default 6. */
  epochs?: number;
  /** Seed of the shuffle. Default 14. */
  seed?: number;
  /** L2 penalty per example. Default 1e-5. */
  lambda?: number;
  /** Initial learning rate (decayed as 1 / (1 + lr·λ·t)). Default 0.5. */
  learningRate?: number;
  /**
   * Weight each class to half of the total, so that a step on one of the few attacks counts as much as the many
   * benign prompts together. Default true.
   */
  balance?: boolean;
}

/**
 * Settings of one SGD run. `lambda` here is only the fallback: `trainCalibrated` (calibrate.ts) chooses it from a
 * grid by leave-one-source-out over the training sources it is given.
 */
export const TRAINING_DEFAULTS: Required<TrainingOptions> = {
  bits: 18,
  epochs: 6,
  seed: 14,
  lambda: 3e-4,
  learningRate: 0.5,
  balance: true,
};

/** A seeded 32-bit generator (mulberry32): numbers in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Encoded {
  /** Each distinct bucket the text hits, bitwise-negated (`~bucket`) when its sign is negative. */
  features: Int32Array;
  /** 1 / √(number of distinct buckets). */
  norm: number;
  label: number;
  /** How much this example's gradient counts (class balancing). */
  weight: number;
}

/**
 * The examples, deduplicated by normal form: the first occurrence is kept, and a normal form given with both labels
 * is dropped. Returns the normal forms with their labels, in first-seen order.
 */
export function dedupe(examples: readonly TrainingExample[]): { normal: string; injection: boolean }[] {
  const seen = new Map<string, { normal: string; injection: boolean; conflict: boolean }>();
  for (const e of examples) {
    const normal = normalizeText(e.text).trim();
    const known = seen.get(normal);
    if (known === undefined) seen.set(normal, { normal, injection: e.injection, conflict: false });
    else if (known.injection !== e.injection) known.conflict = true;
  }
  return [...seen.values()].filter((e) => !e.conflict).map(({ normal, injection }) => ({ normal, injection }));
}

function encode(normal: string, injection: boolean, mask: number): Encoded {
  const list: number[] = [];
  const { stamp, generation } = newText(mask + 1);
  forEachFeature(normal, (hash) => {
    const bucket = hash & mask;
    if (stamp[bucket] === generation) return;
    stamp[bucket] = generation;
    list.push(hash < 0 ? ~bucket : bucket);
  });
  const norm = list.length === 0 ? 0 : 1 / Math.sqrt(list.length);
  return { features: Int32Array.from(list), norm, label: injection ? 1 : 0, weight: 1 };
}

/** A model before quantisation: the weights are `scale · v`. */
export interface FloatModel {
  readonly bits: number;
  readonly v: Float64Array;
  readonly scale: number;
  readonly bias: number;
}

/** Trains on `examples` and returns the quantised model (encode it with `encodeModel` for the file). */
export function trainInjectionModel(examples: readonly TrainingExample[], options: TrainingOptions = {}): InjectionModel {
  const { v, scale, bias, bits } = trainFloat(examples, options);
  return quantise(v, scale, bias, bits);
}

/** The SGD itself, without quantisation. */
export function trainFloat(examples: readonly TrainingExample[], options: TrainingOptions = {}): FloatModel {
  const { bits, epochs, seed, lambda, learningRate, balance } = { ...TRAINING_DEFAULTS, ...options };
  const size = 2 ** bits;
  const mask = size - 1;
  const data = dedupe(examples).map((e) => encode(e.normal, e.injection, mask));
  if (balance) {
    const attacks = data.filter((e) => e.label === 1).length;
    const benign = data.length - attacks;
    for (const e of data) e.weight = e.label === 1 ? data.length / 2 / Math.max(1, attacks) : data.length / 2 / Math.max(1, benign);
  }
  // The weights are `scale · v`: the L2 shrink of every weight at each step is one multiplication of `scale`.
  const v = new Float64Array(size);
  let scale = 1;
  let bias = 0;
  const random = mulberry32(seed);
  const order = Uint32Array.from(data.keys());
  let t = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    // Fisher–Yates with the seeded generator.
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      const swap = order[i]!;
      order[i] = order[j]!;
      order[j] = swap;
    }
    for (const index of order) {
      const { features, norm, label, weight } = data[index]!;
      let dot = 0;
      for (const f of features) dot += f < 0 ? -v[~f]! : v[f]!;
      const z = bias + scale * norm * dot;
      const p = 1 / (1 + Math.exp(-z));
      const g = (p - label) * weight;
      const rate = learningRate / (1 + learningRate * lambda * t);
      t++;
      bias -= rate * g;
      scale *= 1 - rate * lambda;
      const step = (rate * g * norm) / scale;
      for (const f of features) {
        if (f < 0) v[~f]! += step;
        else v[f]! -= step;
      }
      if (scale < 1e-9) {
        for (let k = 0; k < size; k++) v[k]! *= scale;
        scale = 1;
      }
    }
  }
  return { bits, v, scale, bias };
}

/** The float model's log-odds for `normal` (a normal form): the scorer of classifier.ts without quantisation. */
export function floatLogit(model: FloatModel, normal: string): number {
  const mask = model.v.length - 1;
  const { features, norm } = encode(normal, false, mask);
  let dot = 0;
  for (const f of features) dot += f < 0 ? -model.v[~f]! : model.v[f]!;
  return model.bias + model.scale * norm * dot;
}

export function quantise(v: Float64Array, scale: number, bias: number, bits: number): InjectionModel {
  let max = 0;
  for (const x of v) max = Math.max(max, Math.abs(x * scale));
  // The scale goes through float32 in the file: quantise with the value that will be read back.
  const step = Math.fround(max === 0 ? 1 : max / 127);
  const weights = new Int8Array(v.length);
  for (let k = 0; k < v.length; k++) weights[k] = Math.max(-127, Math.min(127, Math.round((v[k]! * scale) / step)));
  return { bits, scale: step, bias: Math.fround(bias), weights };
}

/** The weights.bin bytes of a model trained on `examples` (uncalibrated; the shipped file comes from calibrate.ts). */
export function trainWeightsFile(examples: readonly TrainingExample[], options: TrainingOptions = {}): Uint8Array {
  return encodeModel(trainInjectionModel(examples, options));
}
