#!/usr/bin/env node
// Compiles the framework (src/) to JavaScript in dist/, so the CLI starts without a TypeScript
// loader: run on install (`prepare`) and before tests and start. One esbuild pass, code
// splitting on: src/index.ts (what `import 'herald'` loads) and the console kernel share
// chunks, so the application and the CLI use one copy of every module, and each artisan
// command stays a chunk of its own that is loaded only when it runs.
import { build } from 'esbuild'
import { existsSync, readdirSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
rmSync(`${root}/dist`, { recursive: true, force: true })
await build({
  absWorkingDir: root,
  entryPoints: ['src/index.ts', 'src/console/kernel.ts'],
  outdir: 'dist',
  outbase: 'src',
  entryNames: '[dir]/[name]',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
})

// The application's browser code: each app/assets/*.ts becomes app/public/build/*.js (one
// bundle with its packages, laravel-echo and socket.io-client for the dashboard), served
// locally by the web server: no CDN.
const assets = `${root}/app/assets`
if (existsSync(assets)) {
  const entryPoints = readdirSync(assets).filter((name) => name.endsWith('.ts')).map((name) => `app/assets/${name}`)
  rmSync(`${root}/app/public/build`, { recursive: true, force: true })
  if (entryPoints.length > 0) {
    await build({
      absWorkingDir: root,
      entryPoints,
      outdir: 'app/public/build',
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: ['chrome120', 'firefox120', 'safari16'],
      minify: true,
      sourcemap: 'linked',
      logLevel: 'warning',
    })
  }
}
