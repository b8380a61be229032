/** The bench harness's pure helpers: percentiles and the one place a target's verdict is decided. No timing here. */
import { describe, expect, it } from 'vitest';
import { median, percentile, target } from '../../bench/harness.ts';

describe('percentile', () => {
  it('is nearest-rank, whatever the order of the sample', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 … 1
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile(values, 0)).toBe(1);
    expect(percentile([7], 99)).toBe(7);
  });

  it('agrees with median on an odd sample', () => {
    expect(percentile([3, 1, 2], 50)).toBe(median([3, 1, 2]));
  });
});

describe('target', () => {
  it('judges the measured value against a maximum by default', () => {
    expect(target({ name: 'fixed', measured: 1.4, unit: 'µs', limit: 1.5 }).verdict).toBe('met');
    expect(target({ name: 'fixed', measured: 1.5, unit: 'µs', limit: 1.5 }).verdict).toBe('met');
    const missed = target({ name: 'fixed', measured: 2.5, unit: 'µs', limit: 1.5 });
    expect(missed.verdict).toBe('**missed** (2.50 vs ≤ 1.5): not yet explained');
    const explained = target({ name: 'fixed', measured: 2.5, unit: 'µs', limit: 1.5, ifMissed: 'freezing costs 25%' });
    expect(explained.verdict).toBe('**missed** (2.50 vs ≤ 1.5): freezing costs 25%');
  });

  it('judges the ratio to the floor when asked, and prints floor and ratio', () => {
    const row = target({
      name: 'async hook',
      measured: 300,
      unit: 'ns',
      floor: { label: 'koa layer', value: 200 },
      on: 'ratio',
      limit: 1.2,
    });
    expect(row.floor).toBe('200 ns (koa layer)');
    expect(row.ratio).toBe('1.50×');
    expect(row.verdict).toMatch(/missed.*1\.50× vs ≤ 1\.2/);
    expect(target({ name: 'a', measured: 230, unit: 'ns', floor: { label: 'f', value: 200 }, on: 'ratio', limit: 1.2 }).verdict).toBe(
      'met',
    );
  });

  it('handles minimums, and never calls a non-finite measurement met', () => {
    expect(target({ name: 'scan', measured: 120, unit: 'MB/s', limit: 100, kind: 'min' }).verdict).toBe('met');
    expect(target({ name: 'scan', measured: 80, unit: 'MB/s', limit: 100, kind: 'min' }).verdict).toMatch(/missed.*≥ 100/);
    expect(target({ name: 'r', measured: 1, unit: '', floor: { label: 'f', value: 0 }, on: 'ratio', limit: 2 }).verdict).toMatch(/missed/);
    expect(target({ name: 'n', measured: NaN, unit: 'µs', limit: 2 }).verdict).toMatch(/missed/);
  });
});

describe('target on a difference of timings', () => {
  it('calls a negative difference inconclusive, not met', () => {
    expect(target({ name: 'stream', measured: -0.9, unit: 'µs', limit: 0.6, difference: true }).verdict).toMatch(/^inconclusive/);
    expect(target({ name: 'stream', measured: 0.4, unit: 'µs', limit: 0.6, difference: true }).verdict).toBe('met');
  });
});
