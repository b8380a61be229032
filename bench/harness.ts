/** Tiny timing harness: medians over rounds, so a noisy shared machine moves the spread, not the number. */

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

export function printTable(title: string, rows: Row[]): void {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]!);
  const cells = rows.map((row) => columns.map((c) => format(row[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) => `| ${values.map((v, i) => v.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(`\n### ${title}\n`);
  console.log(line(columns));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of cells) console.log(line(r));
}

function format(value: string | number | undefined): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

export const us = (ns: number) => ns / 1_000;
