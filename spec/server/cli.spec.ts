/**
 * `hookchain serve` as a user runs it: a child process on a fixture module, port 0. It prints the URL it listens
 * on and one line per request; SIGTERM while 10 requests are in flight lets every one of them finish with its full
 * response, drains the background hooks and exits 0. Usage errors exit 2 with a message that names the fix.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const CLI = 'lib/server/cli.ts';
const FIXTURE = 'spec/server/fixtures/serve-agents.ts';

interface Cli {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the first match of `pattern` in stdout (waiting for it). */
  waitFor: (pattern: RegExp, timeoutMs?: number) => Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

function hookchain(args: string[]): Cli {
  const env = { ...process.env };
  delete env['NODE_OPTIONS'];
  const child = spawn(process.execPath, ['--conditions=hookchain-source', '--disable-warning=ExperimentalWarning', CLI, ...args], {
    cwd: root,
    env,
  });
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    for (const w of waiters) w();
  });
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const waitFor = (pattern: RegExp, timeoutMs = 15_000) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      const check = () => {
        const m = out.match(pattern);
        if (m === null) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(m);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no ${pattern} in stdout after ${timeoutMs} ms:\n${out}\nstderr:\n${err}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  return { child, stdout: () => out, stderr: () => err, waitFor, exited };
}

const count = (text: string, pattern: RegExp) => (text.match(new RegExp(pattern, 'g')) ?? []).length;

describe('hookchain serve', () => {
  it('serves the module, logs each request, and on SIGTERM finishes the 10 requests in flight and exits 0', async () => {
    const cli = hookchain(['serve', FIXTURE, '--port', '0']);
    try {
      const [, url] = await cli.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      await cli.waitFor(/curl -s /);

      const health = await fetch(`${url}/health`);
      expect(health.status).toBe(200);
      const post = (input: string) =>
        fetch(`${url}/agents/slow/runs`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ input }),
        });
      const first = await post('warm-up');
      expect(first.status).toBe(200);
      const runId = first.headers.get('x-run-id');
      expect(runId).toBeTruthy();
      await cli.waitFor(new RegExp(`POST /agents/slow/runs 200 \\d+\\.\\dms run=${runId}`));
      await cli.waitFor(/GET \/health 200 \d+\.\dms/);

      // Ten requests, all in flight (their slow pre-hook has started) when SIGTERM arrives.
      const inFlight = Array.from({ length: 10 }, (_, i) =>
        post(`request-${i}`).then(async (r) => ({ status: r.status, body: await r.text() })),
      );
      await cli.waitFor(/(?:run started for request-\d[\s\S]*){10}/);
      cli.child.kill('SIGTERM');

      const answers = await Promise.all(inFlight);
      for (const answer of answers) {
        expect(answer.status).toBe(200);
        expect(JSON.parse(answer.body)).toMatchObject({ status: 'completed', content: 'done' });
      }
      expect(await cli.exited).toBe(0);
      // Every background hook ran before the process exited (warm-up + 10), and the close was logged.
      expect(count(cli.stdout(), /fixture: background hook ran/)).toBe(11);
      expect(cli.stdout()).toContain('SIGTERM: closing');
      expect(cli.stdout()).toContain('hookchain serve: closed');
      expect(cli.stderr()).toBe('');
    } finally {
      cli.child.kill('SIGKILL');
    }
  }, 30_000);

  it('refuses new requests while closing and exits 0 on SIGINT too', async () => {
    const cli = hookchain(['serve', FIXTURE, '--port', '0']);
    try {
      const [, url] = await cli.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      const running = fetch(`${url}/agents/slow/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ input: 'in flight' }),
      });
      await cli.waitFor(/run started for in flight/);
      cli.child.kill('SIGINT');
      await cli.waitFor(/SIGINT: closing/);
      const late = await fetch(`${url}/health`).then(
        (r) => r.status,
        () => 'refused',
      );
      expect([503, 'refused']).toContain(late);
      expect((await running).status).toBe(200);
      expect(await cli.exited).toBe(0);
    } finally {
      cli.child.kill('SIGKILL');
    }
  }, 30_000);

  it.each([
    [[], /missing command/],
    [['serve'], /missing <module>/],
    [['serve', 'no/such/module.js'], /module not found: .*no\/such\/module\.js \(the path is relative to the current directory/],
    [
      ['serve', 'spec/server/fixtures/no-exports.ts'],
      /exports neither `agents` nor `server` \(it exports agent\): add `export const agents = \[agent\]`/,
    ],
    [['serve', FIXTURE, '--port', '70000'], /--port "70000" is not valid: give a port from 0 to 65535/],
    [['serve', FIXTURE, '--port', 'abc'], /--port "abc" is not valid/],
    [['serve', FIXTURE, '--colour'], /Unknown option '--colour'/],
    [['start', FIXTURE], /unknown command "start": the only command is `serve`/],
  ])('usage error %j: exit code 2 and a message naming the fix', async (args, message) => {
    const cli = hookchain(args);
    expect(await cli.exited).toBe(2);
    expect(cli.stderr()).toMatch(message);
  });

  it('--help prints the usage and exits 0', async () => {
    const cli = hookchain(['--help']);
    expect(await cli.exited).toBe(0);
    expect(cli.stdout()).toMatch(/^Usage: hookchain serve <module> \[--port 7777\] \[--host 127\.0\.0\.1\]/);
  });
});
