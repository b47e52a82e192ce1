#!/usr/bin/env node
// Run before `npm test`: the dashboard's browser tests drive Debian's chromium. When it is
// missing and this is Debian as root, install it with apt-get (once, about a minute);
// otherwise say in one line what to do. CHROMIUM_PATH names another browser binary.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'

const path = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
if (!existsSync(path)) {
  const root = typeof process.getuid === 'function' && process.getuid() === 0
  if (!root || !existsSync('/usr/bin/apt-get')) {
    console.error(`No chromium at ${path}: install Debian's chromium (sudo apt-get install chromium) or set CHROMIUM_PATH.`)
    process.exit(1)
  }
  console.log('Installing chromium for the browser tests (apt-get install chromium)…')
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  const install = () => execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { stdio: 'inherit', env })
  try {
    install()
  } catch {
    execFileSync('apt-get', ['update'], { stdio: 'inherit', env })
    install()
  }
}
