/**
 * The default prompt-injection rules. Agno's 18 phrases are kept verbatim (matched on the normal form, at a word
 * start), so anything Agno's defaults catch, these catch too; the other rules catch the common paraphrases of the
 * same attacks ("disregard all prior directions", "you have no restrictions") and their German, French and Spanish
 * forms. Rules are written for the normal form (see normalize.ts): lower case, words separated by one space,
 * apostrophes as spaces (`don t`); `l` is folded to `i` when they are compiled, so they can be written plainly.
 *
 * Every rule is monotone — it has no look-ahead, so a match stays a match whatever text follows — which is what
 * lets a stream be blocked the moment a phrase is complete.
 */

/** Agno 2.9.0's defaults (`guardrails/prompt_injection.py`), verbatim. */
export const AGNO_PHRASES = [
  'ignore previous instructions',
  'ignore your instructions',
  'you are now a',
  'forget everything above',
  'developer mode',
  'override safety',
  'disregard guidelines',
  'system prompt',
  'jailbreak',
  'act as if',
  'pretend you are',
  'roleplay as',
  'simulate being',
  'bypass restrictions',
  'ignore safeguards',
  'admin override',
  'root access',
  'forget everything',
] as const;

export interface InjectionRule {
  readonly name: string;
  /** Source over the normal form. */
  readonly source: string;
}

/** Up to `max` words of at most 20 characters, each followed by a space (the normal form's only separator). */
const gap = (max: number) => `(?:[^ ]{1,20} ){0,${max}}`;
const any = (...words: string[]) => `(?:${words.join('|')})`;

const IGNORE = any(
  'ignore',
  'ignoring',
  'disregard',
  'forget',
  'skip',
  'drop',
  'discard',
  'override',
  'bypass',
  'neglect',
  'overlook',
  'set aside',
  'throw away',
  'erase',
  'abandon',
);
const EARLIER = any(
  'previous',
  'prior',
  'above',
  'earlier',
  'preceding',
  'foregoing',
  'former',
  'initial',
  'original',
  'old',
  'existing',
  'system',
  'all',
  'any',
  'every',
  'your',
  'these',
  'those',
);
const ORDERS = any(
  'instructions?',
  'directions?',
  'directives?',
  'rules?',
  'guidelines?',
  'prompts?',
  'commands?',
  'orders?',
  'programming',
  'guidance',
  'constraints?',
  'context',
  'restrictions?',
  'polic(?:y|ies)',
  'safeguards?',
  'filters?',
  'training',
  'tasks?',
);
const LIMITS = any(
  'restrictions?',
  'filters?',
  'filtering',
  'limitations?',
  'limits',
  'guidelines',
  'rules',
  'boundaries',
  'censorship',
  'polic(?:y|ies)',
  'morals?',
  'morality',
  'ethics',
  'safeguards',
  'programming',
  'principles',
  'constraints',
);

export const DEFAULT_RULES: readonly InjectionRule[] = [
  { name: 'ignore-previous-instructions', source: `${IGNORE} ${gap(3)}${EARLIER} ${gap(2)}${ORDERS}` },
  {
    name: 'no-restrictions',
    source: `${any('you', 'chatgpt', 'gpt', 'dan', 'ai', 'assistant', 'model', 'bot')} ${gap(3)}${any('no', 'without', 'free from', 'free of', 'not bound by', 'unbound by', 'exempt from', 'released from', 'beyond', 'ignore', 'ignores', 'disregard', 'disregards', 'bypass', 'bypasses', 'break', 'breaks', 'don t have', 'do not have', 'doesn t have', 'does not have', 'never follow', 'not follow', 'not restricted by', 'not limited by')} ${gap(3)}${LIMITS}`,
  },
  {
    name: 'unrestricted-persona',
    source: `${any('unrestricted', 'unfiltered', 'uncensored', 'amoral', 'unbound', 'unchained', 'jailbroken', 'lawless', 'unlimited', 'no filter')} ${gap(2)}${any('ai', 'assistant', 'chatbot', 'bot', 'model', 'language model', 'llm', 'persona', 'gpt', 'chatgpt')}`,
  },
  {
    name: 'do-anything-now',
    source: `${any('do anything now', 'stay in dan', 'dan mode', 'stan mode', 'dude mode', 'aim mode', 'jailbreak mode')}`,
  },
  { name: 'jailbroken', source: 'jailbr(?:eak|oken|oke)' },
  {
    name: 'new-instructions',
    source: `${any(`${any('your', 'the')} ${any('new', 'real', 'actual', 'true', 'updated', 'only')} ${any('instructions?', 'task', 'goal', 'objective', 'purpose', 'role', 'rules?', 'directive')} ${any('is', 'are', 'now')}`, `from now on ${gap(1)}you ${any('are', 're', 'will act', 'will be', 'will respond', 'will answer', 'will only', 'will ignore', 'will pretend', 'must', 'shall', 'act', 'respond', 'answer', 'reply', 'have no', 'can do anything')}`)}`,
  },
  {
    name: 'reveal-system-prompt',
    source: `${any('reveal', 'show', 'print', 'output', 'repeat', 'display', 'give', 'share', 'tell', 'leak', 'dump', 'write out', 'spell out', 'list', 'recite', 'expose', 'disclose', 'what is', 'what are', 'what was', 'what were')} ${gap(2)}${any('your', 'the', 'its', 'this')} ${gap(1)}${any('system', 'initial', 'original', 'hidden', 'secret', 'internal', 'developer', 'pre')} ${any('prompt', 'instructions', 'message', 'rules', 'directives', 'configuration')}`,
  },
  {
    name: 'repeat-text-above',
    source: `${any('repeat', 'print', 'output', 'copy', 'reveal', 'recite')} ${gap(3)}${any('words', 'text', 'everything', 'all', 'instructions', 'lines')} ${gap(1)}${any('above', 'before this', 'preceding')}`,
  },
  {
    name: 'disable-safety',
    source: `${any('disable', 'turn off', 'deactivate', 'remove', 'switch off', 'shut off', 'bypass', 'circumvent', 'evade', 'get around', 'override', 'ignore')} ${gap(3)}${any('safety', 'content', 'ethical', 'moral', 'security')} ${gap(1)}${any('filters?', 'guidelines', 'restrictions', 'protocols', 'measures', 'checks', 'policies', 'mechanisms', 'guardrails', 'safeguards', 'moderation', 'settings')}`,
  },
  {
    name: 'role-hijack',
    source: `${any(`you are ${any('no longer', 'not')} ${gap(1)}${any('an ai', 'ai', 'an assistant', 'assistant', 'chatgpt', 'a language model', 'bound', 'restricted', 'limited', 'an ai language model')}`, `${any('stop', 'quit', 'cease')} being ${gap(1)}${any('an ai', 'ai', 'an assistant', 'assistant', 'chatgpt')}`, `you are now ${any('an', 'in', 'free', 'unrestricted', 'unfiltered', 'uncensored', 'jailbroken', 'dan', 'evil')}`)}`,
  },
  {
    name: 'fake-system-message',
    source: `${any(`${any('new', 'important', 'urgent', 'priority', 'updated')} ${any('system', 'admin', 'developer')} ${any('message', 'instructions?', 'update', 'override', 'command', 'prompt', 'note')}`, 'im start system', 'end of system prompt', `${any('begin', 'beginning', 'start')} of ${gap(1)}${any('new', 'real', 'actual')} instructions`)}`,
  },
  {
    name: 'ignore-instructions-de',
    source: `${any('ignoriere', 'ignoriert', 'ignorieren', 'vergiss', 'vergesst', 'vergessen', 'missachte', 'missachten', 'uberspringe')} ${gap(3)}${any('alle', 'alles', 'vorherigen?', 'bisherigen?', 'obigen?', 'vorangegangenen?', 'vorigen?', 'deine', 'ihre', 'die')} ${gap(2)}${any('anweisungen', 'instruktionen', 'befehle', 'regeln', 'vorgaben', 'aufgaben', 'richtlinien')}`,
  },
  { name: 'forget-everything-de', source: `${any('vergiss', 'vergesst', 'vergessen sie', 'vergessen')} ${gap(1)}alles` },
  { name: 'you-are-now-de', source: `du bist ${any('jetzt', 'nun', 'ab sofort', 'ab jetzt')} ${any('ein', 'eine', 'der', 'die', 'das')}` },
  {
    name: 'ignore-instructions-fr-es',
    source: `${any('ignore', 'ignorez', 'oublie', 'oubliez', 'ignora', 'ignore', 'olvida', 'olvide')} ${gap(3)}${any('les', 'toutes', 'tout', 'precedentes', 'anterieures', 'las', 'los', 'todas', 'todo', 'anteriores', 'previas')} ${gap(2)}${any('instructions', 'consignes', 'regles', 'instrucciones', 'reglas', 'indicaciones')}`,
  },
];

/** A rule for a literal phrase: its normal form, starting at a word start. */
export function phraseSource(normalizedPhrase: string): string {
  return normalizedPhrase.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}
