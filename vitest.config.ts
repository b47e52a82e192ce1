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
    include: ['tests/**/*.test.ts'],
    setupFiles: ['tests/setup.ts'],
    typecheck: { enabled: true, include: ['tests/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
  },
})
