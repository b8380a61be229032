/**
 * The injection classifier: a logistic regression over the hashed n-grams of features.ts, trained by
 * `npm run train:injection` (scripts/train-injection.ts, train.ts) and shipped as model/weights.bin. The file is
 * read the first time a score is asked for, never at import.
 *
 * weights.bin, little-endian: the bytes `HCPI`, a format version (1), the hash size in bits, two zero bytes, the
 * weight scale (float32) and the bias (float32), then one signed byte per bucket (`2^bits` of them): the weight of
 * a bucket is its byte times the scale.
 */
import { readFileSync } from 'node:fs';
import { sumWeights } from './features.ts';

export interface InjectionModel {
  readonly bits: number;
  readonly scale: number;
  readonly bias: number;
  /** One quantised weight per bucket. */
  readonly weights: Int8Array<ArrayBufferLike>;
}

const MAGIC = [0x48, 0x43, 0x50, 0x49]; // "HCPI"
const VERSION = 1;
const HEADER = 16;

/** The bytes of weights.bin for `model`. */
export function encodeModel(model: InjectionModel): Uint8Array {
  const bytes = new Uint8Array(HEADER + model.weights.length);
  bytes.set(MAGIC, 0);
  bytes[4] = VERSION;
  bytes[5] = model.bits;
  const view = new DataView(bytes.buffer);
  view.setFloat32(8, model.scale, true);
  view.setFloat32(12, model.bias, true);
  bytes.set(new Uint8Array(model.weights.buffer, model.weights.byteOffset, model.weights.length), HEADER);
  return bytes;
}

/** Reads weights.bin; throws on anything else (a truncated or foreign file). */
export function decodeModel(bytes: Uint8Array): InjectionModel {
  const bits = bytes[5] ?? 0;
  if (MAGIC.some((b, i) => bytes[i] !== b) || bytes[4] !== VERSION || bits < 8 || bits > 24 || bytes.length !== HEADER + 2 ** bits) {
    throw new Error('PromptInjectionGuardrail: the classifier weights file is not a version 1 weights.bin');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const weights = new Int8Array(bytes.buffer, bytes.byteOffset + HEADER, 2 ** bits);
  return { bits, scale: view.getFloat32(8, true), bias: view.getFloat32(12, true), weights };
}

/** Where the shipped weights are: next to this module, in lib/ and (copied by the build) in dist/. */
export const WEIGHTS_URL = new URL('./model/weights.bin', import.meta.url);

let shipped: InjectionModel | undefined;

/** The shipped model, read from disk on the first call. */
export function shippedModel(): InjectionModel {
  shipped ??= decodeModel(readFileSync(WEIGHTS_URL));
  return shipped;
}

/** The model's log-odds that `normal` (a normal form) is an injection. */
export function logit(model: InjectionModel, normal: string): number {
  const { sum, count } = sumWeights(normal, model.weights, model.weights.length - 1);
  return count === 0 ? model.bias : model.bias + (model.scale * sum) / Math.sqrt(count);
}

/** The model's probability (0–1) that `normal` (a normal form) is an injection. */
export function probability(model: InjectionModel, normal: string): number {
  return 1 / (1 + Math.exp(-logit(model, normal)));
}
