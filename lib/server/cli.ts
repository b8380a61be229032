#!/usr/bin/env node
/**
 * `hookchain serve <module> [--port 7777] [--host 127.0.0.1]`: the package's `bin`. Loads a module (a path relative
 * to the current directory) that exports `agents` (an array of `Agent`) or `server` (an `AgentServer`), serves it,
 * prints the URL it listens on (and the run console's, when it is on) and one line per request (method, path, status, ms, run id), and on SIGTERM or
 * SIGINT closes gracefully (in-flight runs finish, background hooks drain) and exits 0.
 *
 * Exit codes: 0 after a graceful close (and for `--help`), 2 for a usage error (bad flag, bad port, a module that
 * is missing or exports neither `agents` nor `server`), 1 when the module fails to load or the server cannot listen.
 *
 * @module
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import type { Server } from 'node:http';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type Koa from 'koa';
import { HookchainConfigError } from '../errors.ts';
import { AgentServer } from './index.ts';

const USAGE = `Usage: hookchain serve <module> [--port 7777] [--host 127.0.0.1]

Serves the agents of <module> over HTTP with hookchain/server until SIGTERM or Ctrl-C.

  <module>             a JavaScript (or, on Node >= 22.18, TypeScript) module, relative to the current directory,
                       exporting \`agents\` (an array of Agent) or \`server\` (an AgentServer)
  --port <n>           port to listen on, 0 picks a free one (default 7777)
  --host <host>        interface to listen on (default 127.0.0.1; any other host needs auth on the server, or
                       \`allowUnauthenticated: true\`)
  --shutdown-timeout <ms>
                       how long in-flight runs get to finish on SIGTERM/SIGINT (default 10000)
  --no-console         do not serve the run console at /console (on by default when <module> exports \`agents\`;
                       a \`server\` export decides for itself with its \`console\` option)
  -h, --help           this text
  -v, --version        the hookchain version

Exit codes: 0 after a graceful shutdown, 2 for a usage error, 1 when the module or the server fails.`;

/** What `hookchain serve` was asked to do. */
interface ServeArgs {
  module: string;
  port: number;
  host: string;
  shutdownTimeoutMs: number;
  /** Serve the run console (DESIGN §12) on a server built from `agents`. */
  console: boolean;
}

/** A usage error: printed with a hint, exit code 2. */
class UsageError extends HookchainConfigError {
  constructor(message: string) {
    super('INVALID_OPTION', message);
  }
}

/** The part of an `AgentServer` the CLI uses, so a `server` export from another loaded copy of hookchain works too. */
interface ServableServer {
  app: Koa;
  listen(options: { port?: number; host?: string }): Promise<{ url: string }>;
  close(options?: { timeoutMs?: number }): Promise<unknown>;
  server?: Server;
  consolePath?: string | undefined;
}

function parse(argv: string[]): ServeArgs | 'help' | 'version' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      allowNegative: true,
      strict: true,
      options: {
        port: { type: 'string', short: 'p' },
        host: { type: 'string' },
        'shutdown-timeout': { type: 'string' },
        console: { type: 'boolean', default: true },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (error) {
    throw new UsageError(`hookchain: ${(error as Error).message.split('\n')[0]}`);
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  if (values.version) return 'version';
  const [command, module, ...rest] = positionals;
  if (command === undefined) throw new UsageError('hookchain: missing command: write `hookchain serve <module>`');
  if (command !== 'serve') throw new UsageError(`hookchain: unknown command "${command}": the only command is \`serve\``);
  if (module === undefined) {
    throw new UsageError(
      'hookchain serve: missing <module>: name a module that exports `agents` or `server`, e.g. `hookchain serve ./agents.js`',
    );
  }
  if (rest.length > 0) throw new UsageError(`hookchain serve: unexpected argument "${rest[0]}": serve takes one module`);
  const port = integer(values.port ?? '7777', '--port', 65_535, 'a port from 0 to 65535 (0 picks a free one)');
  const host = values.host ?? '127.0.0.1';
  if (host.trim() === '') throw new UsageError('hookchain serve: --host is empty: give an interface such as 127.0.0.1 or 0.0.0.0');
  const shutdownTimeoutMs = integer(
    values['shutdown-timeout'] ?? '10000',
    '--shutdown-timeout',
    2_147_483_647,
    'milliseconds, such as 10000',
  );
  return { module, port, host, shutdownTimeoutMs, console: values.console !== false };
}

function integer(text: string, flag: string, max: number, expected: string): number {
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value > max) {
    throw new UsageError(
      `hookchain serve: ${flag} "${text}" is not valid: give ${expected}, e.g. \`${flag} ${flag === '--port' ? 7777 : 10000}\``,
    );
  }
  return value;
}

function isServer(value: unknown): value is ServableServer {
  const v = value as Partial<ServableServer> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.listen === 'function' &&
    typeof v.close === 'function' &&
    typeof (v.app as Partial<Koa> | undefined)?.use === 'function'
  );
}

async function load(modulePath: string, withConsole: boolean): Promise<{ server: ServableServer; agentIds: string[] | undefined }> {
  const file = resolve(process.cwd(), modulePath);
  if (!existsSync(file)) {
    throw new UsageError(`hookchain serve: module not found: ${file} (the path is relative to the current directory, ${process.cwd()})`);
  }
  let exports: Record<string, unknown>;
  try {
    exports = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ERR_UNKNOWN_FILE_EXTENSION' && /\.[cm]?ts$/.test(file)) {
      throw new UsageError(
        `hookchain serve: this Node (${process.version}) cannot load TypeScript: build ${modulePath} to JavaScript, or run Node >= 22.18 (or \`node --experimental-strip-types\`)`,
      );
    }
    throw new Error(`hookchain serve: loading ${modulePath} failed`, { cause: error });
  }
  const defaults = (typeof exports['default'] === 'object' && exports['default'] !== null ? exports['default'] : {}) as Record<
    string,
    unknown
  >;
  const server = exports['server'] ?? defaults['server'];
  const agents = exports['agents'] ?? defaults['agents'];
  if (server !== undefined) {
    if (!isServer(server)) {
      throw new UsageError(
        `hookchain serve: ${modulePath} exports \`server\`, but it is not an AgentServer: export \`new AgentServer({ agents })\``,
      );
    }
    return { server, agentIds: undefined };
  }
  if (agents === undefined) {
    const found = Object.keys(exports).filter((k) => k !== 'default');
    throw new UsageError(
      `hookchain serve: ${modulePath} exports neither \`agents\` nor \`server\` (it exports ${found.length > 0 ? found.join(', ') : 'nothing'}): add \`export const agents = [agent]\` or \`export const server = new AgentServer({ agents })\``,
    );
  }
  if (!Array.isArray(agents) || agents.length === 0) {
    throw new UsageError(
      `hookchain serve: \`agents\` in ${modulePath} must be a non-empty array of Agent, e.g. \`export const agents = [agent]\``,
    );
  }
  // The server validates the agents (and says which one is wrong).
  const built = new AgentServer({ agents, installSignalHandlers: false, console: withConsole });
  return { server: built, agentIds: agents.map((a: { id?: unknown }) => String(a.id)) };
}

/** One line per request, written when the response has ended (streams included), so status and ms are final. */
function requestLogger(write: (line: string) => void): Koa.Middleware {
  return async (ctx: Koa.Context, next: Koa.Next) => {
    const started = performance.now();
    const res = ctx.res;
    res.once('close', () => {
      const ms = (performance.now() - started).toFixed(1);
      const runId = res.getHeader('x-run-id');
      const aborted = res.writableFinished ? '' : ' (client closed)';
      write(`${ctx.method} ${ctx.path} ${res.statusCode} ${ms}ms${runId === undefined ? '' : ` run=${String(runId)}`}${aborted}`);
    });
    await next();
  };
}

function tryLines(url: string, agentIds: string[]): string {
  const id = agentIds[0]!;
  const json = (value: unknown) => `'${JSON.stringify(value)}'`;
  const chat = { model: id, messages: [{ role: 'user', content: 'Where is order 1001?' }] };
  return [
    'try:',
    `  curl -s ${url}/agents`,
    `  curl -s ${url}/agents/${id}/runs -H 'content-type: application/json' -d ${json({ input: 'Where is order 1001?', sessionId: 's1' })}`,
    `  curl -sN ${url}/agents/${id}/runs -H 'content-type: application/json' -d ${json({ input: 'Hello!', stream: true })}`,
    `  curl -s ${url}/v1/chat/completions -H 'content-type: application/json' -d ${json(chat)}`,
    `  OPENAI_BASE_URL=${url}/v1 OPENAI_API_KEY=none openai api chat.completions.create -m ${id} -g user "Where is order 1001?"`,
    `  node --input-type=module -e "import OpenAI from 'openai'; const c = new OpenAI({ baseURL: '${url}/v1', apiKey: 'none' }); ` +
      `const r = await c.chat.completions.create({ model: '${id}', messages: [{ role: 'user', content: 'Where is order 1001?' }] }); console.log(r.choices[0].message.content)"`,
  ].join('\n');
}

function version(): string {
  // lib/server/cli.ts and dist/server/cli.js are both two levels below package.json.
  const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8')) as { version: string };
  return pkg.version;
}

/**
 * Runs `hookchain` with `argv` (without `node` and the script). Resolves once the server listens; the process then
 * lives until a signal closes the server. Exported for the specs; the `bin` calls it.
 */
export async function main(argv: string[]): Promise<void> {
  let args;
  try {
    args = parse(argv);
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (args === 'help') {
    console.log(USAGE);
    return;
  }
  if (args === 'version') {
    console.log(version());
    return;
  }

  let loaded;
  try {
    loaded = await load(args.module, args.console);
  } catch (error) {
    if (error instanceof HookchainConfigError) {
      console.error(error.message);
      process.exitCode = 2;
    } else {
      console.error(error);
      process.exitCode = 1;
    }
    return;
  }
  const { server, agentIds } = loaded;
  // Outermost, so it sees every request, including those the server's own middleware refuses.
  server.app.middleware.unshift(requestLogger((line) => console.log(line)));

  let url: string;
  try {
    ({ url } = await server.listen({ port: args.port, host: args.host }));
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'EADDRINUSE') {
      console.error(`hookchain serve: port ${args.port} on ${args.host} is in use: pick another with --port (0 picks a free one)`);
    } else if (error instanceof HookchainConfigError) {
      console.error(error.message);
      process.exitCode = 2;
      return;
    } else {
      console.error('hookchain serve: the server could not start:', error);
    }
    process.exitCode = 1;
    return;
  }
  console.log(`hookchain serve: listening on ${url}${agentIds === undefined ? '' : ` (agents: ${agentIds.join(', ')})`}`);
  if (server.consolePath !== undefined) {
    const hint = agentIds === undefined ? ` (with apiKeys, open it once as ${url}${server.consolePath}?key=<key>)` : '';
    console.log(`run console: ${url}${server.consolePath}${hint}`);
  }
  if (agentIds !== undefined) console.log(tryLines(url, agentIds));
  console.log('Ctrl-C (SIGINT) or SIGTERM stops it gracefully.');

  let closing = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (closing) {
      console.error(`hookchain serve: ${signal} again, exiting without waiting`);
      process.exit(1);
    }
    closing = true;
    console.log(
      `hookchain serve: ${signal}: closing (in-flight runs finish, background hooks drain; at most ${args.shutdownTimeoutMs} ms)`,
    );
    server.close({ timeoutMs: args.shutdownTimeoutMs }).then(
      () => {
        console.log('hookchain serve: closed');
        process.exit(0);
      },
      (error: unknown) => {
        console.error('hookchain serve: closing failed:', error);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

function isEntry(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntry()) await main(process.argv.slice(2));
