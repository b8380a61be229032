/**
 * The injection classifier's features: hashed character 3- to 5-grams and word 1- and 2-grams of the normal form
 * (normalize.ts), and the cue-word classes of cues.ts (a feature per class, one per pair of classes within four
 * words, so that what is learned from English transfers to the other languages the classes list), each mapped to one of `2^bits` buckets with a ±1 sign from another bit of its hash (so that
 * collisions cancel out on average instead of adding up). A text is the set of buckets its features hit (the first
 * feature to hit a bucket gives its sign; repeats count once), scaled to unit length: `sign / √n` in each of its `n`
 * buckets. So a text is not scored higher for being long, nor for saying the same thing many times.
 *
 * One pass over the normal form, a few integer multiplications per character and no allocation: the cost is
 * linear in the text's length. Training (train.ts) walks the features through `forEachFeature`; scoring uses
 * `sumWeights`, the same walk written out with the weight lookup inline (a callback per feature made scoring
 * several times slower). A spec checks that the two agree on every prompt of the training sets.
 */

import { buildCueTable, cueClass, CUE_CLASSES } from './cues.ts';

/** Mixes a 32-bit hash so that its low bits depend on all its input bits (murmur3's finaliser). */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

const FNV_BASIS = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;
/** Salts that keep the kinds of feature apart (a word and a 4-gram with the same letters are different features). */
const SALT_CHAR = [0, 0, 0x3c6ef372, 0x5bd1e995, 0x27d4eb2f];
const SALT_WORD = 0x165667b1;
const SALT_BIGRAM = 0x68e31da4;
const SALT_CUE = 0x2f9be6d1;
const SALT_CUE_PAIR = 0x4a7c15e3;
/** Two cue words this many words apart or closer make a pair feature ("ignore all of the previous instructions"). */
const CUE_REACH = 4;

/**
 * The hash of a whole word of the normal form, as the loops below compute it (the key of the cue-word table).
 *
 * @internal
 */
export function hashWord(normalWord: string): number {
  let word = FNV_BASIS;
  for (let i = 0; i < normalWord.length; i++) word = Math.imul(word ^ normalWord.charCodeAt(i), FNV_PRIME);
  return fmix(word);
}
buildCueTable(hashWord);

/** Where (word index) each cue class was last seen in the current text; reset at the start of each text. */
const lastCue = new Int32Array(CUE_CLASSES + 1);
const FAR = -1 << 30;

const cueFeature = (cls: number) => fmix(SALT_CUE ^ cls);
const cuePairFeature = (earlier: number, cls: number) => fmix(Math.imul(SALT_CUE_PAIR ^ earlier, FNV_PRIME) ^ cls);

/**
 * Calls `emit(hash)` for every feature of `normal` (a normal form from `normalizeText`), read as if it had a space
 * at each end. `hash` is a mixed 32-bit value: the bucket is its low bits, the sign its top bit.
 */
export function forEachFeature(normal: string, emit: (hash: number) => void): void {
  const length = normal.length;
  // Codes of the padded text " " + normal + " ", read through a small ring of the last five.
  let c0 = 0;
  let c1 = 0;
  let c2 = 0;
  let c3 = 32;
  let seen = 1;
  let word = FNV_BASIS;
  let wordLength = 0;
  let previousWord = 0;
  let hasPrevious = false;
  let words = 0;
  lastCue.fill(FAR);
  for (let i = 0; i <= length; i++) {
    const c = i < length ? normal.charCodeAt(i) : 32;
    // Character n-grams ending at this character: (c_{i-n+1} … c_i) for n = 3, 4, 5.
    seen++;
    if (seen >= 3) {
      let h = Math.imul(FNV_BASIS ^ c, FNV_PRIME);
      h = Math.imul(h ^ c3, FNV_PRIME);
      h = Math.imul(h ^ c2, FNV_PRIME);
      emit(fmix(h ^ SALT_CHAR[2]!));
      if (seen >= 4) {
        h = Math.imul(h ^ c1, FNV_PRIME);
        emit(fmix(h ^ SALT_CHAR[3]!));
        if (seen >= 5) {
          h = Math.imul(h ^ c0, FNV_PRIME);
          emit(fmix(h ^ SALT_CHAR[4]!));
        }
      }
    }
    c0 = c1;
    c1 = c2;
    c2 = c3;
    c3 = c;
    // Words: runs between spaces; a unigram for each and a bigram with the one before.
    if (c === 32) {
      if (wordLength > 0) {
        const w = fmix(word);
        emit(fmix(w ^ SALT_WORD));
        if (hasPrevious) emit(fmix(Math.imul(previousWord ^ SALT_BIGRAM, FNV_PRIME) ^ w));
        previousWord = w;
        hasPrevious = true;
        const cls = cueClass(w);
        if (cls !== 0) {
          emit(cueFeature(cls));
          for (let k = 1; k <= CUE_CLASSES; k++) if (k !== cls && words - lastCue[k]! <= CUE_REACH) emit(cuePairFeature(k, cls));
          lastCue[cls] = words;
        }
        words++;
      }
      word = FNV_BASIS;
      wordLength = 0;
    } else {
      word = Math.imul(word ^ c, FNV_PRIME);
      wordLength++;
    }
  }
}

/**
 * Which buckets the current text has hit: `stamp[bucket] === generation` (one array per hash size, reused). One
 * byte per bucket, cleared every 255 texts: a quarter of the memory of 32-bit stamps, which matters because the
 * look-ups are random and a 1 KB prompt makes thousands of them (a 1 MB array misses the cache on most).
 */
let stamp = new Uint8Array(0);
let generation = 0;

/** Starts a new text: returns the stamp array for `size` buckets and the generation that marks this text's buckets. */
export function newText(size: number): { stamp: Uint8Array; generation: number } {
  if (stamp.length !== size) stamp = new Uint8Array(size);
  if (generation === 0xff) {
    stamp.fill(0);
    generation = 0;
  }
  return { stamp, generation: ++generation };
}

let bits = new Int32Array(0);

/**
 * One bit per bucket, all clear: which buckets `sumWeights` has hit in the current text. 32 KB for 2^18 buckets, so
 * the thousands of random look-ups of a 1 KB prompt stay in the cache, and clearing it costs about a microsecond.
 */
function clearedBits(size: number): Int32Array {
  if (bits.length !== size >>> 5) bits = new Int32Array(Math.max(1, size >>> 5));
  else bits.fill(0);
  return bits;
}

/**
 * The signed sum of `weights[bucket]` over the distinct buckets the features of `normal` hit (in the order
 * `forEachFeature` emits them; the first feature in a bucket gives the sign, its hash's top bit), and how many
 * buckets: `forEachFeature` with the lookup written inline, six times (a helper function for it, inlined by the
 * engine or not, cost 7–10% more CPU per score in an A/B).
 */
export function sumWeights(normal: string, weights: Int8Array<ArrayBufferLike>, mask: number): { sum: number; count: number } {
  const seen = clearedBits(mask + 1);
  const length = normal.length;
  let sum = 0;
  let count = 0;
  let c0 = 0;
  let c1 = 0;
  let c2 = 0;
  let c3 = 32;
  let word = FNV_BASIS;
  let wordLength = 0;
  let previousWord = 0;
  let hasPrevious = false;
  let words = 0;
  lastCue.fill(FAR);
  const s3 = SALT_CHAR[2]!;
  const s4 = SALT_CHAR[3]!;
  const s5 = SALT_CHAR[4]!;
  for (let i = 0; i <= length; i++) {
    const c = i < length ? normal.charCodeAt(i) : 32;
    // `seen` of forEachFeature is i + 2 here: 3-grams from i = 1 on (the first reads the leading space), 4-grams
    // from 2, 5-grams from 3.
    let f = 0;
    if (i >= 1) {
      let h = Math.imul(FNV_BASIS ^ c, FNV_PRIME);
      h = Math.imul(h ^ c3, FNV_PRIME);
      h = Math.imul(h ^ c2, FNV_PRIME);
      f = fmix(h ^ s3);
      if ((seen[(f & mask) >>> 5]! & (1 << (f & mask & 31))) === 0) {
        seen[(f & mask) >>> 5] = seen[(f & mask) >>> 5]! | (1 << (f & mask & 31));
        sum += f < 0 ? -weights[f & mask]! : weights[f & mask]!;
        count++;
      }
      if (i >= 2) {
        h = Math.imul(h ^ c1, FNV_PRIME);
        f = fmix(h ^ s4);
        if ((seen[(f & mask) >>> 5]! & (1 << (f & mask & 31))) === 0) {
          seen[(f & mask) >>> 5] = seen[(f & mask) >>> 5]! | (1 << (f & mask & 31));
          sum += f < 0 ? -weights[f & mask]! : weights[f & mask]!;
          count++;
        }
        if (i >= 3) {
          h = Math.imul(h ^ c0, FNV_PRIME);
          f = fmix(h ^ s5);
          if ((seen[(f & mask) >>> 5]! & (1 << (f & mask & 31))) === 0) {
            seen[(f & mask) >>> 5] = seen[(f & mask) >>> 5]! | (1 << (f & mask & 31));
            sum += f < 0 ? -weights[f & mask]! : weights[f & mask]!;
            count++;
          }
        }
      }
    }
    c0 = c1;
    c1 = c2;
    c2 = c3;
    c3 = c;
    if (c === 32) {
      if (wordLength > 0) {
        const w = fmix(word);
        f = fmix(w ^ SALT_WORD);
        if ((seen[(f & mask) >>> 5]! & (1 << (f & mask & 31))) === 0) {
          seen[(f & mask) >>> 5] = seen[(f & mask) >>> 5]! | (1 << (f & mask & 31));
          sum += f < 0 ? -weights[f & mask]! : weights[f & mask]!;
          count++;
        }
        if (hasPrevious) {
          f = fmix(Math.imul(previousWord ^ SALT_BIGRAM, FNV_PRIME) ^ w);
          if ((seen[(f & mask) >>> 5]! & (1 << (f & mask & 31))) === 0) {
            seen[(f & mask) >>> 5] = seen[(f & mask) >>> 5]! | (1 << (f & mask & 31));
            sum += f < 0 ? -weights[f & mask]! : weights[f & mask]!;
            count++;
          }
        }
        previousWord = w;
        hasPrevious = true;
        // Cue words are rare (a few in a hundred): this branch is not written out as tightly as the rest.
        const cls = cueClass(w);
        if (cls !== 0) {
          for (let k = 0; k <= CUE_CLASSES; k++) {
            if (k === cls || (k !== 0 && words - lastCue[k]! > CUE_REACH)) continue;
            f = k === 0 ? cueFeature(cls) : cuePairFeature(k, cls);
            if ((seen[(f & mask) >>> 5]! & (1 << (f & mask & 31))) === 0) {
              seen[(f & mask) >>> 5] = seen[(f & mask) >>> 5]! | (1 << (f & mask & 31));
              sum += f < 0 ? -weights[f & mask]! : weights[f & mask]!;
              count++;
            }
          }
          lastCue[cls] = words;
        }
        words++;
      }
      word = FNV_BASIS;
      wordLength = 0;
    } else {
      word = Math.imul(word ^ c, FNV_PRIME);
      wordLength++;
    }
  }
  return { sum, count };
}
