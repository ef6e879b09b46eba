import { defineConfig } from 'vitest/config';

// End-to-end tests: real nx processes in temporary git workspaces, and (for the
// docker suites) a real Docker Engine, registry and QEMU. Files run one at a
// time: the machines have 2 cores and the docker suites share one engine.
export default defineConfig({
  test: {
    include: ['e2e/**/*.test.ts'],
    environment: 'node',
    testTimeout: 600_000,
    hookTimeout: 900_000,
    fileParallelism: false,
    globalSetup: ['e2e/support/global-setup.ts'],
    reporters: ['verbose'],
  },
});
