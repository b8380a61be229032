/**
 * Every ```ts block in README.md and docs/ is a complete program that a reader can copy into a file and run
 * (Agno's docs kept listing hook arguments that no longer existed). So each block is
 *  1. checked to import only names that 'hookchain' (or the subpath it names) really exports;
 *  2. type-checked as its own module, with the project's compiler options and no hidden declarations;
 *  3. run with Node, as `node --conditions=hookchain-source file.ts` from the repository root, and must exit 0.
 * Blocks run offline: the network is refused beyond 127.0.0.1 (spec/docs/offline.ts), and OPENAI_* variables are
 * removed from their environment.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Under spec/.compiled/, which git and ESLint already ignore; removed after the run (tsc includes spec/). */
const runDir = join(root, 'spec/.compiled/docs-run');
const OFFLINE = join(root, 'spec/docs/offline.ts');
const BLOCK_TIMEOUT_MS = 20_000;

/** The package's entry points, as package.json `exports` names them. */
const ENTRIES: Record<string, string> = {
  hookchain: 'lib/index.ts',
  'hookchain/guardrails': 'lib/guardrails/index.ts',
  'hookchain/sessions': 'lib/sessions/index.ts',
  'hookchain/background': 'lib/background/index.ts',
  'hookchain/testing': 'lib/testing/index.ts',
  'hookchain/ai-sdk': 'lib/ai-sdk/index.ts',
  'hookchain/server': 'lib/server/index.ts',
  'hookchain/postgres': 'lib/postgres/index.ts',
  'hookchain/bullmq': 'lib/bullmq/index.ts',
};

interface Block {
  file: string;
  /** Line of the block's first code line in its file (1-based). */
  line: number;
  code: string;
}

const where = (b: Block) => `${b.file}:${b.line}`;

function extractBlocks(file: string, text: string): Block[] {
  const lines = text.split('\n');
  const found: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = /^(\s*)```(\w*)\s*$/.exec(lines[i]!);
    if (!fence) continue;
    const start = i + 1;
    i++;
    while (i < lines.length && !/^\s*```\s*$/.test(lines[i]!)) i++;
    if (fence[2] === 'ts' || fence[2] === 'typescript')
      found.push({ file, line: start + 1, code: lines.slice(start, i).join('\n') + '\n' });
  }
  return found;
}

function blocks(): Block[] {
  const files = [
    'README.md',
    ...readdirSync(join(root, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .sort()
      .map((f) => `docs/${f}`),
  ];
  return files.flatMap((file) => extractBlocks(file, readFileSync(join(root, file), 'utf8')));
}

function compilerOptions(): ts.CompilerOptions {
  const configPath = join(root, 'tsconfig.json');
  const parsed = ts.parseJsonConfigFileContent(ts.readConfigFile(configPath, ts.sys.readFile).config, ts.sys, root);
  return { ...parsed.options, noEmit: true, noUnusedLocals: false, noUnusedParameters: false };
}

/** The names each entry point exports (values and types), read from a program that holds the entry points. */
function publicNames(program: ts.Program): Map<string, Set<string>> {
  const checker = program.getTypeChecker();
  const out = new Map<string, Set<string>>();
  for (const [entry, file] of Object.entries(ENTRIES)) {
    const symbol = checker.getSymbolAtLocation(program.getSourceFile(join(root, file))!)!;
    out.set(entry, new Set(checker.getExportsOfModule(symbol).map((e) => e.getName())));
  }
  return out;
}

/** Names a block imports from 'hookchain…' that the entry point does not export (or entry points that do not exist). */
function unknownImports(code: string, exported: Map<string, Set<string>>): string[] {
  const source = ts.createSourceFile('block.ts', code, ts.ScriptTarget.Latest, true);
  const problems: string[] = [];
  for (const statement of source.statements) {
    if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
    const from = statement.moduleSpecifier.text;
    if (from !== 'hookchain' && !from.startsWith('hookchain/')) continue;
    const names = exported.get(from);
    if (names === undefined) {
      problems.push(`'${from}' is not an entry point of the package (${Object.keys(ENTRIES).join(', ')})`);
      continue;
    }
    const bindings = statement.importClause?.namedBindings;
    if (bindings && ts.isNamedImports(bindings)) {
      for (const spec of bindings.elements) {
        const name = (spec.propertyName ?? spec.name).text;
        if (!names.has(name)) problems.push(`${name} is not exported by '${from}'`);
      }
    }
  }
  return problems;
}

/**
 * Type-checks blocks, each as its own module. Blocks that augment a module (`declare module 'hookchain'`) get a
 * program of their own, so their declarations cannot leak into the other blocks. The first program also holds the
 * package's entry points, whose exports it returns.
 */
function analyse(all: Block[]): { errors: Map<Block, string[]>; exported: Map<string, Set<string>> } {
  const options = compilerOptions();
  const result = new Map<Block, string[]>();
  let exported: Map<string, Set<string>> | undefined;
  const shared = all.filter((b) => !/^\s*declare module /m.test(b.code));
  const alone = all.filter((b) => !shared.includes(b));
  for (const group of [shared, ...alone.map((b) => [b])]) {
    const virtual = new Map<string, string>();
    const names = group.map((b, i) => {
      const name = join(root, `spec/.docs-virtual/${b.file.replace(/\W/g, '_')}_${b.line}_${i}.ts`);
      virtual.set(name, b.code);
      return name;
    });
    const host = ts.createCompilerHost(options);
    const readFile = host.readFile.bind(host);
    const fileExists = host.fileExists.bind(host);
    host.readFile = (f) => virtual.get(f) ?? readFile(f);
    host.fileExists = (f) => virtual.has(f) || fileExists(f);
    const program = ts.createProgram(
      exported === undefined ? [...Object.values(ENTRIES).map((f) => join(root, f)), ...names] : names,
      options,
      host,
    );
    exported ??= publicNames(program);
    names.forEach((name, i) => {
      const file = program.getSourceFile(name)!;
      const diagnostics = [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)];
      result.set(
        group[i]!,
        diagnostics.map((d) => {
          const at = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : 0;
          return `line ${group[i]!.line + at}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
        }),
      );
    });
  }
  return { errors: result, exported: exported! };
}

interface RunResult {
  code: number | null;
  output: string;
  timedOut: boolean;
}

/**
 * Writes a block to a file under spec/.compiled/docs-run/ and runs it with Node from the repository root, so
 * 'hookchain' resolves to this package. Node strips erasable TypeScript only; a block with decorators (which
 * Node cannot run yet) is compiled with TypeScript first, as the reader's build would.
 */
function runBlock(name: string, code: string, timeoutMs = BLOCK_TIMEOUT_MS): Promise<RunResult> {
  mkdirSync(runDir, { recursive: true });
  let file = join(runDir, `${name}.ts`);
  if (/^\s*@\w+/m.test(code)) {
    const { outputText } = ts.transpileModule(code, {
      fileName: file,
      compilerOptions: { target: ts.ScriptTarget.ES2023, module: ts.ModuleKind.ESNext, verbatimModuleSyntax: true },
    });
    file = join(runDir, `${name}.mjs`);
    code = outputText;
  }
  writeFileSync(file, code);
  // Node's compile cache keeps the stripped sources of lib/ between runs (about half of each run's start-up).
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_COMPILE_CACHE: join(root, 'spec/.compiled/node-cache') };
  for (const key of Object.keys(env)) if (key.startsWith('OPENAI_')) delete env[key];
  delete env['NODE_OPTIONS'];
  return new Promise((resolveRun) => {
    const child = spawn(
      process.execPath,
      ['--conditions=hookchain-source', '--disable-warning=ExperimentalWarning', `--import=${OFFLINE}`, relative(root, file)],
      { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolveRun({ code, output, timedOut });
    });
  });
}

/** Runs `work` over `items` with at most `limit` at once, keeping the results in order. */
async function pool<T, R>(items: T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

describe('documentation examples', () => {
  const all = blocks();
  let analysis: ReturnType<typeof analyse> | undefined;
  const analysed = () => (analysis ??= analyse(all));
  afterAll(() => rmSync(runDir, { recursive: true, force: true }));

  it('finds the TypeScript examples of README.md and docs/', () => {
    expect(all.length).toBeGreaterThanOrEqual(25);
    expect(all.filter((b) => b.file === 'README.md').length).toBeGreaterThanOrEqual(1);
    expect(new Set(all.map((b) => b.file)).size).toBeGreaterThanOrEqual(8);
  });

  it('imports only names that the package and its subpaths export', () => {
    const { exported } = analysed();
    const problems = all.flatMap((b) => unknownImports(b.code, exported).map((p) => `${where(b)}: ${p}`));
    expect(problems).toEqual([]);
    // The check itself: a name that does not exist, and one that lives on another entry point, are both caught.
    expect(unknownImports(`import { Agent, NoSuchThing } from 'hookchain';`, exported)).toEqual([
      `NoSuchThing is not exported by 'hookchain'`,
    ]);
    expect(unknownImports(`import { normalizeForInjection } from 'hookchain';`, exported)).toHaveLength(1);
    expect(unknownImports(`import { normalizeForInjection } from 'hookchain/guardrails';`, exported)).toEqual([]);
  }, 60_000);

  it('imports what each example uses: every example type-checks on its own, with no hidden declarations', () => {
    const problems = [...analysed().errors]
      .filter(([, errors]) => errors.length > 0)
      .map(([b, errors]) => `${where(b)}:\n  ${errors.join('\n  ')}`);
    expect(problems).toEqual([]);
  }, 60_000);

  it('runs every example to completion (exit code 0), offline', async () => {
    const limit = Math.min(4, availableParallelism() + 1);
    const results = await pool(all, limit, (b, i) =>
      runBlock(`${String(i).padStart(2, '0')}-${b.file.replace(/\W/g, '_')}-${b.line}`, b.code),
    );
    const failures = results
      .map((r, i) => ({ r, b: all[i]! }))
      .filter(({ r }) => r.code !== 0)
      .map(
        ({ r, b }) =>
          `${where(b)}: ${r.timedOut ? `still running after ${BLOCK_TIMEOUT_MS} ms` : `exit code ${r.code}`}\n${r.output.trim().split('\n').slice(-12).join('\n')}`,
      );
    expect(failures).toEqual([]);
  }, 300_000); // ~70 examples, some starting servers; a slow shared machine needs the room

  it('would notice a failing example, a hanging one and one that reaches the network', async () => {
    const thrown = await runBlock('selftest-throws', `throw new Error('broken example');\n`);
    expect(thrown.code).not.toBe(0);
    expect(thrown.output).toContain('broken example');
    const hangs = await runBlock('selftest-hangs', `setInterval(() => {}, 1000);\n`, 1_500);
    expect(hangs.timedOut).toBe(true);
    const online = await runBlock('selftest-online', `await fetch('http://example.com/');\n`);
    expect(online.code).not.toBe(0);
    expect(online.output).toContain('offline');
  }, 30_000);
});
