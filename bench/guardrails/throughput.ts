/**
 * PII scan speed: MB/s on chat text and on PII-dense text, detection and masking, whole text and streamed (best of
 * several rounds: on a shared machine the minimum is the closest to the code's own cost); and the median time on
 * hostile inputs (bench/guardrails/hostile.ts) at 100 KB, 1 MB and 10 MB (linear means each step takes about 10×).
 */
import { bestCpuMs, cpuMs, gc, median, type Row } from '../harness.ts';
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

/** Chat text: benign prompts, with one sentence of Presidio's synthetic PII corpus in every ten lines. */
export function corpora(): { chat: string; dense: string } {
  const benign = [...deepset().filter((p) => !p.injection), ...notInject(), ...xstest('safe')].map((p) => p.text.replace(/\s+/g, ' '));
  const pii = synthRows('synth_dataset_v2.json').map((r) => r.text.replace(/\s+/g, ' '));
  const chat: string[] = [];
  for (let i = 0; i < benign.length; i++) chat.push(benign[i]!, ...(i % 9 === 0 ? [pii[i % pii.length]!] : []));
  return { chat: repeatTo(chat, 8e6), dense: repeatTo(pii, 8e6) };
}

/** The title of the `streamedVsWhole` table. */
export const STREAMED_TITLE = 'PII masking, streamed in 16-character deltas vs whole text (CPU time, median of 7 alternating rounds)';

/** A chunk check that releases everything at once: what the delta loop costs by itself (the floor). */
const NO_CHECK: Pick<PIIDetectionGuardrail, 'checkChunk'> = { checkChunk: () => ({ hold: 0 }) };

function streamed(text: string, delta: number, guardrail: Pick<PIIDetectionGuardrail, 'checkChunk'> = mask): void {
  const runContext = {};
  let pending = '';
  for (let i = 0; i <= text.length; i += delta) {
    const final = i + delta > text.length;
    const input = pending + text.slice(i, i + delta);
    const r = guardrail.checkChunk({ text: input, released: '', final, runContext: runContext as never });
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
        bestCpuMs(() => detect.scan(text), 5),
      ),
    });
    rows.push({
      corpus: name,
      operation: 'PII mask',
      'MB/s': mbps(
        text,
        bestCpuMs(() => mask['scanner'].mask(text, 'asterisk'), 5),
      ),
    });
    const part = text.slice(0, 1e6);
    rows.push({
      corpus: name,
      operation: 'PII mask, streamed in 16-char deltas',
      'MB/s': mbps(
        part,
        bestCpuMs(() => streamed(part, 16), 3),
      ),
    });
    rows.push({
      corpus: name,
      operation: 'injection check',
      'MB/s': mbps(
        text,
        bestCpuMs(() => injection.detect(text), 5),
      ),
    });
  }
  return rows;
}

/**
 * Digit-dense text: log and table lines where most words are numbers (dates, times, amounts, ids), with a valid
 * card number or a phone number in some lines. Deterministic (a fixed linear congruential sequence).
 */
export function digitDense(bytes: number): string {
  let seed = 12345;
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const pad = (n: number, width: number) => String(n).padStart(width, '0');
  const lines: string[] = [];
  let size = 0;
  while (size < bytes) {
    const extra =
      next(8) === 0 ? ' card 4111 1111 1111 1111' : next(8) === 0 ? ` call 555-${pad(next(1000), 3)}-${pad(next(10000), 4)}` : '';
    const line =
      `2024-${pad(1 + next(12), 2)}-${pad(1 + next(28), 2)} ${pad(next(24), 2)}:${pad(next(60), 2)}:${pad(next(60), 2)} ` +
      `order ${next(100000)} qty ${next(50)} total ${next(5000)}.${pad(next(100), 2)} ref ${pad(next(1000), 3)}-${next(90) + 10}${extra}`;
    lines.push(line);
    size += line.length + 1;
  }
  return flat(lines.join('\n'));
}

/** The four corpora of the streamed-vs-whole table, 1 MB each. */
export function streamCorpora(): [string, string][] {
  const { chat, dense } = corpora();
  // Prose without an anchor: the chat text with every digit, `@` and `:` removed.
  const prose = flat(chat.replace(/[0-9@:]/g, ''));
  return [
    ['prose, no digit, @ or :', prose],
    ['chat text', chat],
    ['PII-dense', dense],
    ['digit-dense (logs)', digitDense(1.1e6)],
  ].map(([name, text]) => [name!, flat(text!.slice(0, 1e6))]);
}

/**
 * Streamed masking against whole-text masking on 1 MB of each corpus: MB/s of CPU time (median of 7 alternating
 * rounds), the cost ratio per character, the same for the delta loop with a check that holds nothing (the floor
 * the harness itself costs), and the hold-back: characters fed but not yet released after each delta (max and mean
 * over the stream). The streamed output is checked to equal the whole-text output.
 */
export function streamedVsWhole(guardrail: PIIDetectionGuardrail = mask, rounds = 7): Row[] {
  const rows: Row[] = [];
  for (const [name, part] of streamCorpora()) {
    const { output, maxHeld, meanHeld } = streamedOutput(part, 16, guardrail);
    if (output !== guardrail['scanner'].mask(part, 'asterisk')) throw new Error(`streamed masking differs on ${name}`);
    const whole: number[] = [];
    const stream: number[] = [];
    const floor: number[] = [];
    for (let r = 0; r < rounds; r++) {
      let t = cpuMs();
      guardrail['scanner'].mask(part, 'asterisk');
      whole.push(cpuMs() - t);
      t = cpuMs();
      streamed(part, 16, guardrail);
      stream.push(cpuMs() - t);
      t = cpuMs();
      streamed(part, 16, NO_CHECK);
      floor.push(cpuMs() - t);
    }
    const w = median(whole);
    const st = median(stream);
    const f = median(floor);
    rows.push({
      corpus: `${name} (1 MB)`,
      'whole-text mask MB/s': (part.length / 1e3 / w).toFixed(0),
      'streamed, 16-char deltas, MB/s': (part.length / 1e3 / st).toFixed(0),
      'streamed / whole cost (target ≤ 3)': (st / w).toFixed(1),
      'delta loop alone (floor) / whole': (f / w).toFixed(1),
      '(streamed − floor) / whole': ((st - f) / w).toFixed(1),
      'held after a delta, max': maxHeld,
      'held, mean': meanHeld.toFixed(0),
    });
  }
  return rows;
}

/** The released text of a stream in `delta`-character pieces, and how much was held after each delta. */
export function streamedOutput(
  text: string,
  delta: number,
  guardrail: PIIDetectionGuardrail = mask,
): { output: string; maxHeld: number; meanHeld: number } {
  const runContext = {};
  let pending = '';
  let out = '';
  let maxHeld = 0;
  let sumHeld = 0;
  let deltas = 0;
  for (let i = 0; i <= text.length; i += delta) {
    const final = i + delta > text.length;
    const input = pending + text.slice(i, i + delta);
    const r = guardrail.checkChunk({ text: input, released: '', final, runContext: runContext as never });
    const all = r.text ?? input;
    const hold = final ? 0 : (r.hold ?? 0);
    out += all.slice(0, all.length - hold);
    pending = all.slice(all.length - hold);
    if (!final) {
      maxHeld = Math.max(maxHeld, hold);
      sumHeld += hold;
      deltas++;
    }
  }
  return { output: out, maxHeld, meanHeld: sumHeld / Math.max(1, deltas) };
}

/** The sizes of each hostile row: 10 MB / 1 MB shows that time stays linear (target ≤ 12) and nothing overflows. */
const SIZES = [
  { label: '100 KB', size: 100_000 },
  { label: '1 MB', size: 1_000_000 },
  { label: '10 MB', size: 10_000_000 },
];
const ROUNDS = 3;

/**
 * Median CPU ms (see `cpuMs`) of each hostile input at each size, smallest first: untimed warm-up runs (which also
 * check that the scan completes; the optimising compiler's background threads count in CPU time), then `ROUNDS`
 * timed runs, each after a full collection, so it pays for its own garbage and not for the previous run's. CPU time rather than wall time: this shared machine's load falls on the wall clock only.
 */
export function hostile(): Row[] {
  return Object.entries(HOSTILE).map(([name, { make, injection: isInjection }]) => {
    const run = (text: string) => (isInjection ? injection.detect(text) : detect.scan(text));
    const row: Row = { input: name };
    const ms = SIZES.map(({ label, size }, i) => {
      const text = flat(make(size));
      for (let w = 0; w < [8, 3, 2][i]!; w++) run(text);
      const times: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        gc();
        const t = cpuMs();
        run(text);
        times.push(cpuMs() - t);
      }
      const m = median(times);
      row[`${label} ms`] = m.toFixed(1);
      return m;
    });
    row['1 MB / 100 KB (linear ≈ 10)'] = (ms[1]! / ms[0]!).toFixed(1);
    row['10 MB / 1 MB (linear ≈ 10)'] = (ms[2]! / ms[1]!).toFixed(1);
    return row;
  });
}
