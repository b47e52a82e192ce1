import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  resolve: {
    alias: { herald: fileURLToPath(new URL('./src/index.ts', import.meta.url)) },
  },
  test: {
    // The JSON report is what .ci/run reads to print a plain "N passed, N failed" line.
    reporters: ['default', 'json'],
    outputFile: { json: '.ci/results/vitest.json' },
    setupFiles: ['tests/setup.ts'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          // unit/ and feature/ (where make:test writes tests that boot the app).
          include: ['tests/unit/**/*.test.ts', 'tests/feature/**/*.test.ts'],
          typecheck: { enabled: true, include: ['tests/types/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
        },
      },
      {
        extends: true,
        // The real CLI in subprocesses: seconds per test on a loaded machine.
        test: { name: 'e2e', include: ['tests/e2e/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000 },
      },
      {
        extends: true,
        test: {
          // Integration suites share the real PostgreSQL, MariaDB and Redis: one file at a time,
          // so no two suites touch the same tables and keys at once.
          name: 'integration',
          include: ['tests/integration/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      { extends: true, test: { name: 'security', include: ['tests/security/**/*.test.ts'], fileParallelism: false, testTimeout: 60_000, hookTimeout: 60_000 } },
    ],
  },
})
