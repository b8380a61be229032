/**
 * PII scan speed: MB/s on chat text and on PII-dense text, detection and masking, whole text and streamed; and
 * time on hostile inputs at 100 KB and 1 MB (linear means the 1 MB time is about ten times the 100 KB time).
 * Best of several rounds: on a shared machine the minimum is the closest to the code's own cost.
 */
import type { Row } from '../harness.ts';
import { PIIDetectionGuardrail } from '../../lib/guardrails/pii.ts';
import { PromptInjectionGuardrail } from '../../lib/guardrails/injection.ts';
import { deepset, notInject, synthRows, xstest } from './data.ts';

const detect = new PIIDetectionGuardrail();
const mask = new PIIDetectionGuardrail({ maskPii: true });
const injection = new PromptInjectionGuardrail();

/** A flat string (a concatenated one is a rope, slower to read until flattened). */
const flat = (s: string) => Buffer.from(s, 'utf8').toString('utf8');

function repeatTo(lines: string[], bytes: number): string {
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const line = lines[i % lines.length]!;
    parts.push(line);
    size += line.length + 1;
  }
  return flat(parts.join('\n'));
}

function best(fn: () => void, rounds: number): number {
  fn();
  let min = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t = performance.now();
    fn();
    min = Math.min(min, performance.now() - t);
  }
  return min;
}

/** Chat text: benign prompts, with one sentence of Presidio's synthetic PII corpus in every ten lines. */
export function corpora(): { chat: string; dense: string } {
  const benign = [...deepset().filter((p) => !p.injection), ...notInject(), ...xstest('safe')].map((p) => p.text.replace(/\s+/g, ' '));
  const pii = synthRows('synth_dataset_v2.json').map((r) => r.text.replace(/\s+/g, ' '));
  const chat: string[] = [];
  for (let i = 0; i < benign.length; i++) chat.push(benign[i]!, ...(i % 9 === 0 ? [pii[i % pii.length]!] : []));
  return { chat: repeatTo(chat, 8e6), dense: repeatTo(pii, 8e6) };
}

function streamed(text: string, delta: number): void {
  const runContext = {};
  let pending = '';
  for (let i = 0; i <= text.length; i += delta) {
    const final = i + delta > text.length;
    const input = pending + text.slice(i, i + delta);
    const r = mask.checkChunk({ text: input, released: '', final, runContext: runContext as never });
    const out = r.text ?? input;
    pending = final ? '' : out.slice(out.length - (r.hold ?? 0));
  }
}

export function speed(): Row[] {
  const { chat, dense } = corpora();
  const mbps = (text: string, ms: number) => (text.length / 1e6 / (ms / 1000)).toFixed(0);
  const rows: Row[] = [];
  for (const [name, text] of [['chat text (1 PII sentence per 10 lines)', chat], ['PII-dense (synthetic corpus)', dense]] as const) {
    rows.push({ corpus: name, operation: 'PII detect (scan)', 'MB/s': mbps(text, best(() => detect.scan(text), 5)) });
    rows.push({ corpus: name, operation: 'PII mask', 'MB/s': mbps(text, best(() => mask['scanner'].mask(text, 'asterisk'), 5)) });
    const part = text.slice(0, 1e6);
    rows.push({ corpus: name, operation: 'PII mask, streamed in 16-char deltas', 'MB/s': mbps(part, best(() => streamed(part, 16), 3)) });
    rows.push({ corpus: name, operation: 'injection check', 'MB/s': mbps(text, best(() => injection.detect(text), 5)) });
  }
  return rows;
}

export const HOSTILE: Readonly<Record<string, (size: number) => string>> = {
  'one digit run': (n) => '4'.repeat(n),
  'digits and single spaces': (n) => '1 '.repeat(n / 2),
  'digits and dashes (card-like)': (n) => '4111-1111-1111-111 '.repeat(n / 19),
  '@ floods': (n) => 'a@'.repeat(n / 2),
  '64-char local parts': (n) => `${'a'.repeat(64)}@`.repeat(n / 65),
  'long domain runs': (n) => `x@${'a.'.repeat(200)} `.repeat(n / 403),
  'colons (IPv6-like)': (n) => 'a:'.repeat(n / 2),
  'dotted numbers': (n) => '1.'.repeat(n / 2),
  '+ prefixes': (n) => '+1 '.repeat(n / 3),
  'IBAN starts': (n) => 'GB82 '.repeat(n / 5),
  'injection word floods': (n) => 'ignore all the previous '.repeat(n / 24),
};

export function hostile(): Row[] {
  return Object.entries(HOSTILE).map(([name, make]) => {
    const small = flat(make(100_000));
    const large = flat(make(1_000_000));
    const isInjection = name.startsWith('injection');
    const run = (s: string) => (isInjection ? injection.detect(s) : detect.scan(s));
    const a = best(() => run(small), 5);
    const b = best(() => run(large), 3);
    return { input: name, '100 KB ms': a.toFixed(1), '1 MB ms': b.toFixed(1), 'ratio (linear ≈ 10)': (b / a).toFixed(1) };
  });
}
