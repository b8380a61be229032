/**
 * The scale-out example in one command (`scripts/run example:scale-out`, which starts Redis and PostgreSQL through
 * scripts/services): two API processes and two worker processes on one Redis and one PostgreSQL; a client sends the
 * turns of one session to both API processes in turn. The session lock across processes (PostgreSQL advisory lock)
 * keeps the turns in order, the session state counts every turn, and the workers run the background hooks.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

if (process.env['REDIS_URL'] === undefined || process.env['DATABASE_URL'] === undefined) {
  console.error('examples/scale-out needs Redis and PostgreSQL: run it as scripts/run example:scale-out');
  process.exit(1);
}
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const children: ChildProcess[] = [];

/** Starts a process and resolves with the first line that matches `ready`; its other lines are printed. */
function start(file: string, ready: RegExp): Promise<string> {
  const child = spawn(process.execPath, ['--conditions=hookchain-source', '--disable-warning=ExperimentalWarning', here(file)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: process.env,
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${file} exited with code ${code} before it was ready`)));
    createInterface({ input: child.stdout! }).on('line', (line) => (ready.test(line) ? resolve(line) : console.log(line)));
  });
}

try {
  const urls = await Promise.all([start('api.ts', /^listening /), start('api.ts', /^listening /)]).then((lines) =>
    lines.map((l) => l.replace('listening ', '')),
  );
  await Promise.all([start('worker.ts', /^ready$/), start('worker.ts', /^ready$/)]);
  console.log(`two API processes (${urls.join(', ')}) and two workers are up`);
  const sessionId = `scale-out-${Date.now()}`;
  const turns = ['Where is my order?', 'My email is jane@example.com', 'Thanks!', 'One more question', 'Bye'];
  // Sent at once, alternating between the two API processes: the session lock queues them across processes.
  const answers = await Promise.all(
    turns.map(async (input, i) => {
      const response = await fetch(`${urls[i % 2]}/agents/support/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ input, sessionId, userId: 'demo' }),
      });
      const output = (await response.json()) as { content?: string; input?: { inputContent: unknown } };
      return `${response.status} via ${urls[i % 2]}: model saw "${String(output.input?.inputContent)}"; ${output.content}`;
    }),
  );
  for (const line of answers) console.log(`  ${line}`);
  const session = (await (await fetch(`${urls[0]}/sessions/${sessionId}?userId=demo`)).json()) as {
    runs: unknown[];
    sessionState: { turns?: number };
  };
  console.log(`session ${sessionId}: ${session.runs.length} runs, turns counted: ${session.sessionState.turns} (no lost update)`);
  await new Promise((resolve) => setTimeout(resolve, 1_000)); // let the workers print their background hooks
} finally {
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((resolve) => c.once('exit', resolve)) : undefined)));
}
