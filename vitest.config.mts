import { defineConfig } from 'vitest/config';

// Unit tests: pure stages, table-driven, no Docker engine.
export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'scripts/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
  },
});
