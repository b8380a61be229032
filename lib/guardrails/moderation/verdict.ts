/**
 * Reading a Moderations answer. Categories are read under their API names (`self-harm/intent`), which is where
 * Agno went wrong: it looked them up under Python field names, got a swallowed KeyError for the eight categories
 * with a slash or hyphen, and let those through. An answer that is not the documented shape is an error here,
 * never a pass.
 */
import { HookchainError, brand } from '../../errors.ts';

/** The Moderations API's 13 category names, in its spelling (`'self-harm/intent'`, not `self_harm_intent`). */
export const MODERATION_CATEGORIES = [
  'sexual',
  'sexual/minors',
  'harassment',
  'harassment/threatening',
  'hate',
  'hate/threatening',
  'illicit',
  'illicit/violent',
  'self-harm',
  'self-harm/intent',
  'self-harm/instructions',
  'violence',
  'violence/graphic',
] as const;
/** One of `MODERATION_CATEGORIES`, as `raiseForCategories` takes them. */
export type ModerationCategory = (typeof MODERATION_CATEGORIES)[number];

/** The endpoint failed, timed out or answered something unreadable. Not a verdict: the run fails closed. */
export class ModerationUnavailableError extends HookchainError {
  /**
   * Thrown by `OpenAIModerationGuardrail` when it cannot get a readable verdict.
   *
   * @param message What failed and how to fix it.
   * @param options `cause`: the client's error, kept as `error.cause`.
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super('MODERATION_UNAVAILABLE', message, options);
  }
}
brand(ModerationUnavailableError);

export interface ModerationVerdict {
  flagged: boolean;
  /** Every category any result flagged, API spelling. */
  flaggedCategories: string[];
  /** Highest score per category across results. */
  categoryScores: Record<string, number>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Merges the results of one answer; throws `ModerationUnavailableError` if it is malformed. */
export function readVerdict(answer: unknown, owner: string): ModerationVerdict {
  const malformed = (what: string) =>
    new ModerationUnavailableError(`${owner}: the moderation endpoint answered without ${what}; the check fails closed`);
  if (!isRecord(answer) || !Array.isArray(answer['results']) || answer['results'].length === 0)
    throw malformed('a non-empty "results" array');
  const flaggedCategories = new Set<string>();
  const categoryScores: Record<string, number> = {};
  let flagged = false;
  for (const result of answer['results'] as unknown[]) {
    if (!isRecord(result) || typeof result['flagged'] !== 'boolean') throw malformed('a boolean "flagged" in each result');
    const categories = result['categories'];
    const scores = result['category_scores'];
    if (!isRecord(categories) || !isRecord(scores)) throw malformed('"categories" and "category_scores" objects');
    flagged ||= result['flagged'];
    for (const [name, value] of Object.entries(categories)) {
      if (typeof value !== 'boolean') throw malformed(`a boolean for category "${name}"`);
      if (value) flaggedCategories.add(name);
    }
    for (const [name, value] of Object.entries(scores)) {
      if (typeof value !== 'number' || Number.isNaN(value)) throw malformed(`a numeric score for category "${name}"`);
      categoryScores[name] = Math.max(categoryScores[name] ?? 0, value);
    }
  }
  return { flagged, flaggedCategories: [...flaggedCategories], categoryScores };
}

/** Agno's rule: block what is flagged; with `raiseFor`, only the listed categories block. */
export function blockingCategories(verdict: ModerationVerdict, raiseFor: ReadonlySet<string> | undefined): string[] | undefined {
  if (raiseFor) {
    const hits = verdict.flaggedCategories.filter((c) => raiseFor.has(c));
    return hits.length > 0 ? hits : undefined;
  }
  return verdict.flagged ? verdict.flaggedCategories : undefined;
}
