/**
 * The injection classifier's features: hashed character 3- to 5-grams and word 1- and 2-grams of the normal form
 * (normalize.ts), each mapped to one of `2^bits` buckets with a ±1 sign from another bit of its hash (so that
 * collisions cancel out on average instead of adding up). A text of `n` features is the vector with `sign / √n`
 * in each feature's bucket (repeats add up), so long texts are not scored higher for being long.
 *
 * One pass over the normal form, a few integer multiplications per character and no allocation: the cost is
 * linear in the text's length. Training (train.ts) and scoring (classifier.ts) walk the same features through
 * `forEachFeature`, so they cannot drift apart.
 */

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
      }
      word = FNV_BASIS;
      wordLength = 0;
    } else {
      word = Math.imul(word ^ c, FNV_PRIME);
      wordLength++;
    }
  }
}
