/**
 * The published package, as a user gets it: `npm pack` from a clean copy of the repository (no dist/, so the
 * prepack build must make it), installed with its peer `openai` into a scratch project, then loaded from ESM and
 * from CJS and type-checked under `moduleResolution: node10` and `nodenext`.
 *
 * node10 ignores `exports`, so `typesVersions` maps the subpaths: `"*": ["dist/*\/index.d.ts"]` sends
 * `hookchain/testing` (and any later `hookchain/<name>`) to `dist/<name>/index.d.ts`. The root needs its own entry
 * `"dist/index.d.ts": ["dist/index.d.ts"]`: TypeScript passes the `types` path through the same mapping, and the
 * `"*"` pattern alone would turn it into `dist/dist/index.d.ts/index.d.ts`.
 */
import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const repo = fileURLToPath(new URL('../../', import.meta.url));
const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string; devDependencies: Record<string, string> };

// Child npm/node processes get this Node first on PATH and none of the npm_* variables of an enclosing `npm test`.
const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
env['PATH'] = `${dirname(process.execPath)}${delimiter}${process.env['PATH'] ?? ''}`;

const run = async (file: string, args: string[], cwd: string) => {
  try {
    return await exec(file, args, { cwd, env, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const e = error as Error & { stdout?: string; stderr?: string };
    throw new Error(`${file} ${args.join(' ')} failed in ${cwd}:\n${e.stdout ?? ''}\n${e.stderr ?? ''}`, { cause: error });
  }
};
const node = (args: string[], cwd: string) => run(process.execPath, args, cwd);
const npm = (args: string[], cwd: string) =>
  run(process.platform === 'win32' ? 'npm.cmd' : 'npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], cwd);

let scratch: string;
let project: string;
let packed: { filename: string; files: { path: string }[] };

beforeAll(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'hookchain-pack-'));
  // A clean checkout: the files git knows (committed or not yet), without dist/ or any other build output.
  const source = join(scratch, 'source');
  const { stdout } = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], repo);
  for (const file of stdout.split('\0')) {
    if (file === '' || !existsSync(join(repo, file))) continue;
    mkdirSync(dirname(join(source, file)), { recursive: true });
    cpSync(join(repo, file), join(source, file));
  }
  symlinkSync(join(repo, 'node_modules'), join(source, 'node_modules'), 'dir'); // the build needs typescript
  const out = await npm(['pack', '--json', '--pack-destination', scratch], source);
  packed = (JSON.parse(out.stdout.slice(out.stdout.indexOf('['))) as (typeof packed)[])[0]!;

  project = join(scratch, 'project');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'pack-check', private: true, type: 'module' }));
  await npm(['install', '--prefer-offline', join(scratch, packed.filename), `openai@${pkg.devDependencies['openai']}`], project);
}, 120_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('ships the prepack build, its types and the LICENSE, and no specs', () => {
    const files = packed.files.map((f) => f.path);
    expect(files).toEqual(
      expect.arrayContaining([
        'LICENSE',
        'package.json',
        'dist/index.js',
        'dist/index.d.ts',
        'dist/testing/index.js',
        'dist/testing/index.d.ts',
        'dist/ai-sdk/index.js',
        'dist/ai-sdk/index.d.ts',
        'dist/server/index.js',
        'dist/server/index.d.ts',
        'dist/server/cli.js',
        'dist/guardrails/injection/model/weights.bin',
        'dist/postgres/index.js',
        'dist/postgres/index.d.ts',
        'dist/bullmq/index.js',
        'dist/bullmq/index.d.ts',
      ]),
    );
    expect(files.filter((f) => f.startsWith('spec/') || f.startsWith('bench/'))).toEqual([]);
    const license = readFileSync(join(project, 'node_modules', 'hookchain', 'LICENSE'), 'utf8');
    expect(license).toMatch(/^MIT License\n\nCopyright \(c\) 2026 hookchain contributors\n/);
  });

  it('imports from ESM: the root exposes Agent, hookchain/testing loads, hookchain/ai-sdk loads without ai and hookchain/postgres without pg installed', async () => {
    writeFileSync(
      join(project, 'esm.mjs'),
      `const root = await import('hookchain');
       const testing = await import('hookchain/testing');
       const aiSdk = await import('hookchain/ai-sdk');
       const { AgentServer } = await import('hookchain/server');
       const postgres = await import('hookchain/postgres');
       const agent = new root.Agent({ model: new testing.OfflineModel({ reply: 'packed' }) });
       const out = await agent.run('hi');
       const server = new AgentServer({ agents: [agent] });
       const { url } = await server.listen({ port: 0 });
       const served = await (await fetch(url + '/agents/agent/runs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"input":"hi"}' })).json();
       await server.close();
       console.log(JSON.stringify({ Agent: typeof root.Agent, OpenAIChat: typeof root.OpenAIChat, startFakeOpenAI: typeof testing.startFakeOpenAI, AISdkModel: typeof aiSdk.AISdkModel, PostgresSessionStore: typeof postgres.PostgresSessionStore, content: out.content, served: served.content }));`,
    );
    const { stdout } = await node(['esm.mjs'], project);
    expect(JSON.parse(stdout)).toEqual({
      Agent: 'function',
      OpenAIChat: 'function',
      startFakeOpenAI: 'function',
      AISdkModel: 'function',
      PostgresSessionStore: 'function',
      content: 'packed',
      served: 'packed',
    });
  });

  it('scores with the injection classifier from the installed dist (its weights.bin is copied there by the build)', async () => {
    writeFileSync(
      join(project, 'classifier.mjs'),
      `const { PromptInjectionGuardrail } = await import('hookchain');
       const guard = new PromptInjectionGuardrail();
       await guard.check({ phase: 'pre', runInput: { inputContent: 'What is the capital of France?' } });
       console.log(JSON.stringify({ score: guard.score('What is the capital of France?') < 0.5 }));`,
    );
    const { stdout } = await node(['classifier.mjs'], project);
    expect(JSON.parse(stdout)).toEqual({ score: true });
  });

  it('loads bullmq only through hookchain/bullmq: without it installed the root works and the subpath names it', async () => {
    writeFileSync(
      join(project, 'bullmq.mjs'),
      `await import('hookchain');
       const error = await import('hookchain/bullmq').then(() => undefined, (e) => e);
       console.log(JSON.stringify({ code: error?.code, names: /'bullmq'/.test(String(error?.message)) }));`,
    );
    const { stdout } = await node(['bullmq.mjs'], project);
    expect(JSON.parse(stdout)).toEqual({ code: 'ERR_MODULE_NOT_FOUND', names: true });
  });

  it('requires from CommonJS (Node 22 loads the ESM build through require)', async () => {
    writeFileSync(
      join(project, 'cjs.cjs'),
      `const root = require('hookchain');
       const testing = require('hookchain/testing');
       console.log(JSON.stringify({ Agent: typeof root.Agent, OfflineModel: typeof testing.OfflineModel, same: root.Agent === require('hookchain').Agent }));`,
    );
    const { stdout, stderr } = await node(['cjs.cjs'], project);
    expect(JSON.parse(stdout)).toEqual({ Agent: 'function', OfflineModel: 'function', same: true });
    expect(stderr).toBe('');
  });

  it('installs the `hookchain` bin: `hookchain serve` starts from the packed build, answers, and exits 0 on SIGTERM', async () => {
    writeFileSync(
      join(project, 'agents.mjs'),
      `import { Agent } from 'hookchain';
       import { OfflineModel } from 'hookchain/testing';
       export const agents = [new Agent({ name: 'packed', model: new OfflineModel({ reply: 'from the bin' }) })];`,
    );
    const bin = join(project, 'node_modules', '.bin', process.platform === 'win32' ? 'hookchain.cmd' : 'hookchain');
    const child = spawn(bin, ['serve', 'agents.mjs', '--port', '0'], { cwd: project, env });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          stdout += d.toString();
          const m = /listening on (http:\/\/\S+)/.exec(stdout);
          if (m) resolve(m[1]!);
        });
        void exited.then((code) => reject(new Error(`hookchain serve exited ${code}:\n${stdout}\n${stderr}`)));
      });
      const response = await fetch(`${url}/agents/packed/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ input: 'hi' }),
      });
      expect(await response.json()).toMatchObject({ status: 'completed', content: 'from the bin' });
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(stdout).toMatch(/POST \/agents\/packed\/runs 200 /);
    } finally {
      child.kill('SIGKILL');
    }
  }, 30_000);

  describe('types', () => {
    beforeAll(() => {
      writeFileSync(
        join(project, 'use.ts'),
        `import { Agent, OpenAIChat, type RunOutput } from 'hookchain';
import { OfflineModel, startFakeOpenAI } from 'hookchain/testing';
import { AISdkModel, type AISdkLanguageModel } from 'hookchain/ai-sdk';
import { AgentServer } from 'hookchain/server';
import { PostgresSessionStore, type PostgresPool } from 'hookchain/postgres';

const agent = new Agent({ model: new OfflineModel({ reply: 'hi' }) });
export const output: Promise<RunOutput> = agent.run('x');
export const chat = (baseURL: string) => new OpenAIChat({ id: 'm', baseURL, temperature: 0.2 });
export const server: Promise<{ baseURL: string }> = startFakeOpenAI();
// hookchain/ai-sdk declares the AI SDK shapes it needs itself: its types resolve without ai installed.
export const wrap = (model: AISdkLanguageModel) => new Agent({ model: new AISdkModel(model, { temperature: 0 }) });
// hookchain/postgres declares the pg pool shape it needs itself: its types resolve without pg or @types/pg.
export const sessions = (pool: PostgresPool) => new Agent({ model: new OfflineModel(), sessionStore: new PostgresSessionStore({ pool }) });
// These are errors only when the real types were found: with \`any\`, the directives would be unused, and fail.
export const served = new AgentServer({ agents: [agent], bodyLimit: '1mb' }).app;
// @ts-expect-error busySession is 'queue' or 'reject'
new AgentServer({ agents: [agent], busySession: 'wait' });
// @ts-expect-error chunkSize is a number
new OfflineModel({ chunkSize: 'big' });
// @ts-expect-error id is required
new OpenAIChat({});
// @ts-expect-error maxOutputTokens is a number
new AISdkModel({} as AISdkLanguageModel, { maxOutputTokens: 'many' });
// @ts-expect-error schema is a string
new PostgresSessionStore({ connectionString: 'postgres://x', schema: 1 });
`,
      );
      writeFileSync(
        join(project, 'use-cjs.cts'),
        `import hookchain = require('hookchain');
import testing = require('hookchain/testing');
export const agent: hookchain.Agent = new hookchain.Agent({ model: new testing.OfflineModel() });
// @ts-expect-error reply is a string or a function
new testing.OfflineModel({ reply: 1 });
`,
      );
      const common = { target: 'es2022', lib: ['es2023', 'dom'], types: [], strict: true, skipLibCheck: true, noEmit: true };
      writeFileSync(
        join(project, 'tsconfig.node10.json'),
        // TypeScript 6 deprecates node10; projects that still use it silence the warning the same way.
        JSON.stringify({
          compilerOptions: { ...common, module: 'commonjs', moduleResolution: 'node10', ignoreDeprecations: '6.0' },
          files: ['use.ts'],
        }),
      );
      writeFileSync(
        join(project, 'tsconfig.nodenext.json'),
        JSON.stringify({
          compilerOptions: { ...common, module: 'nodenext', moduleResolution: 'nodenext' },
          files: ['use.ts', 'use-cjs.cts'],
        }),
      );
    });

    it('type-checks hookchain, hookchain/testing, hookchain/ai-sdk, hookchain/server and hookchain/postgres under moduleResolution node10 (through typesVersions)', async () => {
      const { stdout } = await node([tsc, '-p', 'tsconfig.node10.json', '--traceResolution'], project);
      expect(stdout).toContain(
        "Module name 'hookchain' was successfully resolved to '" + join(project, 'node_modules/hookchain/dist/index.d.ts'),
      );
      expect(stdout).toContain(
        "Module name 'hookchain/testing' was successfully resolved to '" + join(project, 'node_modules/hookchain/dist/testing/index.d.ts'),
      );
      expect(stdout).toContain(
        "Module name 'hookchain/ai-sdk' was successfully resolved to '" + join(project, 'node_modules/hookchain/dist/ai-sdk/index.d.ts'),
      );
      expect(stdout).toContain(
        "Module name 'hookchain/server' was successfully resolved to '" + join(project, 'node_modules/hookchain/dist/server/index.d.ts'),
      );
      expect(stdout).toContain(
        "Module name 'hookchain/postgres' was successfully resolved to '" +
          join(project, 'node_modules/hookchain/dist/postgres/index.d.ts'),
      );
    });

    it('type-checks under moduleResolution nodenext, from ESM and from a .cts file', async () => {
      await node([tsc, '-p', 'tsconfig.nodenext.json'], project);
    }, 60_000);
  });
});
