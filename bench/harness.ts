/** Tiny timing harness: medians over rounds, so a noisy shared machine moves the spread, not the number. */
import { pathToFileURL } from 'node:url';

export interface Row {
  [column: string]: string | number;
}

/** Median time per call in nanoseconds of an async operation, run sequentially. */
export async function medianNs(
  op: () => Promise<unknown> | unknown,
  options: { rounds?: number; perRound?: number; warmup?: number } = {},
): Promise<number> {
  const { rounds = 15, perRound = 2_000, warmup = 2_000 } = options;
  for (let i = 0; i < warmup; i++) await op();
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < perRound; i++) await op();
    samples.push(Number(process.hrtime.bigint() - start) / perRound);
  }
  return median(samples);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/**
 * Milliseconds of CPU time this process has used (user + system, all its threads). On a shared virtual machine the
 * wall clock also counts time the hypervisor gave to other guests (steal, up to half of it here); CPU time does not,
 * so single-threaded costs compared in one run stay comparable.
 */
export function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/**
 * The least CPU time (`cpuMs`) of `rounds` runs of `fn`, after one untimed run: on a shared machine the minimum is
 * the closest to the code's own cost.
 */
export function bestCpuMs(fn: () => void, rounds: number): number {
  fn();
  let min = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t = cpuMs();
    fn();
    min = Math.min(min, cpuMs() - t);
  }
  return min;
}

export function printTable(title: string, rows: Row[]): void {
  if (rows.length === 0) return;
  printed.push({ title, rows });
  output(`\n${tableLines(title, rows).join('\n')}`);
}

let output: (text: string) => void = console.log;
/** Where printTable writes (stderr when `bench/run.ts --markdown` keeps stdout for the generated document). */
export function setOutput(write: (text: string) => void): void {
  output = write;
}

function format(value: string | number | undefined): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  const size = Math.abs(value);
  return size >= 100 ? value.toFixed(0) : size >= 10 ? value.toFixed(1) : value.toFixed(2);
}

export const us = (ns: number) => ns / 1_000;

/** Nearest-rank percentile (p in 0..100) of a sample. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** True when `moduleUrl` is the script Node was started with: lets each bench file run alone (`npm run profile`). */
export function isMain(moduleUrl: string): boolean {
  return process.argv[1] !== undefined && moduleUrl === pathToFileURL(process.argv[1]).href;
}

/** A target of issue #11: a limit on a measured value, or on its ratio to a floor measured in the same run. */
export interface TargetSpec {
  /** What is promised, as printed, e.g. 'async hook ≤ 1.2× a plain koa-compose layer'. */
  name: string;
  measured: number;
  unit: string;
  /** The floor this is compared with (same unit), and what it is. */
  floor?: { label: string; value: number };
  /** Which number the limit applies to: the measured value (default) or measured ÷ floor. */
  on?: 'value' | 'ratio';
  limit: number;
  /** 'max': measured must be ≤ limit (default); 'min': ≥ limit. */
  kind?: 'max' | 'min';
  /** `measured` is a difference of two timings: below zero it says the noise is larger than the effect, not "met". */
  difference?: boolean;
  /** Why it is missed, when it is, as measured (a profile, an allocation count); printed after the verdict. */
  ifMissed?: string;
}

/**
 * The one place a verdict is decided. A missed target prints its measured reason (`ifMissed`).
 */
export function target(spec: TargetSpec): Row {
  const { name, measured, unit, floor, on = 'value', limit, kind = 'max', difference = false, ifMissed = 'not yet explained' } = spec;
  const ratio = floor !== undefined && floor.value !== 0 ? measured / floor.value : undefined;
  const judged = on === 'ratio' ? ratio : measured;
  const met = judged !== undefined && Number.isFinite(judged) && (kind === 'max' ? judged <= limit : judged >= limit);
  return {
    target: name,
    measured: `${format(measured)} ${unit}`.trim(),
    floor: floor === undefined ? '—' : `${format(floor.value)}${unit ? ` ${unit}` : ''} (${floor.label})`,
    ratio: ratio === undefined ? '—' : `${ratio.toFixed(2)}×`,
    verdict:
      difference && measured < 0
        ? 'inconclusive: negative difference, noise larger than the effect (run again on a quieter machine)'
        : met
          ? 'met'
          : `**missed** (${on === 'ratio' ? `${format(judged ?? NaN)}×` : format(measured)} vs ${kind === 'max' ? '≤' : '≥'} ${limit}): ${ifMissed}`,
  };
}

/**
 * Median ns per call of each operation, measured interleaved: every round runs each operation `perRound` times in
 * turn, so a neighbour's burst on the shared machine hits all of them alike instead of one configuration.
 */
export async function interleavedNs<K extends string>(
  ops: Record<K, () => Promise<unknown> | unknown>,
  options: { rounds?: number; perRound?: number; warmup?: number } = {},
): Promise<Record<K, number>> {
  const { rounds = 15, perRound = 2_000, warmup = 1_000 } = options;
  const keys = Object.keys(ops) as K[];
  for (const k of keys) for (let i = 0; i < warmup; i++) await ops[k]();
  const samples = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  const random = seeded(1);
  for (let r = 0; r < rounds; r++) {
    // A fresh order every round, so no operation always runs right after the same neighbour (and its GC debt).
    for (const k of shuffled(keys, random)) {
      const op = ops[k];
      const start = process.hrtime.bigint();
      for (let i = 0; i < perRound; i++) await op();
      samples[k].push(Number(process.hrtime.bigint() - start) / perRound);
    }
  }
  return Object.fromEntries(keys.map((k) => [k, median(samples[k])])) as Record<K, number>;
}

/** Every table printed in this process, in order, so `bench/run.ts --markdown` can render them again as one document. */
export const printed: { title: string; rows: Row[] }[] = [];

/** The table as markdown lines (what printTable prints). */
export function tableLines(title: string, rows: Row[]): string[] {
  const columns = Object.keys(rows[0] ?? {});
  const cells = rows.map((row) => columns.map((c) => format(row[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) => `| ${values.map((v, i) => v.padEnd(widths[i]!)).join(' | ')} |`;
  return [`### ${title}`, '', line(columns), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)];
}

/** A small deterministic PRNG (mulberry32), so a run's orders are the same every time. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A shuffled copy (Fisher–Yates). */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
