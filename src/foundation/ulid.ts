import { randomBytes } from 'node:crypto'

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'
let lastTime = -1
let lastRandom: number[] = []

/**
 * A ULID: 26 Crockford base-32 characters, 48 bits of milliseconds then 80 random bits, so
 * ids sort by time. Within one millisecond they are monotonic (the random part counts up), so
 * the order of ids is the order they were made in this process.
 */
export function ulid(now = Date.now()): string {
  let random: number[]
  if (now === lastTime) {
    random = lastRandom.slice()
    for (let i = random.length - 1; i >= 0; i--) {
      if (random[i]! < 31) {
        random[i]!++
        break
      }
      random[i] = 0
    }
  } else {
    const bytes = randomBytes(16)
    random = Array.from({ length: 16 }, (_, i) => bytes[i]! & 31)
    lastTime = now
  }
  lastRandom = random
  return ulidTime(now) + random.map((n) => ALPHABET[n]).join('')
}

/** The first 10 characters of every ULID made at `ms`: bounds for ids by time (`ulidTime(ms) + '0'.repeat(16)`). */
export function ulidTime(ms: number): string {
  let time = ''
  for (let i = 0, t = ms; i < 10; i++, t = Math.floor(t / 32)) time = ALPHABET[t % 32]! + time
  return time
}
