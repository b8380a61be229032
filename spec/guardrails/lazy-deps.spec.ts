/**
 * libphonenumber-js and openai are loaded when a guardrail first needs them, not when hookchain is imported. A child
 * Node process records every module it loads (module.registerHooks sees both import and require).
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url);

function loadedIn(entry: string): { imported: string[]; afterPhones: string[]; afterModeration: string[] } {
  const script = `
    import { registerHooks } from 'node:module';
    const loaded = new Set();
    registerHooks({
      load(url, context, next) {
        const dep = /[\\\\/]node_modules[\\\\/](libphonenumber-js|openai)[\\\\/]/.exec(url);
        if (dep) loaded.add(dep[1]);
        return next(url, context);
      },
    });
    const g = await import(${JSON.stringify(new URL(entry, root).href)});
    const imported = [...loaded];
    new g.PIIDetectionGuardrail().scan('call 555-123-4567 or mail jo@ex.com');
    new g.PIIDetectionGuardrail().scan('call +44 20 7946 0958');
    const afterPhones = [...loaded];
    const moderation = new g.OpenAIModerationGuardrail({ apiKey: 'k', baseURL: 'http://127.0.0.1:9/v1', maxRetries: 0 });
    await moderation.check({ phase: 'pre', runInput: { inputContent: 'hello' } }).catch(() => {});
    console.log(JSON.stringify({ imported, afterPhones, afterModeration: [...loaded] }));
  `;
  const out = execFileSync(
    process.execPath,
    ['--conditions=hookchain-source', '--disable-warning=ExperimentalWarning', '--input-type=module', '-e', script],
    {
      cwd: root,
      encoding: 'utf8',
    },
  );
  return JSON.parse(out.trim().split('\n').at(-1)!) as { imported: string[]; afterPhones: string[]; afterModeration: string[] };
}

describe('optional dependencies load on first use', () => {
  it('lib/guardrails: neither at import; libphonenumber-js at the first international number; openai at the first moderation request', () => {
    const { imported, afterPhones, afterModeration } = loadedIn('lib/guardrails/index.ts');
    expect(imported).toEqual([]);
    expect(afterPhones).toEqual(['libphonenumber-js']);
    expect(afterModeration.sort()).toEqual(['libphonenumber-js', 'openai']);
  });

  it('the package root does not load libphonenumber-js at import', () => {
    expect(loadedIn('lib/index.ts').imported).not.toContain('libphonenumber-js');
  });
});
