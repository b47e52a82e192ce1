import { describe, expect, it } from 'vitest'
import { isConnectionError, safeAddress, ServiceUnreachableError } from '../../src/foundation/service-errors.ts'
import { ReconnectTracker, reconnectDelay } from '../../src/queue/reconnect.ts'

describe('ReconnectTracker', () => {
  const policy = { maxDisconnected: 10, baseDelay: 100, maxDelay: 1_000 }

  it('retries connection errors with growing, capped delays and warns once per outage', () => {
    let now = 0
    const tracker = new ReconnectTracker(policy, () => now)
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })
    const decisions = [1, 2, 3, 4, 5, 6].map(() => tracker.failed(refused))
    expect(decisions.map((d) => d.retry && d.first)).toEqual([true, false, false, false, false, false])
    const delays = decisions.map((d) => (d.retry ? d.delay : -1))
    expect(delays[0]).toBeGreaterThanOrEqual(50)
    expect(delays[0]).toBeLessThanOrEqual(100)
    expect(Math.max(...delays)).toBeLessThanOrEqual(1_000)
    expect(delays[5]).toBeGreaterThanOrEqual(500)
    now = 10_000
    expect(tracker.failed(refused)).toEqual({ retry: false })
    tracker.succeeded()
    expect(tracker.disconnected).toBe(false)
    expect(tracker.failed(refused)).toMatchObject({ retry: true, first: true })
  })

  it('gives up at once on an error that is not about the connection', () => {
    const tracker = new ReconnectTracker(policy)
    expect(tracker.failed(new Error('syntax error at or near "slect"'))).toEqual({ retry: false })
    expect(tracker.disconnected).toBe(false)
  })

  it('never gives up when maxDisconnected is 0', () => {
    let now = 0
    const tracker = new ReconnectTracker({ ...policy, maxDisconnected: 0 }, () => now)
    tracker.failed(new Error('Connection terminated unexpectedly'))
    now = 1e9
    expect(tracker.failed(new Error('Connection terminated unexpectedly')).retry).toBe(true)
  })

  it('jitters within the upper half of the capped exponential delay', () => {
    expect(reconnectDelay(1, policy, () => 0)).toBe(50)
    expect(reconnectDelay(1, policy, () => 1)).toBe(100)
    expect(reconnectDelay(20, policy, () => 0)).toBe(500)
  })
})

describe('service errors', () => {
  it('recognises connection errors by code, message, cause and AggregateError members', () => {
    expect(isConnectionError(Object.assign(new Error('x'), { code: '57P01' }))).toBe(true)
    expect(isConnectionError(new Error('wrapped', { cause: Object.assign(new Error('y'), { code: 'ECONNRESET' }) }))).toBe(true)
    expect(isConnectionError(new AggregateError([new Error('connect ECONNREFUSED ::1:6379')]))).toBe(true)
    expect(isConnectionError(new Error('duplicate key value violates unique constraint'))).toBe(false)
    expect(isConnectionError('ECONNREFUSED as a string')).toBe(false)
  })

  it('names the service and address, never the password', () => {
    const address = safeAddress('redis://user:hunter2@cache.internal:6380/0')
    const error = new ServiceUnreachableError('Redis', address, new Error('connect ECONNREFUSED 10.0.0.1:6380\n    at stack'))
    expect(error.message).toBe('Redis at redis://cache.internal:6380 is unreachable (connect ECONNREFUSED 10.0.0.1:6380)')
    expect(error.message).not.toContain('hunter2')
    expect(safeAddress(undefined, '127.0.0.1', 5432)).toBe('127.0.0.1:5432')
  })
})
