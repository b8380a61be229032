/**
 * What a rule's match can begin with: the set of its first `size` characters (a shorter string when a whole match
 * can be that short), read from the rule's source. The matcher uses it to try, at each word start, only the rules
 * that could match there, instead of running every rule at every position.
 *
 * Only the regex subset the rules are written in is understood: literals, `\` escapes of punctuation, `(?:…)`
 * groups, `|`, `[^ ]`, and the quantifiers `?`, `*`, `+`, `{m}`, `{m,}`, `{m,n}`. Anything else (a class, a
 * look-around, a capture, a lazy quantifier) gives `undefined`: the rule is then tried at every word start, which is
 * always correct, only slower. The answer over-approximates — it may list prefixes no match has, never miss one — so
 * skipping a rule whose set lacks a word's first two characters cannot miss a match.
 */

/** Stands for "any character but a space" (`[^ ]`); a source holding this character itself is not analysed. */
export const ANY = '\uffff';

class Unsupported extends Error {}

/** Every `a + b` cut to `size` characters; an `a` of `size` characters already is kept as it is. */
function concat(left: Set<string>, right: Set<string>, size: number): Set<string> {
  const out = new Set<string>();
  for (const a of left) {
    if (a.length >= size) out.add(a);
    else for (const b of right) out.add((a + b).slice(0, size));
  }
  return out;
}

/**
 * `atom` repeated `min` to `max` times. `size` repetitions that each add a character already fill every place,
 * and an empty one adds nothing, so more than `size` of either kind cannot change the set.
 */
function repeat(atom: Set<string>, min: number, max: number, size: number): Set<string> {
  let out = new Set(['']);
  for (let k = 0; k < Math.min(min, size); k++) out = concat(out, atom, size);
  for (let k = 0; k < Math.min(max - min, size); k++) for (const s of concat(out, atom, size)) out.add(s);
  return out;
}

/** The first `size` characters of every match of `source`, or `undefined` when the source is outside the subset. */
export function matchPrefixes(source: string, size: number): Set<string> | undefined {
  if (source.includes(ANY)) return undefined;
  let i = 0;

  const alternation = (): Set<string> => {
    const out = new Set<string>();
    let sequence = new Set(['']);
    while (i < source.length && source[i] !== ')') {
      if (source[i] === '|') {
        i++;
        for (const s of sequence) out.add(s);
        sequence = new Set(['']);
        continue;
      }
      sequence = concat(sequence, quantified(atom()), size);
    }
    for (const s of sequence) out.add(s);
    return out;
  };

  const atom = (): Set<string> => {
    const c = source[i]!;
    if (c === '(') {
      if (!source.startsWith('(?:', i)) throw new Unsupported();
      i += 3;
      const inner = alternation();
      if (source[i] !== ')') throw new Unsupported();
      i++;
      return inner;
    }
    if (c === '[') {
      if (!source.startsWith('[^ ]', i)) throw new Unsupported();
      i += 4;
      return new Set([ANY]);
    }
    if (c === '\\') {
      const next = source[i + 1];
      if (next === undefined || /[A-Za-z0-9]/.test(next)) throw new Unsupported();
      i += 2;
      return new Set([next]);
    }
    if ('.^$*+?{}|)]'.includes(c)) throw new Unsupported();
    // A surrogate pair is one character to the engine but two code units here; the prefix is of code units,
    // which is what the matcher reads too.
    i++;
    return new Set([c]);
  };

  const quantified = (inner: Set<string>): Set<string> => {
    const c = source[i];
    let min: number;
    let max: number;
    if (c === '?') [min, max] = [0, 1];
    else if (c === '*') [min, max] = [0, Infinity];
    else if (c === '+') [min, max] = [1, Infinity];
    else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i));
      if (!m) throw new Unsupported();
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      i += m[0].length - 1;
    } else return inner;
    i++;
    if (source[i] === '?' || source[i] === '+') throw new Unsupported();
    return repeat(inner, min, max, size);
  };

  try {
    const out = alternation();
    return i === source.length ? out : undefined;
  } catch (error) {
    if (error instanceof Unsupported) return undefined;
    throw error;
  }
}
