/**
 * The dashboard's batches in a real browser (chromium via playwright-core, against `artisan
 * serve` in a copy of the project, as dashboard-browser.test.ts does): "Start an import"
 * dispatches a batch, and its progress bar moves as the embedded worker runs the jobs, without
 * a reload, up to 100%. Screenshot in tests/e2e/artifacts.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { copyProject } from '../support/project-copy.ts'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const artifacts = fileURLToPath(new URL('./artifacts/', import.meta.url))
const copy = copyProject()
let server: ChildProcess
let output = ''
let base = ''
let browser: Browser

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`No chromium at ${CHROMIUM}: install it (apt-get install chromium; .ci/run does) or set CHROMIUM_PATH.`)
  mkdirSync(artifacts, { recursive: true })
  server = spawn(process.execPath, ['bin/artisan', 'serve', '--port', '0'], { cwd: copy.root, env: { ...process.env, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] })
  server.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  server.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  base = await vi.waitFor(
    () => {
      const url = /Herald is serving (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1]
      if (url === undefined) throw new Error(`artisan serve has not started yet:\n${output}`)
      return url
    },
    { timeout: 30_000, interval: 100 },
  )
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  })
})

afterAll(async () => {
  await browser?.close()
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server.once('exit', resolve))
    server.kill('SIGTERM')
    await exited
  }
  copy.remove()
})

/** A page that records what went wrong in it, and every host it asked for something. */
async function open(width: number, height: number): Promise<{ page: Page; problems: string[]; hosts: Set<string> }> {
  const page = await browser.newPage({ viewport: { width, height } })
  const problems: string[] = []
  const hosts = new Set<string>()
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`)
  })
  page.on('request', (request) => hosts.add(new URL(request.url()).host))
  await page.goto(`${base}/`)
  await page.locator('#connection[data-state="live"]').waitFor({ timeout: 10_000 })
  return { page, problems, hosts }
}

describe('batches on the dashboard in chromium', () => {
  it('shows a started import batch with a live progress bar up to 100%', { timeout: 90_000 }, async () => {
    const { page, problems } = await open(1280, 900)
    await page.locator('#batches-list .empty').waitFor({ timeout: 10_000 })
    await page.click('#start-batch-form button[type=submit]')
    const bar = page.locator('#batches-list li.batch').first().locator('progress')
    await bar.waitFor({ timeout: 10_000 })
    const seen = new Set<string>()
    await expect
      .poll(
        async () => {
          const value = (await bar.getAttribute('value')) ?? ''
          seen.add(value)
          return value
        },
        { timeout: 60_000, interval: 50 },
      )
      .toBe('100')
    // It moved in steps on the open page (no reload), as the worker finished jobs.
    expect([...seen].some((value) => Number(value) > 0 && Number(value) < 100)).toBe(true)
    expect(await page.locator('#batches-list li.batch').first().getAttribute('data-state')).toBe('finished')
    expect(await page.locator('#batches-list li.batch .batch-head').first().textContent()).toContain('10/10 jobs')
    await page.screenshot({ path: `${artifacts}dashboard-batch.png`, fullPage: true })
    expect(problems).toEqual([])
    await page.close()
  })
})
