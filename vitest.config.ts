import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['hookchain-source'] },
  ssr: { resolve: { conditions: ['hookchain-source'] } },
  test: {
    include: ['spec/**/*.spec.ts'],
    testTimeout: 20_000,
    pool: 'forks',
    // node:sqlite (the SQLite session store) announces itself as experimental once per worker.
    execArgv: ['--disable-warning=ExperimentalWarning'],
  },
});
