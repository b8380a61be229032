/**
 * Compiles the rules for the normal form and finds the first match. Every rule starts at a word start, and the
 * normal form separates words by single spaces, so the matcher walks the word starts (a native `indexOf(' ')` from
 * one to the next) and at each looks up, by the word's first two characters, the few rules that can begin there
 * (read from their sources at construction, see prefix.ts); only those are tried, in one sticky expression per set
 * of rules, in rule order. Most words begin no rule and cost a table lookup. Rules are bounded repetitions of words
 * separated by single spaces, so each word start costs a bounded amount: matching is linear in the text.
 */
import { HookchainConfigError } from '../../errors.ts';
import { patternFailed } from '../pii/custom.ts';
import { normalizePattern, normalizeText } from './normalize.ts';
import { ANY, matchPrefixes } from './prefix.ts';
import { phraseSource, type InjectionRule } from './rules.ts';

/** A prompt-injection match, as `PromptInjectionGuardrail.detect()` returns it: which rule, and where in the normal form. */
export interface InjectionMatch {
  /** The rule's name; for a phrase, the phrase as given. */
  rule: string;
  /** Offset of the match in the normal form of the text (not in the original text). */
  start: number;
  /** Offset just past the match in the normal form. */
  end: number;
}

interface CompiledRule {
  readonly name: string;
  readonly regex: RegExp;
}

/** Rules over the normal form: a source each, tried only at word starts (so the source needs no word-start test). */
interface WordRule {
  readonly name: string;
  readonly source: string;
}

/** Rules that may begin at a word start with given first characters, in rule order, and one sticky expression for them. */
interface Candidates {
  readonly rules: readonly number[];
  regex: RegExp | undefined;
  /**
   * A second, finer test before the expression runs: the first four characters of every match of these rules
   * (`quadKey`), and the shorter beginnings of those that can end, or read `[^ ]`, within four. Absent when some
   * rule's beginning is not known that far: then the expression always runs.
   */
  readonly quads: ReadonlySet<number> | undefined;
  readonly shorter: readonly string[];
}

/** How far the rules' beginnings are read: four characters tell `the ` from `they`, `what` from `whet`. */
const PREFIX = 4;

/** Four ASCII characters as one small integer. */
const quadKey = (a: number, b: number, c: number, d: number) => a | (b << 7) | (c << 14) | (d << 21);

/** Built-in sources are written in plain lower case; the normal form reads `l` as `i`. */
function foldSource(source: string): string {
  return source.replace(/\\[pP]\{[^}]*\}|l/g, (m) => (m === 'l' ? 'i' : m));
}

/**
 * A prompt-injection pattern: a phrase (matched on the normal form, at a word start) or a RegExp (made
 * case-insensitive and run on the normal form).
 */
export type PatternInput = string | RegExp;

/** A word's first two characters as one number; `-1` for the second when the word is the text's last character. */
const pairKey = (first: number, second: number) => first * 0x10001 + second + 1;

export class InjectionMatcher {
  private readonly rules: WordRule[];
  private readonly custom: CompiledRule[];
  private readonly owner: string;
  /** Candidates by the first two characters of a word (`pairKey`); absent: those by its first character. */
  private readonly byPair = new Map<number, Candidates>();
  /** Candidates by the first character alone: rules whose match can be one character long, or whose second is open. */
  private readonly byFirst = new Map<number, Candidates>();
  /** Rules whose first characters are not known (outside the analysed subset): tried at every word start. */
  private readonly always: Candidates;
  /**
   * The same answer for the words whose first two characters are ASCII (nearly all): index + 1 into `asciiLists`
   * by `first * 128 + second`, 0 when no rule can begin there. A typed table beats two map look-ups per word.
   */
  private readonly ascii = new Uint16Array(128 * 128);
  private readonly asciiLists: Candidates[] = [];
  /**
   * When every rule's beginnings are known and ASCII (the defaults): a space followed by any of them. A native
   * search with it jumps from one word start that can begin a match to the next, past all the others.
   */
  private readonly starts: RegExp | undefined;

  constructor(rules: readonly InjectionRule[], patterns: readonly PatternInput[], owner: string) {
    this.owner = owner;
    this.rules = [];
    this.custom = [];
    for (const rule of rules) this.rules.push({ name: rule.name, source: `(?:${foldSource(rule.source)})` });
    patterns.forEach((pattern, index) => {
      if (typeof pattern === 'string') {
        const normal = normalizeText(pattern).trim();
        if (normal === '')
          throw new HookchainConfigError(
            'INVALID_PATTERN',
            `${owner}: pattern ${index} (${JSON.stringify(pattern)}) has no letters or digits, so it would match nothing useful; remove it`,
          );
        this.rules.push({ name: pattern, source: phraseSource(normal) });
      } else if (pattern instanceof RegExp) {
        const regex = normalizePattern(pattern);
        if (regex.test(''))
          throw new HookchainConfigError(
            'INVALID_PATTERN',
            `${owner}: pattern ${index} (${String(pattern)}) matches the empty string, so it would match everything`,
          );
        this.custom.push({ name: String(pattern), regex });
      } else {
        throw new HookchainConfigError(
          'INVALID_PATTERN',
          `${owner}: pattern ${index} must be a phrase string or a RegExp, got ${pattern === null ? 'null' : typeof pattern}`,
        );
      }
    });
    // Which rules may begin with which characters. A rule whose second character is open (a one-character match,
    // or `[^ ]` there) is listed under its first character; one whose first is open, under `always`.
    const pairs = new Map<number, number[]>();
    const firsts = new Map<number, number[]>();
    const always: number[] = [];
    const add = (map: Map<number, number[]>, key: number, rule: number) => {
      const list = map.get(key);
      if (list === undefined) map.set(key, [rule]);
      else if (list[list.length - 1] !== rule) list.push(rule);
    };
    // Each rule's beginnings, cut where `[^ ]` starts (it stands for any character but a space).
    const beginnings: (string[] | undefined)[] = this.rules.map((rule) => {
      const prefixes = matchPrefixes(rule.source, PREFIX);
      return prefixes && [...prefixes].map((p) => (p.includes(ANY) ? p.slice(0, p.indexOf(ANY)) : p));
    });
    beginnings.forEach((prefixes, index) => {
      if (prefixes === undefined || prefixes.some((p) => p.length === 0)) {
        always.push(index);
        return;
      }
      for (const p of prefixes) {
        if (p.length === 1) add(firsts, p.charCodeAt(0), index);
        else add(pairs, pairKey(p.charCodeAt(0), p.charCodeAt(1)), index);
      }
    });
    const merged = (...lists: (readonly number[] | undefined)[]): Candidates => {
      const rules = [...new Set(lists.flatMap((l) => l ?? []))].sort((a, b) => a - b);
      const quads = new Set<number>();
      const shorter: string[] = [];
      let known = true;
      for (const r of rules) {
        for (const p of beginnings[r] ?? ['']) {
          if (p.length < 2) known = false;
          else if (p.length < PREFIX) shorter.push(p);
          else if (/^[\0-\x7f]{4}$/.test(p)) quads.add(quadKey(p.charCodeAt(0), p.charCodeAt(1), p.charCodeAt(2), p.charCodeAt(3)));
          // A beginning outside ASCII is only met where the text is too, and there the expression always runs.
        }
      }
      return { rules, regex: undefined, quads: known ? quads : undefined, shorter: [...new Set(shorter)] };
    };
    this.always = merged(always);
    for (const [key, list] of firsts) this.byFirst.set(key, merged(list, always));
    for (const [key, list] of pairs) this.byPair.set(key, merged(list, firsts.get(Math.floor(key / 0x10001)), always));
    // The jump search is exact only when it knows every beginning; a non-ASCII one would also need the word starts
    // `mayBegin` lets through unread. Otherwise the matcher walks every word start.
    const all: string[] = [];
    let usable = true;
    for (const b of beginnings) {
      if (b === undefined || b.some((p) => p.length < 2 || !/^[\0-\x7f]+$/.test(p))) usable = false;
      else all.push(...b);
    }
    this.starts = usable && all.length > 0 ? new RegExp(` (?:${trieSource(all)})`, 'g') : undefined;
    const index = new Map<Candidates, number>();
    for (let first = 0; first < 128; first++) {
      for (let second = 0; second < 128; second++) {
        const candidates = this.candidatesFor(first, second);
        if (candidates.rules.length === 0) continue;
        let at = index.get(candidates);
        if (at === undefined) index.set(candidates, (at = this.asciiLists.push(candidates)));
        this.ascii[first * 128 + second] = at;
      }
    }
  }

  private candidatesFor(first: number, second: number): Candidates {
    return this.byPair.get(pairKey(first, second)) ?? this.byFirst.get(first) ?? this.always;
  }

  /** The earliest match in a normal-form text, if any. */
  find(text: string): InjectionMatch | undefined {
    let best: InjectionMatch | undefined;
    if (this.rules.length > 0) best = this.firstRuleMatch(text);
    for (const rule of this.custom) {
      try {
        const m = firstMatch(rule.regex, text);
        if (m && (!best || m.start < best.start)) best = { rule: rule.name, ...m };
      } catch (error) {
        throw patternFailed(`${this.owner}: pattern ${rule.name}`, text.length, error);
      }
    }
    return best;
  }

  /**
   * The first word start where a rule matches, and the first rule (in order) that matches there: what one
   * alternation of all rules behind a word-start test would find, trying only the rules that can begin there.
   */
  private firstRuleMatch(text: string): InjectionMatch | undefined {
    const starts = this.starts;
    if (starts === undefined) {
      for (let at = 0; at < text.length;) {
        const match = this.matchAt(text, at);
        if (match) return match;
        const space = text.indexOf(' ', at);
        if (space === -1) break;
        at = space + 1;
      }
      return undefined;
    }
    const match = this.matchAt(text, 0);
    if (match) return match;
    starts.lastIndex = 0;
    for (let hit = starts.exec(text); hit !== null; hit = starts.exec(text)) {
      const at = hit.index + 1;
      const found = this.matchAt(text, at);
      if (found) return found;
      starts.lastIndex = at;
    }
    return undefined;
  }

  /** The first rule (in order) that matches at word start `at`, trying only those that can begin there. */
  private matchAt(text: string, at: number): InjectionMatch | undefined {
    const n = text.length;
    if (at >= n) return undefined;
    const first = text.charCodeAt(at);
    const next = at + 1 < n ? text.charCodeAt(at + 1) : -1;
    let candidates: Candidates | undefined;
    if (first < 128 && next < 128 && next >= 0) {
      const slot = this.ascii[(first << 7) | next]!;
      if (slot !== 0) candidates = this.asciiLists[slot - 1];
    } else candidates = this.candidatesFor(first, next);
    if (candidates === undefined || candidates.rules.length === 0 || !mayBegin(candidates, text, at)) return undefined;
    const regex = (candidates.regex ??= this.stickyFor(candidates.rules));
    regex.lastIndex = at;
    const m = regex.exec(text);
    if (!m) return undefined;
    // Group k + 1 is rule k of the list: the alternation took the first rule that matches here.
    let k = 0;
    while (m[k + 1] === undefined) k++;
    return { rule: this.rules[candidates.rules[k]!]!.name, start: at, end: at + m[0].length };
  }

  /** One sticky alternation of the given rules, each in a capture group (rule sources have no groups of their own). */
  private stickyFor(rules: readonly number[]): RegExp {
    return new RegExp(rules.map((r) => `(${this.rules[r]!.source})`).join('|'), 'y');
  }
}

/**
 * An expression matching any of `words` (at least one character each), written as the trie of their characters
 * (`i(?:gno|a )|d(?:isr|rop)…`): the engine then picks the branch by one character at a time instead of trying
 * every word in turn. A word that is a prefix of another is enough on its own, so its longer words are dropped.
 */
function trieSource(words: readonly string[]): string {
  const byFirst = new Map<string, string[]>();
  for (const w of words) {
    const list = byFirst.get(w[0]!);
    if (list) list.push(w.slice(1));
    else byFirst.set(w[0]!, [w.slice(1)]);
  }
  const branches = [...byFirst].map(([c, rests]) => {
    const escaped = phraseSource(c);
    if (rests.includes('')) return escaped;
    const inner = trieSource(rests);
    return byFirstCount(rests) > 1 ? `${escaped}(?:${inner})` : `${escaped}${inner}`;
  });
  return branches.join('|');
}

function byFirstCount(words: readonly string[]): number {
  return new Set(words.map((w) => w[0])).size;
}

/** Whether a match of `candidates` may begin at `at`, by its first four characters (see `Candidates.quads`). */
function mayBegin(candidates: Candidates, text: string, at: number): boolean {
  const quads = candidates.quads;
  if (quads === undefined || at + PREFIX > text.length) return true;
  const a = text.charCodeAt(at);
  const b = text.charCodeAt(at + 1);
  const c = text.charCodeAt(at + 2);
  const d = text.charCodeAt(at + 3);
  if ((a | b | c | d) >= 128) return true;
  if (quads.has(quadKey(a, b, c, d))) return true;
  for (const p of candidates.shorter) if (text.startsWith(p, at)) return true;
  return false;
}

/** The first non-empty match of a global RegExp. */
function firstMatch(regex: RegExp, text: string): { start: number; end: number } | undefined {
  regex.lastIndex = 0;
  for (let m = regex.exec(text); m !== null; m = regex.exec(text)) {
    if (m[0].length > 0) return { start: m.index, end: m.index + m[0].length };
    regex.lastIndex = m.index + 1;
  }
  return undefined;
}
