/**
 * The dashboard in a real browser: Debian's chromium driven by playwright-core, against
 * `artisan serve` (npm start) in a copy of the project, as a new user would see it. Place an
 * order, watch OrderPlaced arrive in the live feed and the confirmation job finish; place a
 * failing order, see it in failed jobs, press Retry; a page whose token is forged is told the
 * private feed is for operators. Screenshots go to tests/e2e/artifacts.
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

describe('the dashboard in chromium', () => {
  it('places an order and shows it live: the feed, the jobs, the orders', { timeout: 90_000 }, async () => {
    const { page, problems, hosts } = await open(1280, 900)
    await page.fill('#email', 'ada@example.test')
    await page.selectOption('#sku', 'MUG-2')
    await page.fill('#quantity', '2')
    await page.click('#order-form button[type=submit]')

    await expect.poll(() => page.locator('#order-result').textContent(), { timeout: 10_000 }).toMatch(/Order #\d+ placed/)
    const id = /#(\d+)/.exec((await page.locator('#order-result').textContent())!)![1]!
    await page.locator('#feed li[data-event="OrderPlaced"]').first().waitFor({ timeout: 10_000 })
    expect(await page.locator('#feed li[data-event="OrderPlaced"] pre').first().textContent()).toContain(`"orderId":${id}`)
    await page.locator('#jobs li[data-name="SendOrderConfirmation"][data-status="DONE"]').waitFor({ timeout: 15_000 })
    await page.locator(`#orders-body tr[data-order="${id}"]`).waitFor({ timeout: 10_000 })
    await expect.poll(() => page.locator(`#orders-body tr[data-order="${id}"] .badge`).textContent(), { timeout: 15_000 }).toBe('notified')
    await page.screenshot({ path: `${artifacts}dashboard-order.png`, fullPage: true })

    // Nothing from a CDN: every request went to this server.
    expect([...hosts]).toEqual([new URL(base).host])
    expect(problems).toEqual([])
    await page.close()
  })

  it('tells a page whose socket is refused the private feed (a forged token) that the feed is for operators', { timeout: 60_000 }, async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    // The page's token forged once the document is parsed, before its module script reads it.
    // (A string: this file has no DOM types. Not page.route(): a document fulfilled by the test
    // loses its address space, and chromium then blocks its socket to 127.0.0.1.)
    await page.addInitScript(`document.addEventListener('readystatechange', () => {
      if (document.readyState === 'interactive') document.querySelector('meta[name="broadcast-token"]').setAttribute('content', '1.${'0'.repeat(64)}')
    })`)
    await page.goto(`${base}/`)
    await page.locator('#feed li[data-refused="403"]').waitFor({ timeout: 15_000 })
    expect(await page.locator('#feed li').textContent()).toContain('The live feed is for operators')
    await page.close()
  })

  it('shows field errors in place for invalid input, and places nothing', { timeout: 60_000 }, async () => {
    const { page, problems } = await open(1280, 900)
    const rows = await page.locator('#orders-body tr[data-order]').count()
    await page.fill('#email', 'not-an-email')
    await page.fill('#quantity', '0')
    await page.click('#order-form button[type=submit]')
    await expect.poll(() => page.locator('[data-error-for="email"]').textContent(), { timeout: 10_000 }).toBe('The email field must be a valid email address.')
    expect(await page.locator('[data-error-for="quantity"]').textContent()).toBe('The quantity field must be at least 1.')
    expect(await page.locator('#email').getAttribute('class')).toContain('invalid')
    await page.reload()
    expect(await page.locator('#orders-body tr[data-order]').count()).toBe(rows)
    // The 422 answer itself is the one console line a browser writes for it.
    expect(problems.filter((problem) => !problem.includes('422'))).toEqual([])
    await page.close()
  })

  it('lands a failing order in failed jobs, and Retry runs it again', { timeout: 90_000 }, async () => {
    const { page, problems } = await open(1280, 900)
    await page.fill('#email', 'grace@example.test')
    await page.check('#fail_warehouse')
    await page.click('#order-form button[type=submit]')
    await expect.poll(() => page.locator('#order-result').textContent(), { timeout: 10_000 }).toMatch(/Order #\d+ placed/)
    const id = /#(\d+)/.exec((await page.locator('#order-result').textContent())!)![1]!

    // Three tries, 1 s and 2 s apart, then failed jobs.
    const failed = page.locator('#failed-jobs-list [data-failed-job]', { hasText: `order #${id}` })
    await failed.waitFor({ timeout: 30_000 })
    expect(await failed.textContent()).toContain('NotifyWarehouse')
    expect(await page.locator('#jobs li[data-name="NotifyWarehouse"][data-status="RELEASED"]').count()).toBeGreaterThanOrEqual(2)
    expect(await page.locator('#jobs li[data-name="NotifyWarehouse"][data-status="FAIL"]').count()).toBeGreaterThanOrEqual(1)
    await page.screenshot({ path: `${artifacts}dashboard-failed-job.png`, fullPage: true })

    const done = await page.locator('#jobs li[data-name="NotifyWarehouse"][data-status="DONE"]').count()
    await failed.locator('button', { hasText: 'Retry' }).click()
    await failed.waitFor({ state: 'detached', timeout: 10_000 })
    await expect.poll(() => page.locator('#jobs li[data-name="NotifyWarehouse"][data-status="DONE"]').count(), { timeout: 15_000 }).toBe(done + 1)
    await expect.poll(() => page.locator(`#orders-body tr[data-order="${id}"] .badge`).textContent(), { timeout: 15_000 }).toBe('notified')
    expect(problems).toEqual([])

    // The same page at a phone's width.
    await page.setViewportSize({ width: 390, height: 844 })
    await page.screenshot({ path: `${artifacts}dashboard-phone.png`, fullPage: true })
    // No sideways scrolling: the page fits the phone. (A string: this file has no DOM types.)
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth')
    expect(overflow).toBe(0)
    await page.close()
  })
})
