/**
 * PII scan speed: MB/s on chat text and on PII-dense text, detection and masking, whole text and streamed (best of
 * several rounds: on a shared machine the minimum is the closest to the code's own cost); and the median time on
 * hostile inputs (bench/guardrails/hostile.ts) at 100 KB, 1 MB and 10 MB (linear means each step takes about 10×).
 */
import { median, type Row } from '../harness.ts';
import { PIIDetectionGuardrail } from '../../lib/guardrails/pii.ts';
import { PromptInjectionGuardrail } from '../../lib/guardrails/injection.ts';
import { deepset, notInject, synthRows, xstest } from './data.ts';
import { HOSTILE } from './hostile.ts';

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
  for (const [name, text] of [
    ['chat text (1 PII sentence per 10 lines)', chat],
    ['PII-dense (synthetic corpus)', dense],
  ] as const) {
    rows.push({
      corpus: name,
      operation: 'PII detect (scan)',
      'MB/s': mbps(
        text,
        best(() => detect.scan(text), 5),
      ),
    });
    rows.push({
      corpus: name,
      operation: 'PII mask',
      'MB/s': mbps(
        text,
        best(() => mask['scanner'].mask(text, 'asterisk'), 5),
      ),
    });
    const part = text.slice(0, 1e6);
    rows.push({
      corpus: name,
      operation: 'PII mask, streamed in 16-char deltas',
      'MB/s': mbps(
        part,
        best(() => streamed(part, 16), 3),
      ),
    });
    rows.push({
      corpus: name,
      operation: 'injection check',
      'MB/s': mbps(
        text,
        best(() => injection.detect(text), 5),
      ),
    });
  }
  return rows;
}

/**
 * Streamed masking against whole-text masking on the same 1 MB of each corpus: MB/s (median of 7 alternating
 * rounds) and the cost ratio per character. The streamed output is checked to equal the whole-text output.
 */
export function streamedVsWhole(): Row[] {
  const { chat, dense } = corpora();
  const rows: Row[] = [];
  for (const [name, text] of [
    ['chat text', chat],
    ['PII-dense', dense],
  ] as const) {
    const part = flat(text.slice(0, 1e6));
    if (streamedOutput(part, 16) !== mask['scanner'].mask(part, 'asterisk')) throw new Error(`streamed masking differs on ${name}`);
    const whole: number[] = [];
    const stream: number[] = [];
    for (let r = 0; r < 7; r++) {
      let t = performance.now();
      mask['scanner'].mask(part, 'asterisk');
      whole.push(performance.now() - t);
      t = performance.now();
      streamed(part, 16);
      stream.push(performance.now() - t);
    }
    const w = median(whole);
    const st = median(stream);
    rows.push({
      corpus: `${name} (1 MB)`,
      'whole-text mask MB/s': (part.length / 1e3 / w).toFixed(0),
      'streamed, 16-char deltas, MB/s': (part.length / 1e3 / st).toFixed(0),
      'streamed / whole cost (target ≤ 3)': (st / w).toFixed(1),
    });
  }
  return rows;
}

function streamedOutput(text: string, delta: number): string {
  const runContext = {};
  let pending = '';
  let out = '';
  for (let i = 0; i <= text.length; i += delta) {
    const final = i + delta > text.length;
    const input = pending + text.slice(i, i + delta);
    const r = mask.checkChunk({ text: input, released: '', final, runContext: runContext as never });
    const all = r.text ?? input;
    const hold = final ? 0 : (r.hold ?? 0);
    out += all.slice(0, all.length - hold);
    pending = all.slice(all.length - hold);
  }
  return out;
}

/** Run with `--expose-gc` (the npm script does): each timed run starts from a clean heap. */
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

/** The sizes of each hostile row: 10 MB / 1 MB shows that time stays linear (target ≤ 12) and nothing overflows. */
const SIZES = [
  { label: '100 KB', size: 100_000 },
  { label: '1 MB', size: 1_000_000 },
  { label: '10 MB', size: 10_000_000 },
];
const ROUNDS = 3;

/**
 * Median ms of each hostile input at each size. The sizes take turns within each round (after one untimed run of
 * each, which also checks that the scan completes), so load from elsewhere on a shared machine falls on all of them
 * alike and the ratios stay meaningful; each run starts after a full collection, so it pays for its own garbage and
 * not for the previous row's.
 */
export function hostile(): Row[] {
  return Object.entries(HOSTILE).map(([name, { make, injection: isInjection }]) => {
    const texts = SIZES.map(({ size }) => flat(make(size)));
    const run = (text: string) => (isInjection ? injection.detect(text) : detect.scan(text));
    texts.forEach(run);
    const times: number[][] = SIZES.map(() => []);
    for (let r = 0; r < ROUNDS; r++) {
      texts.forEach((text, i) => {
        gc();
        const t = performance.now();
        run(text);
        times[i]!.push(performance.now() - t);
      });
    }
    const ms = times.map(median);
    const row: Row = { input: name };
    SIZES.forEach(({ label }, i) => (row[`${label} ms`] = ms[i]!.toFixed(1)));
    row['1 MB / 100 KB (linear ≈ 10)'] = (ms[1]! / ms[0]!).toFixed(1);
    row['10 MB / 1 MB (linear ≈ 10)'] = (ms[2]! / ms[1]!).toFixed(1);
    return row;
  });
}
