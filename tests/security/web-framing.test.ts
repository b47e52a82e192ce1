/**
 * Clickjacking on "Place order" and "Retry", tried in real Chromium: another site (another
 * origin on loopback) frames the dashboard. With Herald's headers the browser refuses to
 * render it (CSP frame-ancestors 'self', X-Frame-Options SAMEORIGIN), while the dashboard's own
 * origin may still frame it; with the headers turned off the same attack page shows the form,
 * which is the defect the headers fix.
 */
import { createServer, type Server } from 'node:http'
import { existsSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bootApplication, createMigrator, generateAppKey, type Application, type HeraldConfig } from 'herald'
import { createApplicationHttpKernel } from '../../src/http/http-kernel.ts'
import { freshDatabase, type FreshDatabase } from '../support/fresh-database.ts'

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const root = fileURLToPath(new URL('../..', import.meta.url))
const framePage = (url: string) => `<!doctype html><meta charset="utf-8"><title>framing</title><iframe src="${url}" width="1000" height="800"></iframe>`

let database: FreshDatabase
let browser: Browser
let attacker: Server
let attackerBase = ''
let victim = ''
const apps: Application[] = []

async function serveDemo(configure?: (config: HeraldConfig) => void): Promise<string> {
  const app = await bootApplication({
    basePath: root,
    envFile: false,
    env: {
      LOG_LEVEL: 'silent',
      DB_DATABASE: (database.connection as { filename: string }).filename,
      QUEUE_CONNECTION: 'database',
      BROADCAST_CONNECTION: 'null',
      APP_KEY: generateAppKey(),
    },
    ...(configure ? { configure } : {}),
  })
  apps.push(app)
  await (await createMigrator(app)).latest()
  const kernel = await createApplicationHttpKernel(app)
  const base = `http://127.0.0.1:${(await kernel.listen(0, '127.0.0.1')).port}`
  // The dashboard's own origin framing it: what frame-ancestors 'self' still allows.
  kernel.routes.get('/__frame', (_request, response) => {
    response.type('html').send(framePage(`${base}/`))
  })
  return base
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`No chromium at ${CHROMIUM}: install it (apt-get install chromium; .ci/run does) or set CHROMIUM_PATH.`)
  database = await freshDatabase('sqlite')
  victim = await serveDemo()
  // Another site: a page framing `/frame?target=<url>`, on another port, so another origin.
  attacker = createServer((request, response) => {
    const target = new URL(request.url ?? '/', 'http://attacker').searchParams.get('target') ?? ''
    response.writeHead(200, { 'content-type': 'text/html' }).end(framePage(target))
  })
  await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve))
  attackerBase = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  })
})

afterAll(async () => {
  await browser?.close()
  await new Promise((resolve) => (attacker ? attacker.close(resolve) : resolve(undefined)))
  for (const app of apps) await app.shutdown()
  await database?.drop()
})

/** Opens `url` and reports what its iframe shows: the frame's URL and whether the order form rendered. */
async function framed(url: string): Promise<{ frameUrl: string; hasForm: boolean }> {
  const page = await browser.newPage()
  try {
    // `load` waits for the iframe too, whether it rendered or was refused.
    await page.goto(url, { waitUntil: 'load' })
    const frame = await (await page.waitForSelector('iframe')).contentFrame()
    if (frame === null) throw new Error('the iframe has no frame')
    return { frameUrl: frame.url(), hasForm: (await frame.locator('#order-form').count()) === 1 }
  } finally {
    await page.close()
  }
}

describe('framing the dashboard', () => {
  it('another origin cannot: Chromium refuses to render it', { timeout: 60_000 }, async () => {
    const result = await framed(`${attackerBase}/frame?target=${encodeURIComponent(`${victim}/`)}`)
    expect(result.hasForm).toBe(false)
    expect(result.frameUrl).not.toBe(`${victim}/`)
  })

  it('its own origin can', { timeout: 60_000 }, async () => {
    const result = await framed(`${victim}/__frame`)
    expect(result.frameUrl).toBe(`${victim}/`)
    expect(result.hasForm).toBe(true)
  })

  it('with headers: false another origin can, which is the clickjacking the defaults prevent', { timeout: 60_000 }, async () => {
    const bare = await serveDemo((config) => {
      config.http = { ...config.http, headers: false }
    })
    const result = await framed(`${attackerBase}/frame?target=${encodeURIComponent(`${bare}/`)}`)
    expect(result.frameUrl).toBe(`${bare}/`)
    expect(result.hasForm).toBe(true)
  })
})
