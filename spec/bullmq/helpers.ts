/**
 * Shared by the BullMQ specs: real Redis on loopback from REDIS_URL. Outside CI a missing REDIS_URL skips the suite
 * with one line saying how to run it; under CI=true it fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it, onTestFinished } from 'vitest';

export const REDIS_URL = process.env.REDIS_URL;
export const HOW_TO_RUN = 'needs Redis: run `scripts/services npx vitest run spec/bullmq` (it starts Redis and sets REDIS_URL)';

/** `describe` when REDIS_URL is set; a skip with the how-to line outside CI; a failing suite under CI=true. */
export function describeRedis(name: string, body: () => void): void {
  if (REDIS_URL !== undefined && REDIS_URL !== '') {
    describe(name, body);
  } else if (process.env.CI === 'true') {
    describe(name, () => {
      it('has REDIS_URL (CI=true: a missing service is a failure, not a skip)', () => {
        throw new Error(`REDIS_URL is not set under CI=true; ${HOW_TO_RUN}`);
      });
    });
  } else {
    console.warn(`skipped "${name}": ${HOW_TO_RUN}`);
    describe.skip(`${name} — ${HOW_TO_RUN}`, body);
  }
}

/** The connection options for BullMQ. */
export const connection = () => ({ url: REDIS_URL! });

/** A queue name of its own per test, so that specs never see each other's jobs. */
export const queueName = (label: string) => `hc-spec-${label}-${process.pid}-${Date.now().toString(36)}`;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every 20 ms until it is true, or fails after `ms`. */
export async function until(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(20);
  }
}

export const ROOT = join(import.meta.dirname, '..', '..');
const NODE_ARGS = ['--conditions=hookchain-source', '--disable-warning=ExperimentalWarning'];

/** Starts a fixture script in a new Node process; `lines` collects its stdout lines. */
export function child(
  script: string,
  args: string[],
  env: Record<string, string>,
): { proc: ChildProcess; lines: string[]; exited: Promise<number | null> } {
  const proc = spawn(process.execPath, [...NODE_ARGS, join(ROOT, 'spec', 'bullmq', 'fixtures', script), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  let buffer = '';
  proc.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const parts = buffer.split('\n');
    buffer = parts.pop()!;
    lines.push(...parts.filter(Boolean));
  });
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return { proc, lines, exited };
}

/** A fresh directory for the calling test, removed when the test ends (pass or fail). */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hc-bullmq-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
