/**
 * Every ```ts block in README.md and docs/ is type-checked against the real public API (Agno's docs kept listing hook arguments that no longer existed). Blocks are fragments, so the names they assume
 * (`model`, `agent`, a `logger`…) are declared once in a shared prelude; everything from 'hookchain' is real.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const PRELUDE = `
import type { Agent, Model, PreHookArgs, PostHookArgs, RunOutput } from 'hookchain';
import type OpenAI from 'openai';
declare global {
  const model: Model;
  const agent: Agent;
  const out: RunOutput;
  const myConfiguredOpenAIClient: OpenAI;
  const validateLength: (args: PreHookArgs) => void;
  const checkTone: (args: PostHookArgs) => void;
  const logAnalytics: (args: PostHookArgs) => Promise<void>;
  const log: { info(...a: unknown[]): void; write(o: unknown): Promise<void> };
  const metrics: { increment(name: string): void };
  const res: { write(chunk: string): void };
  const myGuard: (args: PreHookArgs) => void;
  interface AuditLog { write(o: unknown): Promise<void> }
  const auditLog: AuditLog;
  const analyticsSink: { write(text?: string): Promise<void> };
  const preHooks: import('hookchain').PreHook[];
  const postHooks: import('hookchain').PostHook[];
  const http: typeof import('node:http');
  interface Database { query(sql: string): Promise<unknown> }
  const expect: (v: unknown) => { toBe(x: unknown): void };
  const apiKey: string;
  const baseURL: string;
  const maxRetries: number;
  const handler: import('node:http').RequestListener;
}
export {};
`;

/** The names exported by the package's two entry points. */
function publicNames(): Map<string, string[]> {
  const entries = { hookchain: 'lib/index.ts', 'hookchain/testing': 'lib/testing/index.ts' };
  const program = ts.createProgram(Object.values(entries).map((f) => join(root, f)), { allowImportingTsExtensions: true, noEmit: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext });
  const checker = program.getTypeChecker();
  const out = new Map<string, string[]>();
  for (const [entry, file] of Object.entries(entries)) {
    const symbol = checker.getSymbolAtLocation(program.getSourceFile(join(root, file))!)!;
    out.set(entry, checker.getExportsOfModule(symbol).map((e) => e.getName()));
  }
  return out;
}

interface Block {
  file: string;
  line: number;
  code: string;
}

function blocks(): Block[] {
  const files = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  const found: Block[] = [];
  for (const file of files) {
    const lines = readFileSync(join(root, file), 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (!/^```(ts|typescript)\s*$/.test(lines[i]!)) continue;
      const start = i + 1;
      while (i + 1 < lines.length && !lines[i + 1]!.startsWith('```')) i++;
      found.push({ file, line: start + 1, code: lines.slice(start, i + 1).join('\n') });
      i++;
    }
  }
  return found;
}

function typecheck(all: Block[]): Map<Block, string[]> {
  const virtual = new Map<string, string>();
  virtual.set(join(root, 'spec/.docs/prelude.ts'), PRELUDE);
  const exported = publicNames();
  const names = all.map((b, i) => {
    const name = join(root, `spec/.docs/block${i}.ts`);
    // Docs leave out their imports; add those of the package's public names a block uses and does not import.
    const imports = [...exported]
      .map(([entry, list]) => {
        const used = list.filter(
          (n) =>
            new RegExp(`\\b${n}\\b`).test(b.code) &&
            !new RegExp(`import[^;]*\\b${n}\\b[^;]*from`).test(b.code) &&
            !new RegExp(`(interface|class|type|function|const|let) ${n}\\b`).test(b.code), // declared by the example itself
        );
        return used.length > 0 ? `import { ${used.join(', ')} } from '${entry}';` : '';
      })
      .join(' ');
    // Each block is its own module (top-level await allowed), as a user's file would be; the imports share its
    // first line so reported line numbers stay those of the doc.
    virtual.set(name, `${imports} ${b.code}\nexport {};\n`);
    return name;
  });
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2023,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    customConditions: ['hookchain-source'],
    allowImportingTsExtensions: true,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: ['node'],
    noUnusedLocals: false,
  };
  const host = ts.createCompilerHost(options);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.readFile = (f) => virtual.get(f) ?? readFile(f);
  host.fileExists = (f) => virtual.has(f) || fileExists(f);
  const program = ts.createProgram([join(root, 'spec/.docs/prelude.ts'), ...names], options, host);
  const result = new Map<Block, string[]>();
  names.forEach((name, i) => {
    const diagnostics = [...program.getSyntacticDiagnostics(program.getSourceFile(name)), ...program.getSemanticDiagnostics(program.getSourceFile(name))];
    result.set(
      all[i]!,
      diagnostics.map((d) => {
        const where = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : 0;
        return `line ${all[i]!.line + where}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
      }),
    );
  });
  return result;
}

describe('documentation examples', () => {
  const all = blocks();
  it('finds the TypeScript examples of README.md and docs/', () => {
    expect(all.length).toBeGreaterThanOrEqual(20);
  });

  it('type-checks every example against the public API', () => {
    const problems = [...typecheck(all)].filter(([, errors]) => errors.length > 0).map(([b, errors]) => `${b.file}:\n  ${errors.join('\n  ')}`);
    expect(problems).toEqual([]);
  }, 60_000);
});
