import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['hookchain-source'] },
  ssr: { resolve: { conditions: ['hookchain-source'] } },
  test: {
    include: ['spec/**/*.spec.ts'],
    // Type tests (spec/types/*.test-d.ts) prove the typed-context rules with tsc, as part of `npm test`.
    typecheck: { enabled: true, include: ['spec/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
    testTimeout: 20_000,
    pool: 'forks',
    // node:sqlite (the SQLite session store) announces itself as experimental once per worker.
    execArgv: ['--disable-warning=ExperimentalWarning'],
  },
});
