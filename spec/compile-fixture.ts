/** Compiles a fixture that uses TS 5 standard decorators with the real TypeScript compiler and imports it. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const here = dirname(fileURLToPath(import.meta.url));

export async function importCompiled<T>(fixture: string): Promise<T> {
  const source = readFileSync(join(here, 'fixtures', fixture), 'utf8');
  const { outputText, diagnostics } = ts.transpileModule(source, {
    fileName: fixture,
    reportDiagnostics: true,
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, verbatimModuleSyntax: true },
  });
  if (diagnostics?.length) throw new Error(ts.flattenDiagnosticMessageText(diagnostics[0]!.messageText, '\n'));
  const outDir = join(here, '.compiled');
  mkdirSync(outDir, { recursive: true });
  const out = join(outDir, basename(fixture).replace(/\.ts$/, '.mjs'));
  writeFileSync(out, outputText);
  return (await import(out)) as T;
}
